"""`herald up`'s demo tenant: an account, an agent and a number, made once and reused.

It is made only in a database with no account yet: beside a user's own accounts it would
claim the seed's sender number, which the user may well import for themselves.
"""

from dataclasses import dataclass
from datetime import UTC
from uuid import UUID
from zoneinfo import ZoneInfo

from application.directory import AddNumber, CreateAgent
from domain import ids
from domain.phone import time_zones
from domain.quiet_hours import held_until
from interfaces.bootstrap import Herald

DEMO_ACCOUNT = "Demo"
DEMO_NUMBER = "+447446466847"  # the seed's example sender


@dataclass(frozen=True)
class Demo:
    account_id: str
    agent_id: str
    from_number: str
    key: str
    quiet_hours_notice: str | None  # set when quiet hours hold its campaigns right now


def demo_account(herald: Herald) -> Demo | None:
    """The demo tenant with a fresh key; None when the database has other accounts only."""
    herald.projector.catch_up()  # accounts made with the CLI a moment ago count too
    # The demo account is the one `herald up` made: called "Demo" and owning the number.
    found = herald.queries.account_with_number(DEMO_ACCOUNT, DEMO_NUMBER)
    if found is not None:
        account_id, agent_id = found
    elif herald.queries.account_count() == 0:
        account_id = herald.directory.create_account(DEMO_ACCOUNT)
        agent_id = herald.directory.create_agent(
            account_id,
            CreateAgent("Acme Dental reception", "You are the receptionist at Acme Dental."),
        )
        herald.directory.add_number(
            account_id, AddNumber(DEMO_NUMBER, ids.public_id(ids.AGENT, agent_id), 1)
        )
    else:
        return None
    # Secrets are never stored, so each start makes a fresh demo key.
    notice = quiet_hours_notice(herald, account_id)
    key = herald.directory.create_key(account_id)
    return Demo(
        ids.public_id(ids.ACCOUNT, account_id),
        ids.public_id(ids.AGENT, agent_id),
        DEMO_NUMBER,
        key,
        notice,
    )


def quiet_hours_notice(herald: Herald, account_id: UUID) -> str | None:
    """One line when the account's quiet hours hold UK recipients right now: until when,
    and the command that turns them off."""
    policy = herald.projector.quiet_hours([account_id])[account_id]
    zones = time_zones(DEMO_NUMBER)  # the seed's recipients are UK numbers, as this one
    until = held_until(policy, zones, herald.clock.now())
    if policy is None or until is None:
        return None
    local = until.astimezone(ZoneInfo(zones[-1]))
    account = ids.public_id(ids.ACCOUNT, account_id)
    return (
        f"Quiet hours ({policy} recipient time): campaigns to UK numbers wait until"
        f" {local:%H:%M} {local.tzname()} ({until.astimezone(UTC):%Y-%m-%d %H:%M} UTC)."
        f" To send now: herald accounts quiet-hours {account} --off"
    )
