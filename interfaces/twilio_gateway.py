"""The Twilio gateway: the official SDK, its answers and errors mapped to Herald's terms.

429, Twilio's 20429 and 30001 (queue overflow) mean the message was certainly not
created: try later. A 5xx or a network error after the request went out may hide a
created message: the dispatcher looks in Twilio's list before trying again. Any other
4xx with an error code is final for that message.
"""

import re
import threading
from datetime import datetime
from uuid import UUID

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from application.ports import SubmitOutcome
from domain.text import escaped
from interfaces.twilio_credentials import TwilioCredentials

THROTTLED = frozenset({20429, 30001})
ERROR_CODE = re.compile(r"[1-9][0-9]{0,5}")  # Twilio error codes, ASCII digits only


class TwilioGateway:
    def __init__(self, credentials: TwilioCredentials, base_url: str, timeout: float = 5.0):
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()  # a requests session is not shared between threads
        self._async_clients: dict[tuple[str, str], Client] = {}

    def _client(self, account_id: UUID) -> Client:
        sid, token = self.credentials.for_account(account_id)
        clients: dict[tuple[str, str], Client] = self._local.__dict__.setdefault("clients", {})
        client = clients.get((sid, token))
        if client is None:
            client = Client(sid, token, http_client=TwilioHttpClient(timeout=self.timeout))
            client.api.base_url = self.base_url
            clients[(sid, token)] = client
        return client

    def warm(self) -> None:
        """Build this thread's client for the default account and load the SDK's lazily
        imported Messages API, so the first submission is as quick as the rest."""
        sid, token = self.credentials.default
        clients: dict[tuple[str, str], Client] = self._local.__dict__.setdefault("clients", {})
        if (sid, token) not in clients:
            client = Client(sid, token, http_client=TwilioHttpClient(timeout=self.timeout))
            client.api.base_url = self.base_url
            clients[(sid, token)] = client
        _ = clients[(sid, token)].api.v2010.account.messages

    async def submit_async(
        self, account_id: UUID, to: str, from_: str, body: str, status_callback: str
    ) -> SubmitOutcome:
        """Create the message on the SDK's aiohttp client (a third of the CPU per request
        of its requests client, which `find` still uses)."""
        try:
            message = await self._async_client(account_id).messages.create_async(
                to=to, from_=from_, body=body, status_callback=status_callback
            )
        except TwilioRestException as error:
            return outcome_of(error)
        except aiohttp.ClientConnectorError as error:
            return SubmitOutcome("deferred", error_message=f"could not connect: {error}")
        except (aiohttp.ClientError, TimeoutError) as error:
            return SubmitOutcome("uncertain", error_message=f"network error: {error}")
        return SubmitOutcome("queued", twilio_sid=message.sid)

    def _async_client(self, account_id: UUID) -> Client:
        # Only ever called from the dispatcher's one event loop thread.
        sid, token = self.credentials.for_account(account_id)
        client = self._async_clients.get((sid, token))
        if client is None:
            http = AsyncTwilioHttpClient(timeout=self.timeout)
            client = Client(sid, token, http_client=http)
            client.api.base_url = self.base_url
            self._async_clients[(sid, token)] = client
        return client

    async def aclose(self) -> None:
        """Close the async clients' sessions (on the loop that used them)."""
        for client in self._async_clients.values():
            http = client.http_client
            session = getattr(http, "session", None)
            if session is not None:
                await session.close()
        self._async_clients.clear()

    def find(self, account_id: UUID, to: str, from_: str, body: str, since: datetime) -> str | None:
        messages = self._client(account_id).messages.list(
            to=to, from_=from_, date_sent_after=since, limit=200
        )
        for message in messages:
            if message.body == body:
                return message.sid
        return None


def outcome_of(error: TwilioRestException) -> SubmitOutcome:
    # Recorded on the message: kept to what the read models hold (an int4 code, plain text).
    raw_code = str(error.code or "")
    code = int(raw_code) if ERROR_CODE.fullmatch(raw_code) else None
    message = escaped(str(error.msg or error), 500)
    if error.status == 429 or code in THROTTLED:
        return SubmitOutcome("deferred", error_code=code or 20429, error_message=message)
    if error.status >= 500:
        return SubmitOutcome("uncertain", error_code=code, error_message=message)
    return SubmitOutcome("rejected", error_code=code, error_message=message)
