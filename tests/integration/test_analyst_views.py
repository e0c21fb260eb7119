"""The analysts' views (projections/schema.sql) on real events with known outcomes: delivery
per day and per sender number, error codes, reply and opt-out rates per campaign (replies
through the inbound use case); and the same answers after a rebuild."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.inbound import InboundSms
from domain.message import Message
from interfaces.bootstrap import Herald
from tests.conftest import FixedClock
from tests.integration.conftest import Tenant, sharing

DAY_1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DAY_2 = DAY_1 + timedelta(days=1)
LATE_ON_DAY_1 = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # day 2 already, east of UTC
# Outside the +4474464xxxxx range the Tenant fixture numbers from (a session makes hundreds).
N1, N2 = "+447446600901", "+447446600902"


class Workload:
    """Messages of one account with the outcomes a test chooses, recorded as events the way
    the dispatcher and the callbacks record them, then projected."""

    def __init__(self, herald: Herald, tenant: Tenant) -> None:
        self.herald = herald
        self.tenant = tenant
        self.agent_id = UUID(tenant.agent_id.removeprefix("agent_"))
        self.sent = 0

    def message(
        self,
        outcome: str,
        at: datetime,
        from_number: str = N1,
        campaign_id: UUID | None = None,
        error: tuple[int, str] | None = None,
        to: str | None = None,
    ) -> Message:
        """`outcome`: rejected (refused by Twilio), queued (no callback yet), or the status
        of a callback: sent, delivered, undelivered, failed."""
        self.sent += 1
        message = Message(
            id=uuid4(),
            account_id=self.tenant.account_id,
            agent_id=self.agent_id,
            to=to or f"+4471119{self.sent:05d}",
            from_number=from_number,
            body="Hi",
            segments=1,
            encoding="GSM-7",
            created_at=at,
            campaign_id=campaign_id,
            recipient_index=self.sent if campaign_id else None,
            attempted_by="test",
        )
        code, text = error or (None, None)
        if outcome == "rejected":
            message.rejected(code, text or "", at + timedelta(seconds=1))
        else:
            sid = f"SM{message.id.hex}"
            message.queued(sid, at + timedelta(seconds=1))
            if outcome != "queued":
                message.status_reported(outcome, sid, code, text, at + timedelta(seconds=5))
        self.herald.store.save(message)
        return message

    def project(self) -> None:
        self.herald.projector.catch_up()


UNKNOWN_HANDSET = (30003, "Unreachable destination handset")
UNKNOWN_ERROR = (30008, "Unknown error")
INVALID_TO = (21211, "Invalid 'To' Phone Number")


@pytest.fixture
def workload(herald: Herald, tenant: Tenant) -> Workload:
    """Day 1: from N1 4 delivered, 1 undelivered, 1 failed by callback, 1 refused by Twilio,
    1 queued only (all in one campaign), from N2 2 delivered (one late in the UTC day);
    day 2: from N1 3 delivered and 1 undelivered, single sends."""
    work = Workload(herald, tenant)
    campaign = uuid4()
    for _ in range(4):
        work.message("delivered", DAY_1, campaign_id=campaign)
    work.message("undelivered", DAY_1, campaign_id=campaign, error=UNKNOWN_HANDSET)
    work.message("failed", DAY_1, campaign_id=campaign, error=UNKNOWN_ERROR)
    work.message("rejected", DAY_1, campaign_id=campaign, error=INVALID_TO)
    work.message("queued", DAY_1, campaign_id=campaign)
    work.message("delivered", DAY_1, from_number=N2)
    work.message("delivered", LATE_ON_DAY_1, from_number=N2)
    for _ in range(3):
        work.message("delivered", DAY_2)
    work.message("undelivered", DAY_2, error=UNKNOWN_HANDSET)
    work.project()
    work.campaign = campaign  # type: ignore[attr-defined]
    return work


def rows(herald: Herald, query: str, *params: Any, timezone: str = "UTC") -> list[tuple[Any, ...]]:
    with herald.pool.connection() as conn, conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('TimeZone', %s, true)", (timezone,))
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def delivery_by_day(herald: Herald, account_id: UUID, timezone: str = "UTC") -> list[Any]:
    return rows(
        herald,
        "SELECT day, messages, sent, delivered, undelivered, failed, delivery_rate"
        " FROM herald.delivery_by_day WHERE account_id = %s ORDER BY day",
        account_id,
        timezone=timezone,
    )


def test_delivery_by_day_counts_each_outcome_and_the_rate_among_final_ones(
    herald: Herald, workload: Workload
) -> None:
    assert delivery_by_day(herald, workload.tenant.account_id) == [
        # 10 messages, 9 accepted by Twilio, 6 of the 9 with a final status delivered
        (DAY_1.date(), 10, 9, 6, 1, 2, Decimal("0.6667")),
        (DAY_2.date(), 4, 4, 3, 1, 0, Decimal("0.7500")),
    ]


def test_days_are_utc_days_whatever_the_sessions_time_zone(
    herald: Herald, workload: Workload
) -> None:
    in_tokyo = delivery_by_day(herald, workload.tenant.account_id, timezone="Asia/Tokyo")
    assert in_tokyo == delivery_by_day(herald, workload.tenant.account_id)


def test_delivery_by_number_splits_each_day_by_sender_number(
    herald: Herald, workload: Workload
) -> None:
    assert rows(
        herald,
        "SELECT from_number, day, messages, sent, delivered, undelivered, failed, delivery_rate"
        " FROM herald.delivery_by_number WHERE account_id = %s ORDER BY day, from_number",
        workload.tenant.account_id,
    ) == [
        (N1, DAY_1.date(), 8, 7, 4, 1, 2, Decimal("0.5714")),
        (N2, DAY_1.date(), 2, 2, 2, 0, 0, Decimal("1.0000")),
        (N1, DAY_2.date(), 4, 4, 3, 1, 0, Decimal("0.7500")),
    ]


def test_error_codes_are_counted_per_campaign_and_for_single_sends(
    herald: Herald, workload: Workload
) -> None:
    campaign = workload.campaign  # type: ignore[attr-defined]
    at = DAY_1 + timedelta(seconds=5)
    assert rows(
        herald,
        "SELECT campaign_id, error_code, error_message, messages, failed, undelivered,"
        " first_at, last_at FROM herald.error_codes WHERE account_id = %s"
        " ORDER BY campaign_id NULLS LAST, error_code",
        workload.tenant.account_id,
    ) == [
        (
            campaign,
            21211,
            INVALID_TO[1],
            1,
            1,
            0,
            DAY_1 + timedelta(seconds=1),
            DAY_1 + timedelta(seconds=1),
        ),
        (campaign, 30003, UNKNOWN_HANDSET[1], 1, 0, 1, at, at),
        (campaign, 30008, UNKNOWN_ERROR[1], 1, 1, 0, at, at),
        (None, 30003, UNKNOWN_HANDSET[1], 1, 0, 1, at + timedelta(days=1), at + timedelta(days=1)),
    ]


VIEWS = ("delivery_by_day", "delivery_by_number", "error_codes")


def view_rows(herald: Herald, account_id: UUID) -> dict[str, list[tuple[Any, ...]]]:
    return {
        view: sorted(
            map(
                repr, rows(herald, f"SELECT * FROM herald.{view} WHERE account_id = %s", account_id)
            )
        )
        for view in VIEWS
    }  # type: ignore[misc]


def test_the_views_answer_the_same_after_a_rebuild_and_follow_the_new_tables(
    herald: Herald, workload: Workload
) -> None:
    before = view_rows(herald, workload.tenant.account_id)
    herald.projector.rebuild()
    assert view_rows(herald, workload.tenant.account_id) == before
    # Bound to the rebuilt tables, not to the ones swapped out: a new message shows.
    workload.message("delivered", DAY_2)
    workload.project()
    assert delivery_by_day(herald, workload.tenant.account_id)[-1] == (
        DAY_2.date(),
        5,
        5,
        4,
        1,
        0,
        Decimal("0.8000"),
    )


def test_each_view_names_only_tables_of_its_own_schema(herald: Herald) -> None:
    with herald.pool.connection() as conn:
        found = conn.execute(
            "SELECT DISTINCT v.relname, tn.nspname FROM pg_class v"
            " JOIN pg_namespace vn ON vn.oid = v.relnamespace"
            " JOIN pg_rewrite r ON r.ev_class = v.oid"
            " JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass"
            " JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid"
            " JOIN pg_namespace tn ON tn.oid = t.relnamespace"
            " WHERE vn.nspname = 'herald' AND v.relkind = 'v'"
        ).fetchall()
    assert {view for view, _ in found} >= set(VIEWS)
    assert {schema for _, schema in found} == {"herald"}


def at(when: datetime, herald: Herald) -> Herald:
    """Herald's use cases with the clock at `when`."""
    return sharing(herald, clock=FixedClock(when))


