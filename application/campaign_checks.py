"""What a request to create (or preview) a campaign is, and what it is held to: its fields
checked against the account, every problem found at once."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from application.constraints import E164_PATTERN, MessageTemplate, Name, Phone, at_least_one
from application.directory import Directory
from application.errors import problem
from application.fields import text_problems
from application.policy import Policy
from application.ports import Clock, ReadModels
from domain.phone import PhoneValidator
from domain.recipients import RECOMMENDED_MESSAGE_CHARS, RecipientPlan, plan_recipients
from domain.schedule import in_utc, schedule_problem
from domain.text import NAME_CHARS, TEMPLATE_CHARS

# A pool larger than this is no campaign's (the dispatch bench sends from 200); each number
# is looked up before recording.
MAX_FROM_NUMBERS = 1000

VariableValue = str | int | float | bool


class RecipientIn(msgspec.Struct):
    # Not constrained here: with on_invalid "skip" a bad phone is reported, not refused.
    phone: str
    variables: dict[str, VariableValue] = {}


Recipients = Annotated[
    list[RecipientIn],
    at_least_one(
        "each is checked on its own (phone, variables, rendered message): with on_invalid"
        " reject a bad one refuses the campaign, with skip it is reported and left out"
    ),
]
SenderPool = Annotated[
    list[str],
    at_least_one(
        "a pool of the agent's sender numbers, instead of from_number",
        at_most=MAX_FROM_NUMBERS,
        items={"type": "string", "pattern": E164_PATTERN},
    ),
]


class CreateCampaign(msgspec.Struct):
    agent_id: str
    name: Name
    message_template: MessageTemplate
    recipients: Recipients
    from_number: Phone | None = None
    from_numbers: SenderPool | None = None
    schedule_type: Literal["now", "schedule", "draft"] = "now"
    scheduled_at: datetime | None = None
    on_invalid: Literal["reject", "skip"] = "reject"


@dataclass(frozen=True)
class CheckedCampaign:
    """A create request checked against the account. `errors` lists the problems with the
    campaign's own fields (its recipients' are in the plan); `agent_id` and `plan` are
    None when those could not be checked."""

    now: datetime
    agent_id: UUID | None
    from_numbers: list[str]
    scheduled_at: datetime | None
    plan: RecipientPlan | None
    errors: list[dict[str, Any]]


def request_hash(command: CreateCampaign) -> str:
    return hashlib.sha256(msgspec.json.encode(command)).hexdigest()


class CampaignChecks:
    """The checks of a create request that need the account: its agent, its numbers, its
    opted-out phones (and those without an opt-in record, when it requires one)."""

    def __init__(
        self, read_models: ReadModels, directory: Directory, clock: Clock, policy: Policy
    ) -> None:
        self.read_models = read_models
        self.directory = directory
        self.clock = clock
        self.policy = policy
        self.validator = PhoneValidator(policy.allowed_regions)

    def check(self, account_id: UUID, command: CreateCampaign) -> CheckedCampaign:
        """Everything create checks before recording, shared with preview."""
        errors: list[dict[str, Any]] = []
        now = self.clock.now()
        agent_id = self.directory.agent_of(account_id, command.agent_id)
        if agent_id is None:
            errors.append(problem("agent_id", command.agent_id, "unknown_agent", "no such agent"))
        from_numbers = self._check_from_numbers(account_id, agent_id, command, errors)
        scheduled_at = self._check_schedule(command, now, errors)
        errors += text_problems("name", command.name, NAME_CHARS)
        errors += text_problems(
            "message_template", command.message_template, TEMPLATE_CHARS, multiline=True
        )
        plan = self._plan(account_id, command, errors)
        return CheckedCampaign(now, agent_id, from_numbers, scheduled_at, plan, errors)

    def _check_from_numbers(
        self,
        account_id: UUID,
        agent_id: UUID | None,
        command: CreateCampaign,
        errors: list[dict[str, Any]],
    ) -> list[str]:
        if command.from_number is not None and command.from_numbers is not None:
            errors.append(
                problem(
                    "from_numbers",
                    command.from_numbers,
                    "conflicting_fields",
                    "give from_number or from_numbers, not both",
                )
            )
            return []
        if command.from_numbers is not None:
            numbers, field = list(dict.fromkeys(command.from_numbers)), "from_numbers"
            if not numbers:
                errors.append(problem(field, numbers, "required", "must name at least one number"))
            if len(numbers) > MAX_FROM_NUMBERS:
                errors.append(
                    problem(
                        field,
                        f"{len(numbers)} numbers",
                        "too_many_numbers",
                        f"at most {MAX_FROM_NUMBERS} numbers",
                    )
                )
                return []
        elif command.from_number is not None:
            numbers, field = [command.from_number], "from_number"
        else:
            errors.append(problem("from_number", None, "required", "is required"))
            return []
        for position, phone in enumerate(numbers):
            reason = self.directory.number_problem(account_id, agent_id, phone)
            if reason is not None:
                name = field if field == "from_number" else f"{field}[{position}]"
                errors.append(problem(name, phone, "unknown_from_number", reason))
        return numbers

    def _check_schedule(
        self, command: CreateCampaign, now: datetime, errors: list[dict[str, Any]]
    ) -> datetime | None:
        at = command.scheduled_at
        if command.schedule_type == "now":
            return None
        if at is None:
            if command.schedule_type == "schedule":
                errors.append(
                    problem(
                        "scheduled_at", None, "required", "is required with schedule_type schedule"
                    )
                )
            return None
        found = schedule_problem(at, now)
        if found is not None:
            errors.append(problem("scheduled_at", at.isoformat(), found.code, found.reason))
            return None
        return in_utc(at)  # recorded in UTC: nothing later converts (or overflows) it again

    def _plan(
        self, account_id: UUID, command: CreateCampaign, errors: list[dict[str, Any]]
    ) -> RecipientPlan | None:
        count = len(command.recipients)
        if count == 0:
            errors.append(problem("recipients", [], "required", "must list at least one recipient"))
            return None
        if count > self.policy.max_recipients:
            errors.append(
                problem(
                    "recipients",
                    f"{count} recipients",
                    "too_many_recipients",
                    f"at most {self.policy.max_recipients} recipients per campaign",
                )
            )
            return None
        return plan_recipients(
            command.message_template,
            [(r.phone, r.variables) for r in command.recipients],
            self.validator,
            self.read_models.refusals(account_id, (r.phone for r in command.recipients)),
        )


def recipient_errors(command: CreateCampaign, plan: RecipientPlan | None) -> list[dict[str, Any]]:
    """Invalid recipients refuse the campaign unless `on_invalid` is skip; none valid always."""
    if plan is None:
        return []
    if plan.problems and command.on_invalid == "reject":
        return [
            problem(f"recipients[{p.index}].{p.field}", p.value, p.code, p.reason, index=p.index)
            for p in plan.problems
        ]
    if not plan.recipients:
        count = len(command.recipients)
        shown = f"{count} recipients"
        return [problem("recipients", shown, "no_valid_recipients", "none is valid")]
    return []


def plan_warnings(plan: RecipientPlan) -> list[str]:
    warnings = []
    if plan.long_messages:
        warnings.append(
            f"{plan.long_messages} messages are over {RECOMMENDED_MESSAGE_CHARS} characters"
            f" (up to {plan.longest_message}); UK carriers often reject long messages"
        )
    opted_out = plan.suppressed - len(plan.without_opt_in)
    if opted_out:
        warnings.append(f"{opted_out} recipients have opted out and will not be sent to")
    if plan.without_opt_in:
        warnings.append(
            f"{len(plan.without_opt_in)} recipients have no opt-in record, which the account"
            " requires, and will not be sent to"
        )
    return warnings
