"""Accounts, API keys, agents and sender numbers: the directory every request is checked against."""

import hashlib
import re
import secrets
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec

from application.constraints import Name, Phone, SystemPrompt, count, documented
from application.errors import Conflict, NotFound, ValidationFailed, problem
from application.fields import text_problems
from application.ports import ReadModels, TwilioSecrets
from application.store import EventStore, IntegrityError
from domain import ids
from domain.account import Account, ApiKey
from domain.agent import Agent, SenderNumber, number_id
from domain.phone import E164, PhoneValidator
from domain.quiet_hours import DEFAULT_QUIET_HOURS, InvalidQuietHours, parse_clock_time
from domain.replies import KINDS, RESPONDER_URL_CHARS, responder_problems
from domain.text import MESSAGE_CHARS, NAME_CHARS, SECRET_CHARS, SYSTEM_PROMPT_CHARS, escaped

MAX_MPS = 1000
TWILIO_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
T = TypeVar("T")


class CreateAgent(msgspec.Struct):
    name: Name
    system_prompt: SystemPrompt = ""


class SetResponder(msgspec.Struct):
    """Who answers replies to the agent's numbers: `none` (store them only), `webhook`
    (POST the thread to `url`) or `openai` (the endpoint in the settings)."""

    kind: Annotated[
        str, documented("who answers replies: none, webhook or openai", enum=list(KINDS))
    ]
    url: Annotated[
        str | None,
        documented(
            "a webhook responder's http(s) URL; null for the others",
            examples=["https://agents.example.com/herald"],
            max_length=RESPONDER_URL_CHARS,
        ),
    ] = None


class AddNumber(msgspec.Struct):
    phone_number: Phone
    agent_id: str
    mps: Annotated[int, count(1, MAX_MPS, "segments per second")] = 1


class NumberUnavailable(Conflict):
    code = "number_unavailable"


def hash_secret(secret: str) -> str:
    # Secrets are 256 random bits, so a fast hash is enough; no password stretching needed.
    return hashlib.sha256(secret.encode()).hexdigest()


