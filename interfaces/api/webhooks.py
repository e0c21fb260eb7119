"""Twilio's webhooks. Each request's `X-Twilio-Signature` is checked against the public URL
and the auth token of the account the message belongs to (twilio's RequestValidator); a
bad one gets 403 and nothing is recorded."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

from litestar import Controller, Request, Response, post
from twilio.request_validator import RequestValidator

from application.callbacks import Outcome, StatusCallback
from domain import ids
from domain.text import escaped
from interfaces.api.errors import error_response
from interfaces.api.sms import TWILIO_SID
from interfaces.callback_batcher import CallbackBatcher
from interfaces.twilio_credentials import TwilioCredentials

ERROR_CODE = re.compile(r"[0-9]{1,6}")  # Twilio's codes have 5 digits; ASCII ones only


class TwilioSignatures:
    """Checks Twilio's signatures: on the URL Twilio called (Herald's public URL), with the
    auth token of the account that sent the message."""

    def __init__(self, public_url: str, credentials: TwilioCredentials) -> None:
        self.public_url = public_url
        self.credentials = credentials

    def check(
        self, request: Request[Any, Any, Any], form: dict[str, Any]
    ) -> Callable[[UUID], bool]:
        """Whether the request is signed with a given account's auth token. The account is
        the message's owner, looked up with the batch the callback is recorded in; the
        request's own `AccountSid` chooses nothing."""
        signature = request.headers.get("x-twilio-signature", "")
        url = self.public_url + request.url.path
        if request.url.query:
            url += "?" + request.url.query

        def signed_by(account_id: UUID) -> bool:
            _, token = self.credentials.for_account(account_id)
            # No token, no signature anyone could check: an empty key would sign anything.
            return bool(token) and bool(RequestValidator(token).validate(url, form, signature))

        return signed_by


@dataclass(frozen=True)
class StatusWebhook:
    """What the status webhook uses, as one dependency: Litestar resolves two or more in an
    anyio task group, which cost ~100 µs of the event loop per callback (bench.callbacks)."""

    signatures: TwilioSignatures
    callbacks: CallbackBatcher


async def twilio_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The parameters Twilio posted. Parsed here rather than by Litestar's form extractor
    (a fifth of the time per call); blank values kept, since Twilio signs them too."""
    body = (await request.body()).decode(errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def forged() -> Response[Any]:
    return error_response(403, "forbidden", "invalid Twilio signature")


class WebhookController(Controller):
    path = "/webhooks/twilio"
    tags = ["webhooks"]
    include_in_schema = False
    opt = {"exclude_from_auth": True}  # Twilio signs its requests; it has no API key

    @post("/status/{message_id:str}", status_code=200)
    async def status(
        self,
        message_id: str,
        request: Request[Any, Any, Any],
        status_webhook: StatusWebhook,
    ) -> Response[Any]:
        data = await twilio_form(request)
        if not request.headers.get("x-twilio-signature"):
            return forged()
        uuid = ids.parse_public_id(ids.MESSAGE, message_id)
        status = str(data.get("MessageStatus") or data.get("SmsStatus") or "")
        if uuid is None or not status:
            return error_response(404, "not_found", f"message {message_id} not found")
        code = str(data.get("ErrorCode") or "")
        sid = str(data.get("MessageSid") or data.get("SmsSid") or "")
        # Signed is not the same as well-formed: what is recorded must fit the read models.
        callback = StatusCallback(
            message_id=uuid,
            signed_by=status_webhook.signatures.check(request, data),
            status=escaped(status, 40),
            twilio_sid=sid if TWILIO_SID.fullmatch(sid) else "",
            error_code=int(code) if ERROR_CODE.fullmatch(code) else None,
            error_message=escaped(str(data["ErrorMessage"]), 500)
            if data.get("ErrorMessage")
            else None,
        )
        outcome = await status_webhook.callbacks.record(callback)
        if outcome is Outcome.NOT_THE_SENDERS:
            return forged()
        if outcome is Outcome.UNKNOWN_MESSAGE:
            return error_response(404, "not_found", f"message {message_id} not found")
        return Response(content=b"", status_code=204)
