"""Single SMS: validate and record a Message, which the dispatcher then submits."""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from application.constraints import MessageBody, Phone
from application.directory import Directory
from application.errors import ValidationFailed, problem
from application.fields import text_problems
from application.policy import Policy
from application.ports import Clock, ReadModels
from application.store import EventStore
from domain.consent import OPTED_OUT, REFUSED
from domain.message import Message
from domain.phone import PhoneValidator, time_zones
from domain.recipients import message_problem
from domain.replies import answer_held_until, quiet_hours_exempt_until
from domain.segments import count_segments
from domain.text import MESSAGE_CHARS


class SendSms(msgspec.Struct):
    agent_id: str
    to: Phone
    from_number: Phone
    message: MessageBody


class SingleSms:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        directory: Directory,
        clock: Clock,
        policy: Policy,
    ) -> None:
        self.store = store
        self.read_models = read_models
        self.directory = directory
        self.clock = clock
        self.validator = PhoneValidator(policy.allowed_regions)

    def send(self, account_id: UUID, command: SendSms) -> UUID:
        message = self.message(account_id, command)
        self.read_models.catch_up(until=self.store.record(message))
        return message.id

    def message(
        self, account_id: UUID, command: SendSms, answering: datetime | None = None
    ) -> Message:
        """The message `command` asks for, checked, not yet recorded. `answering`: when the
        reply it answers was received (an agent's answer: not held by quiet hours within
        the hour, domain/replies.py)."""
        errors: list[dict[str, Any]] = []
        agent_id = self.directory.agent_of(account_id, command.agent_id)
        if agent_id is None:
            errors.append(problem("agent_id", command.agent_id, "unknown_agent", "no such agent"))
        reason = self.directory.number_problem(account_id, agent_id, command.from_number)
        if reason is not None:
            errors.append(
                problem("from_number", command.from_number, "unknown_from_number", reason)
            )
        phone_problem = self.validator.problem(command.to)
        if phone_problem is not None:
            errors.append(problem("to", command.to, phone_problem.code, phone_problem.reason))
        else:
            refused = self.read_models.refusals(account_id, [command.to]).get(command.to)
            # An agent's answer to someone who wrote in needs no opt-in record; nothing
            # goes to an opted-out phone.
            if refused == OPTED_OUT or (refused is not None and answering is None):
                errors.append(problem("to", command.to, refused, REFUSED[refused]))
        too_long = message_problem(command.message)
        if too_long is not None:
            errors.append(
                problem("message", command.message[:40] + "…", "message_too_long", too_long)
            )
        else:
            errors += text_problems("message", command.message, MESSAGE_CHARS, multiline=True)
        if errors:
            raise ValidationFailed("the message has invalid fields", errors)
        assert agent_id is not None
        now = self.clock.now()
        # In the account's quiet hours (where the phone is) it is held until they end.
        policy = self.read_models.quiet_hours([account_id])[account_id]
        exempt_until = None if answering is None else quiet_hours_exempt_until(answering)
        held_until = answer_held_until(policy, time_zones(command.to), now, exempt_until)
        segments = count_segments(command.message)
        message = Message(
            id=uuid4(),
            account_id=account_id,
            agent_id=agent_id,
            to=command.to,
            from_number=command.from_number,
            body=command.message,
            segments=segments.count,
            encoding=segments.encoding,
            created_at=now,
            not_before=held_until,
            quiet_hours_exempt_until=exempt_until,
        )
        return message
