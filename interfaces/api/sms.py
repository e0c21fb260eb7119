"""/v1/sms: send one message, read one message (by message_id or Twilio SID)."""

import re
import time
from uuid import UUID

from litestar import Controller, get, post

from application.errors import NotFound
from application.sms import SendSms, SingleSms
from domain import ids
from interfaces.api.body import validate_body
from interfaces.api.responses import AUTHENTICATED, WITH_BODY, errors
from projections.queries import Queries
from projections.views import MessageView

TWILIO_SID = re.compile(r"[A-Za-z0-9]{2,64}")


class SmsController(Controller):
    path = "/v1/sms"
    tags = ["sms"]

    @post(
        "/",
        operation_id="sendSms",
        responses=errors(*WITH_BODY),
        status_code=201,
        before_request=validate_body(SendSms),
        sync_to_thread=True,
    )
    def send(
        self,
        data: SendSms,
        account_id: UUID,
        sms: SingleSms,
        queries: Queries,
        sms_wait_seconds: float,
    ) -> MessageView:
        """Records the message; answers once Twilio has its SID, or `pending` after a wait."""
        message_id = sms.send(account_id, data)
        deadline = time.monotonic() + sms_wait_seconds
        while True:
            view = queries.message(account_id, message_id, None)
            assert view is not None
            if view.twilio_sid or view.status != "pending" or view.deferred_until:
                return view
            if time.monotonic() >= deadline:
                return view
            time.sleep(0.01)

    @get(
        "/{message_id:str}",
        operation_id="getSms",
        responses=errors(*AUTHENTICATED, 404),
        sync_to_thread=True,
    )
    def read(self, message_id: str, account_id: UUID, queries: Queries) -> MessageView:
        uuid = ids.parse_public_id(ids.MESSAGE, message_id)
        # Anything else is looked up as a Twilio SID if it can be one (never a NUL to PostgreSQL).
        sid = message_id if uuid is None and TWILIO_SID.fullmatch(message_id) else None
        view = queries.message(account_id, uuid, sid) if uuid or sid else None
        if view is None:
            raise NotFound(f"message {message_id} not found")
        return view