def texts(herald: Herald, tenant: Tenant, phone: str, body: str, when: datetime) -> None:
    """`phone` texts the tenant's number at `when`, through the inbound use case."""
    inbound = InboundSms(to=tenant.from_number, from_=phone, body=body, sid=f"SM{uuid4().hex}")
    at(when, herald).inbound.receive(inbound, signed_by=lambda account_id: True)


def test_reply_and_opt_out_rates_per_campaign(herald: Herald, tenant: Tenant) -> None:
    """Campaign A (day 1) to P1..P8, P7 refused by Twilio; campaign B (day 2) to P1 and P4.
    P1 replies twice, P8 once, P2 texts " Stop. ", P3 HELP, P7 (never sent) writes too;
    P5 is opted out through the API after A; P6 had opted out and back in before A; on day
    2, P4 texts STOP in answer to B."""
    work = Workload(herald, tenant)
    phone = {n: f"+4471118{tenant.account_id.int % 1000:03d}{n:02d}" for n in range(1, 9)}
    number = tenant.from_number
    a, b = uuid4(), uuid4()
    consents = at(DAY_1 - timedelta(days=2), herald).consents
    consents.opt_out(tenant.account_id, phone[6], "STOP", "sms", "SMearlier")
    at(DAY_1 - timedelta(days=1), herald).consents.opt_in(tenant.account_id, phone[6], "sms", "x")
    for n in range(1, 9):
        outcome = "rejected" if n == 7 else "delivered"
        work.message(outcome, DAY_1, number, campaign_id=a, to=phone[n])
    work.project()
    texts(herald, tenant, phone[1], "Yes please", DAY_1 + timedelta(hours=1))
    texts(herald, tenant, phone[1], "What time?", DAY_1 + timedelta(hours=2))
    texts(herald, tenant, phone[8], "ok", DAY_1 + timedelta(hours=1))
    texts(herald, tenant, phone[2], " Stop. ", DAY_1 + timedelta(hours=1))
    texts(herald, tenant, phone[3], "help", DAY_1 + timedelta(hours=1))
    texts(herald, tenant, phone[7], "who is this?", DAY_1 + timedelta(hours=1))
    consents = at(DAY_1 + timedelta(hours=3), herald).consents
    consents.opt_out(tenant.account_id, phone[5], "API", "api", "support ticket 7")
    for n in (1, 4):
        work.message("delivered", DAY_2, number, campaign_id=b, to=phone[n])
    work.project()
    texts(herald, tenant, phone[4], "STOP", DAY_2 + timedelta(hours=1))

    def answers() -> list[tuple[Any, ...]]:
        return rows(
            herald,
            "SELECT r.campaign_id, r.recipients_sent, r.replied, r.replied_text,"
            " r.replied_stop, r.inbound_messages, r.reply_rate, o.recipients_sent, o.opted_out,"
            " o.opt_out_rate FROM herald.replies_by_campaign r"
            " JOIN herald.opt_outs_by_campaign o USING (campaign_id)"
            " WHERE r.account_id = %s ORDER BY r.recipients_sent DESC",
            tenant.account_id,
        )

    expected = [
        # A: 7 sent; P1, P8 (text), P2 (STOP), P3 (HELP) replied: 4 of 7, 5 messages. Opted
        # out after A's message: P2, P5 (API), P4 (on day 2): 3 of 7; P6 before it.
        (a, 7, 4, 2, 1, 5, Decimal("0.5714"), 7, 3, Decimal("0.4286")),
        # B: 2 sent; P4's STOP answers it (P1's replies of day 1 answered A).
        (b, 2, 1, 0, 1, 1, Decimal("0.5000"), 2, 1, Decimal("0.5000")),
    ]
    assert answers() == expected
    herald.projector.rebuild()
    assert answers() == expected
