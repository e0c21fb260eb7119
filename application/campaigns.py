"""Campaign use cases: create (checked whole, then recorded in one transaction), preview,
cancel, pause, resume, launch, retry, and the transitions the dispatcher makes."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from application.campaign_checks import (
    CampaignChecks,
    CreateCampaign,
    plan_warnings,
    recipient_errors,
    request_hash,
)
from application.directory import Directory
from application.errors import ChangedConcurrently, Conflict, NotFound, ValidationFailed, problem
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
from domain.recipients import RecipientPlan
from domain.text import escaped


class CampaignCreated(msgspec.Struct):
    campaign_id: UUID
    created: bool  # False when an Idempotency-Key named an existing campaign


# Tries of a transition that other requests keep overtaking, before answering 409.
CHANGE_ATTEMPTS = 5


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
        self.checks = CampaignChecks(read_models, directory, clock, policy)

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
        checked = self.checks.check(account_id, command)
        errors += checked.errors + recipient_errors(command, checked.plan)
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
        checked = self.checks.check(account_id, command)
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
            quiet_hours=quiet_hours[account_id],
            pricing=Pricing(self.policy.price_per_segment, self.policy.currency),
            warnings=plan_warnings(checked.plan),
            limit=limit,
        )

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
        if plan.without_opt_in:
            campaign.suppressed_without_opt_in(plan.without_opt_in)
        return campaign, batches
