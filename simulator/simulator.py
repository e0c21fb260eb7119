"""The simulator's behaviour, apart from HTTP: auth, faults, validation, messages, inbound."""

import asyncio
import base64
import copy
import hmac
import random
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.segments import count_segments
from simulator.callbacks import Webhooks, plan
from simulator.config import SimulatorConfig, runtime_options, updated
from simulator.listing import ListQuery, list_page
from simulator.resources import API_VERSION, error_body, message_resource
from simulator.store import Message, MessageStore, new_message_sid

E164 = re.compile(r"^\+[1-9]\d{1,14}$")

Answer = tuple[int, dict[str, Any]]  # HTTP status, JSON body


class Simulator:
    def __init__(self, config: SimulatorConfig) -> None:
        self._initial = copy.deepcopy(config)
        self.config = copy.deepcopy(config)
        self.store = MessageStore()
        self.webhooks = Webhooks(config.accounts, now=self.now)
        self.rng = random.Random(config.seed)

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.config.clock_offset)

    # Twilio's API

    def authenticate(self, account_sid: str, authorization: str | None) -> bool:
        """HTTP Basic auth as the account the path names."""
        scheme, _, encoded = (authorization or "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:  # not base64, or not UTF-8
            return False
        token = self.config.accounts.get(account_sid)
        return (
            scheme.lower() == "basic"
            and user == account_sid
            and token is not None
            and hmac.compare_digest(password.encode(), token.encode())
        )

    async def create_message(self, account_sid: str, form: Mapping[str, str]) -> Answer:
        if self.config.latency:
            await asyncio.sleep(self.config.latency)
        fault = self._fault(form.get("To", ""))
        if fault and not (fault >= 500 and self.config.create_before_fail):
            return fault, _fault_body(fault)
        invalid = self._invalid(form)
        if invalid:
            return 400, error_body(invalid, 400)
        message = self._record(account_sid, form)
        if fault:
            return fault, _fault_body(fault)
        return 201, message_resource(message)

    def fetch_message(self, account_sid: str, sid: str) -> Answer:
        message = self.store.get(sid)
        if message is None or message.account_sid != account_sid:
            uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
            return 404, error_body(20404, 404, f"The requested resource {uri} was not found")
        return 200, message_resource(message)

    def list_messages(self, account_sid: str, query: ListQuery) -> Answer:
        return 200, list_page(self.store, account_sid, query)

    def _fault(self, to: str) -> int | None:
        if self.config.fail_to.get(to):
            return self.config.fail_to[to].pop(0)
        if self.config.fail_next:
            return self.config.fail_next.pop(0)
        if self.config.error_rate and self.rng.random() < self.config.error_rate:
            return self.config.error_status
        return None

    def _invalid(self, form: Mapping[str, str]) -> int | None:
        """The Twilio error code for a create that must be refused."""
        to = form.get("To")
        if not to:
            return 21604
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 21603
        if not form.get("Body"):
            return 21602
        if not E164.match(to):
            return 21211
        return self.config.reject_to.get(to)

    def _record(self, account_sid: str, form: Mapping[str, str]) -> Message:
        now = self.now()
        message = Message(
            sid=new_message_sid(),
            account_sid=account_sid,
            to=form["To"],
            from_=form.get("From") or None,
            messaging_service_sid=form.get("MessagingServiceSid") or None,
            body=form["Body"],
            num_segments=count_segments(form["Body"]).count,
            status_callback=form.get("StatusCallback") or None,
            date_created=now,
            date_updated=now,
        )
        self.store.add(message)
        notify = self.config.callbacks_enabled and message.status_callback is not None
        self.webhooks.run(message, plan(self.config, self.rng), notify)
        return message

    # inbound messages

    async def inbound(
        self, url: str, from_: str, to: str, body: str, account: str | None
    ) -> Answer:
        """POST an incoming SMS to `url` as Twilio would; answer what came back."""
        account_sid = account or next(iter(self.config.accounts))
        if account_sid not in self.config.accounts:
            return 400, {"error": f"unknown account {account_sid}"}
        sid = new_message_sid()
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": account_sid,
            "MessagingServiceSid": "",
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": str(count_segments(body).count),
            "FromCountry": "GB",
            "ApiVersion": API_VERSION,
        }
        try:
            response = await self.webhooks.post(url, params, account_sid)
        except Exception as error:
            return 502, {"status": None, "body": "", "error": repr(error)}
        return 200, {"status": response.status_code, "body": response.text}

    # control and inspection

    def messages(self) -> list[dict[str, Any]]:
        return [_inspect(message) for message in self.store.all()]

    def options(self) -> dict[str, Any]:
        return runtime_options(self.config)

    def update_options(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """ValueError when an option is unknown or a value is wrong."""
        self.config = updated(self.config, changes)
        if "seed" in changes:
            self.rng.seed(self.config.seed)
        return self.options()

    def reset(self) -> dict[str, Any]:
        """Forget every message (and its callbacks still due); restore the first config."""
        self.store.clear()
        self.webhooks.forget_all()
        self.config = copy.deepcopy(self._initial)
        self.rng.seed(self.config.seed)
        return self.options()


def _fault_body(status: int) -> dict[str, Any]:
    code = 20429 if status == 429 else 20500 if status >= 500 else status
    return error_body(code, status)


def _inspect(message: Message) -> dict[str, Any]:
    return {
        "sid": message.sid,
        "account_sid": message.account_sid,
        "to": message.to,
        "from": message.from_,
        "body": message.body,
        "status": message.status,
        "error_code": message.error_code,
        "num_segments": message.num_segments,
        "date_created": message.date_created.isoformat(timespec="microseconds"),
        "status_callback": message.status_callback,
        "callbacks": [
            {"status": record.status, "http_status": record.http_status}
            for record in message.callbacks
        ],
    }
