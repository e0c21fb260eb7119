"""Twilio's inbound SMS webhook: `POST /webhooks/twilio/inbound`, signed with the auth token
of the account that owns the number written to (`To`)."""

from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, post

from application.inbound import Inbound, InboundSms, Received
from interfaces.api.webhooks import TwilioSignatures, forged, twilio_form

EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'


class InboundWebhookController(Controller):
    path = "/webhooks/twilio"
    tags = ["webhooks"]
    include_in_schema = False
    opt = {"exclude_from_auth": True}  # Twilio signs its requests; it has no API key

    @post("/inbound", status_code=200)
    async def inbound(
        self, request: Request[Any, Any, Any], signatures: TwilioSignatures, inbound: Inbound
    ) -> Response[Any]:
        data = await twilio_form(request)
        if not request.headers.get("x-twilio-signature"):
            return forged()
        sms = InboundSms(
            to=str(data.get("To") or ""),
            from_=str(data.get("From") or ""),
            body=str(data.get("Body") or ""),
            sid=str(data.get("MessageSid") or data.get("SmsSid") or ""),
        )
        received = await anyio.to_thread.run_sync(
            inbound.receive, sms, signatures.check(request, data)
        )
        if received is Received.NOT_SIGNED:
            return forged()
        # Recorded (or already), or to a number nobody here owns: Twilio is not to retry.
        return Response(content=EMPTY_TWIML, status_code=200, media_type="text/xml")