class Directory:
    def __init__(
        self, store: EventStore, read_models: ReadModels, secrets: TwilioSecrets | None = None
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.secrets = secrets
        self._any_valid_phone = PhoneValidator(frozenset())

    def _record(self, *aggregates: Any) -> None:
        position = self.store.record(*aggregates)
        self.read_models.catch_up(until=position)

    def create_account(self, name: str) -> UUID:
        errors = text_problems("name", name, NAME_CHARS)
        if errors:
            raise ValidationFailed("invalid account", errors)
        account = Account(name=name)
        # Recorded explicitly, so the history says which window held from the start.
        default = DEFAULT_QUIET_HOURS
        account.set_quiet_hours(f"{default.start:%H:%M}", f"{default.end:%H:%M}")
        self._record(account)
        return account.id

    def set_quiet_hours(self, account_id: UUID, window: tuple[str, str] | None) -> None:
        """The account's quiet hours: ('HH:MM', 'HH:MM') in the recipient's local time, or
        None to turn them off."""
        start, end = window if window is not None else (None, None)
        if start is not None and end is not None:
            errors = []
            for field, value in (("quiet_hours.start", start), ("quiet_hours.end", end)):
                try:
                    parse_clock_time(value)
                except InvalidQuietHours as error:
                    errors.append(problem(field, value, "invalid_time", str(error)))
            if not errors and start == end:
                errors.append(
                    problem("quiet_hours.end", end, "empty_window", "must differ from start")
                )
            if errors:
                raise ValidationFailed("invalid quiet hours", errors)
        account = self._owned(Account, account_id, account_id, "account", owner="id")
        account.set_quiet_hours(start, end)
        self._record(account)

    def set_help_text(self, account_id: UUID, text: str | None) -> None:
        """What HELP and INFO are answered with (one SMS); None: the default, which names
        the account and says how to opt out."""
        if text is not None:
            errors = text_problems("help_text", text, MESSAGE_CHARS, multiline=True)
            if errors:
                raise ValidationFailed("invalid help text", errors)
        account = self._owned(Account, account_id, account_id, "account", owner="id")
        account.set_help_text(text)
        self._record(account)

    def account_exists(self, account_id: UUID) -> bool:
        return self.store.find(Account, account_id) is not None

    def set_twilio_account(self, account_id: UUID, account_sid: str, auth_token: str) -> None:
        """The account sends through its own Twilio account from now on."""
        errors = []
        if not TWILIO_ACCOUNT_SID.fullmatch(account_sid):
            errors.append(
                problem("account_sid", account_sid, "invalid", "must be AC and 32 hex digits")
            )
        if text_problems("auth_token", auth_token, SECRET_CHARS):  # never shown back
            reason = f"must be 1 to {SECRET_CHARS} characters, none a control character"
            errors.append(problem("auth_token", "", "invalid", reason))
        if errors:
            raise ValidationFailed("invalid Twilio credentials", errors)
        account = self._owned(Account, account_id, account_id, "account", owner="id")
        assert self.secrets is not None, "no secret store configured"
        self.secrets.store(account_id, account_sid, auth_token)
        account.use_twilio_account(account_sid)
        self._record(account)

    def create_key(self, account_id: UUID) -> str:
        """A new key as `KEY_ID:KEY_SECRET`; the secret is shown here once and never stored."""
        if not self.account_exists(account_id):
            raise NotFound(f"account {account_id} not found")
        secret = secrets.token_urlsafe(32)
        key = ApiKey(account_id=account_id, secret_hash=hash_secret(secret))
        self._record(key)
        return f"{ids.public_id(ids.KEY, key.id)}:{secret}"

    def revoke_key(self, account_id: UUID, key_id: str) -> None:
        key = self._owned(ApiKey, ids.parse_public_id(ids.KEY, key_id), account_id, "key")
        key.revoke()
        self._record(key)

    def create_agent(self, account_id: UUID, command: CreateAgent) -> UUID:
        errors = text_problems("name", command.name, NAME_CHARS)
        errors += text_problems(
            "system_prompt",
            command.system_prompt,
            SYSTEM_PROMPT_CHARS,
            multiline=True,
            required=False,
        )
        if errors:
            raise ValidationFailed("invalid agent", errors)
        agent = Agent(account_id=account_id, name=command.name, system_prompt=command.system_prompt)
        self._record(agent)
        return agent.id

    def set_responder(self, account_id: UUID, agent_id: str, command: SetResponder) -> None:
        errors = [
            problem(p.field, escaped(value) if isinstance(value, str) else value, p.code, p.reason)
            for p in responder_problems(command.kind, command.url)
            for value in [command.kind if p.field == "kind" else command.url]
        ]
        if errors:
            raise ValidationFailed("invalid responder", errors)
        agent = self._owned(Agent, ids.parse_public_id(ids.AGENT, agent_id), account_id, "agent")
        agent.set_responder(command.kind, command.url)
        self._record(agent)

    def add_number(self, account_id: UUID, command: AddNumber) -> UUID:
        errors = []
        phone_problem = self._any_valid_phone.problem(command.phone_number)
        if phone_problem is not None and phone_problem.code != "country_not_allowed":
            errors.append(
                problem(
                    "phone_number", command.phone_number, phone_problem.code, phone_problem.reason
                )
            )
        if not 1 <= command.mps <= MAX_MPS:
            errors.append(problem("mps", command.mps, "out_of_range", f"must be 1 to {MAX_MPS}"))
        agent_uuid = self.agent_of(account_id, command.agent_id)
        if agent_uuid is None:
            errors.append(problem("agent_id", command.agent_id, "unknown_agent", "no such agent"))
        if errors:
            raise ValidationFailed("invalid number", errors)
        assert agent_uuid is not None
        number = SenderNumber(
            account_id=account_id,
            agent_id=agent_uuid,
            phone_number=command.phone_number,
            mps=command.mps,
        )
        try:
            self._record(number)
        except IntegrityError:
            # A number is imported once, in whichever account; the answer is the same either
            # way, so that it does not tell whether (or which) other account holds it.
            message = "this number cannot be imported"
            raise NumberUnavailable(
                message,
                [problem("phone_number", command.phone_number, NumberUnavailable.code, message)],
            ) from None
        return number.id

    def agent_of(self, account_id: UUID, agent_id: str) -> UUID | None:
        """The agent's UUID when it exists in this account, else None."""
        uuid = ids.parse_public_id(ids.AGENT, agent_id)
        try:
            return self._owned(Agent, uuid, account_id, "agent").id
        except NotFound:
            return None

    def number_problem(self, account_id: UUID, agent_id: UUID | None, phone: str) -> str | None:
        """Why this account's agent may not send from `phone`, or None when it may."""
        if not isinstance(phone, str) or E164.fullmatch(phone) is None:
            return "is not an imported number of this account"
        number = self.store.find(SenderNumber, number_id(phone))
        if number is None or number.account_id != account_id:
            return "is not an imported number of this account"
        if agent_id is not None and number.agent_id != agent_id:
            return "belongs to another agent"
        return None

    def sender_mps(self, account_id: UUID, phones: list[str]) -> int:
        """The pace of these sender numbers of the account together, in messages per second."""
        total = 0
        for phone in phones:
            number = self.store.find(SenderNumber, number_id(phone))
            if number is not None and number.account_id == account_id:
                total += number.mps
        return total

    def _owned(
        self,
        kind: type[T],
        uuid: UUID | None,
        account_id: UUID,
        name: str,
        owner: str = "account_id",
    ) -> T:
        aggregate = self.store.find(kind, uuid)
        if aggregate is None or getattr(aggregate, owner, None) != account_id:
            raise NotFound(f"{name} not found")
        return aggregate
