"""Campaign use cases: create (validate all, then record in one transaction), cancel, launch."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import msgspec

from application.constraints import E164_PATTERN, MessageTemplate, Name, Phone, at_least_one
from application.directory import Directory
from application.errors import ChangedConcurrently, Conflict, NotFound, ValidationFailed, problem
from application.fields import text_problems
from application.policy import Policy
from application.ports import CampaignLocks, Clock, NoCampaignLocks, ReadModels
from application.preview import MESSAGES_SHOWN, CampaignPreview, Pricing, preview_report
from application.store import EventStore, IntegrityError
from domain import ids
from domain.campaign import (
    Campaign,
    RecipientBatch,
    campaign_id_for_key,
    idempotency_key_problem,
    initial_status,
    recipient_batches,
)
from domain.errors import InvalidTransition
from domain.phone import PhoneValidator
from domain.quiet_hours import DEFAULT_QUIET_HOURS
from domain.recipients import RECOMMENDED_MESSAGE_CHARS, RecipientPlan, plan_recipients
from domain.schedule import in_utc, schedule_problem
from domain.text import NAME_CHARS, TEMPLATE_CHARS, escaped

# A pool larger than this is no campaign's (the dispatch bench sends from 200); each number
# is looked up before recording.
MAX_FROM_NUMBERS = 1000
# Tries of a transition that other requests keep overtaking, before answering 409.
CHANGE_ATTEMPTS = 5

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


class CampaignCreated(msgspec.Struct):
    campaign_id: UUID
    created: bool  # False when an Idempotency-Key named an existing campaign


def request_hash(command: CreateCampaign) -> str:
    return hashlib.sha256(msgspec.json.encode(command)).hexdigest()


class Campaigns:
    def __init__(
        self,
        store: EventStore,
        read_models: ReadModels,
        directory: Directory,
        clock: Clock,
        policy: Policy,
        locks: CampaignLocks | None = None,
    ) -> None:
        self.locks = locks or NoCampaignLocks()
        self.store = store
        self.read_models = read_models
        self.directory = directory
        self.clock = clock
        self.policy = policy
        self.validator = PhoneValidator(policy.allowed_regions)

    def create(
        self,
        account_id: UUID,
        command: CreateCampaign,
        source: str,
        idempotency_key: str | None = None,
    ) -> CampaignCreated:
        errors: list[dict[str, Any]] = []
        if idempotency_key is not None and (bad := idempotency_key_problem(idempotency_key)):
            errors.append(problem("Idempotency-Key", escaped(idempotency_key), "invalid", bad))
            idempotency_key = None  # the other fields are still checked, in the same answer
        fingerprint = request_hash(command) if idempotency_key else None
        if idempotency_key and not errors:
            existing = self._existing(account_id, idempotency_key, fingerprint)
            if existing is not None:
                return self._replayed(existing)
        checked = self.check(account_id, command)
        errors += checked.errors + _recipient_errors(command, checked.plan)
        if errors:
            raise ValidationFailed("the campaign has invalid fields", errors)
        assert checked.agent_id is not None and checked.plan is not None
        campaign_id = (
            campaign_id_for_key(account_id, idempotency_key) if idempotency_key else uuid4()
        )
        campaign, batches = self._build(
            campaign_id,
            account_id,
            checked.agent_id,
            command,
            checked.from_numbers,
            checked.scheduled_at,
            source,
            checked.now,
            checked.plan,
            idempotency_key,
            fingerprint,
        )
        try:
            position = self.store.record(campaign, *batches)
        except IntegrityError:
            # A concurrent request with the same Idempotency-Key won the race.
            assert idempotency_key is not None
            existing = self._existing(account_id, idempotency_key, fingerprint)
            if existing is None:
                raise
            return self._replayed(existing)
        self.read_models.catch_up(until=position)
        return CampaignCreated(campaign.id, created=True)

    def preview(
        self, account_id: UUID, command: CreateCampaign, limit: int = MESSAGES_SHOWN
    ) -> CampaignPreview:
        """The report create would give, with nothing recorded (a dry run). Invalid
        recipients are reported whatever `on_invalid` says; the campaign's own fields
        must be valid, as for create (422)."""
        checked = self.check(account_id, command)
        if checked.errors:
            raise ValidationFailed("the campaign has invalid fields", checked.errors)
        assert checked.plan is not None
        quiet_hours = self.read_models.quiet_hours([account_id])
        return preview_report(
            command.message_template,
            [(r.phone, r.variables) for r in command.recipients],
            checked.plan,
            start=checked.scheduled_at or checked.now,
            mps=self.directory.sender_mps(account_id, checked.from_numbers),
            quiet_hours=quiet_hours.get(account_id, DEFAULT_QUIET_HOURS),
            pricing=Pricing(self.policy.price_per_segment, self.policy.currency),
            warnings=plan_warnings(checked.plan),
            limit=limit,
        )

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

    def _replayed(self, campaign_id: UUID) -> CampaignCreated:
        """An Idempotency-Key named a recorded campaign: answered once it is readable (the
        request that recorded it may still be projecting it)."""
        self.read_models.catch_up()
        return CampaignCreated(campaign_id, created=False)

    def cancel(self, account_id: UUID, campaign_id: str) -> None:
        """Nothing of the campaign is submitted once this returns (see CampaignLocks)."""
        uuid = self._owned(account_id, campaign_id).id
        with self.locks.exclusive(uuid):
            self._change(lambda: self._owned(account_id, campaign_id), lambda c, at: c.cancel(at))

    def pause(self, account_id: UUID, campaign_id: str) -> None:
        uuid = self._owned(account_id, campaign_id).id
        with self.locks.exclusive(uuid):
            self._change(
                lambda: self._owned(account_id, campaign_id),
                lambda c, at: c.pause(at, reason="paused by request"),
            )

    def resume(self, account_id: UUID, campaign_id: str) -> None:
        self._change(lambda: self._owned(account_id, campaign_id), lambda c, at: c.resume(at))

    def launch(self, account_id: UUID, campaign_id: str) -> None:
        self._change(lambda: self._owned(account_id, campaign_id), lambda c, at: c.launch(at))

    def retry(self, account_id: UUID, campaign_id: str, retryable: int) -> None:
        """Send again to recipients that failed with a retryable error."""
        self._owned(account_id, campaign_id)
        if retryable == 0:
            raise Conflict("no recipient failed with a retryable error")
        self._change(
            lambda: self._owned(account_id, campaign_id),
            lambda c, at: c.retry_failed(at, round_=c.retry_rounds + 1),
        )

    # Transitions the dispatcher makes.

    def start(self, campaign_id: UUID) -> None:
        self._change(lambda: self._get(campaign_id), lambda c, at: c.start(at))

    def finish(self, campaign_id: UUID, all_failed: bool) -> None:
        self._change(
            lambda: self._get(campaign_id), lambda c, at: c.finish(at, all_failed), strict=True
        )

    def hold_for_quiet_hours(self, campaign_id: UUID, until: datetime) -> None:
        """Record that the campaign's due recipients wait for quiet hours to end."""
        campaign = self._get(campaign_id)
        if campaign.hold_for_quiet_hours(until, self.clock.now()):
            self.read_models.catch_up(until=self.store.record(campaign))

    def end_hold(self, campaign_id: UUID) -> None:
        campaign = self._get(campaign_id)
        if campaign.end_hold(self.clock.now()):
            self.read_models.catch_up(until=self.store.record(campaign))

    def auto_pause(self, campaign_id: UUID, reason: str) -> None:
        with self.locks.exclusive(campaign_id):
            self._change(
                lambda: self._get(campaign_id),
                lambda c, at: c.pause(at, reason=reason),
                strict=True,
            )

    def _change(
        self,
        load: Callable[[], Campaign],
        command: Callable[[Campaign, datetime], None],
        strict: bool = False,
    ) -> None:
        """Apply a command to the campaign as recorded and record it; an invalid transition
        is a 409 (or raised as is, when strict).

        Another request may record a change of the same campaign in between (the event
        store then refuses this one's version): the command is decided again on the new
        state, so of two identical requests one makes the change and the other is a 409.
        """
        for _ in range(CHANGE_ATTEMPTS):
            campaign = load()
            try:
                command(campaign, self.clock.now())
            except InvalidTransition as error:
                if strict:
                    raise
                raise Conflict(error.message) from None
            try:
                position = self.store.record(campaign)
            except IntegrityError as error:
                conflict = error
                continue
            self.read_models.catch_up(until=position)
            return
        if strict:
            raise conflict
        raise ChangedConcurrently("the campaign changed concurrently; try again")

    def _get(self, campaign_id: UUID) -> Campaign:
        return self.store.get(Campaign, campaign_id, f"campaign {campaign_id}")

    def _owned(self, account_id: UUID, campaign_id: str) -> Campaign:
        campaign = self.store.find(Campaign, ids.parse_public_id(ids.CAMPAIGN, campaign_id))
        if campaign is None or campaign.account_id != account_id:
            raise NotFound(f"campaign {campaign_id} not found")
        return campaign

    def _existing(self, account_id: UUID, key: str, fingerprint: str | None) -> UUID | None:
        campaign = self.store.find(Campaign, campaign_id_for_key(account_id, key))
        if campaign is None:
            return None
        if campaign.request_hash != fingerprint:
            raise Conflict("this Idempotency-Key was used with another request body")
        return campaign.id

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
            self.read_models.opted_out(account_id, (r.phone for r in command.recipients)),
        )

    def _build(
        self,
        campaign_id: UUID,
        account_id: UUID,
        agent_id: UUID,
        command: CreateCampaign,
        from_numbers: list[str],
        scheduled_at: datetime | None,
        source: str,
        now: datetime,
        plan: RecipientPlan,
        idempotency_key: str | None,
        fingerprint: str | None,
    ) -> tuple[Campaign, list[RecipientBatch]]:
        warnings = plan_warnings(plan)
        batches = recipient_batches(campaign_id, account_id, plan.recipients, from_numbers)
        skipped = [
            {
                "index": p.index,
                "field": p.field,
                "value": p.value,
                "code": p.code,
                "reason": p.reason,
            }
            for p in plan.problems
        ]
        campaign = Campaign(
            id=campaign_id,
            account_id=account_id,
            agent_id=agent_id,
            name=command.name,
            message_template=command.message_template,
            from_numbers=from_numbers,
            schedule_type=command.schedule_type,
            status=initial_status(command.schedule_type).value,
            scheduled_at=scheduled_at,
            source=source,
            created_at=now,
            recipient_count=len(plan.recipients),
            batch_count=len(batches),
            segments_total=plan.segments_total,
            duplicates_removed=plan.duplicates_removed,
            skipped=skipped,
            warnings=warnings,
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
        )
        return campaign, batches


def _recipient_errors(command: CreateCampaign, plan: RecipientPlan | None) -> list[dict[str, Any]]:
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
    if plan.suppressed:
        warnings.append(f"{plan.suppressed} recipients have opted out and will not be sent to")
    return warnings
