"""`herald export events`: every event as JSON Lines, complete, filtered by account and by
the time each was recorded; bad options refused, each named."""

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from application.campaign_checks import CreateCampaign, RecipientIn
from domain import ids
from harness.processes import HERALD
from interfaces.bootstrap import Herald
from tests.integration.conftest import Tenant
from tests.integration.test_read_ahead import record_undecodable

KEYS = {"position", "originator_id", "version", "topic", "time", "state"}
UNDECODABLE_KEYS = {"position", "originator_id", "version", "topic", "undecodable", "stored_state"}


def export(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HERALD, "export", "events", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def every_event(herald: Herald) -> list[tuple[int, Any]]:
    with herald.pool.connection() as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            " FROM herald_events ORDER BY notification_id"
        ).fetchall()
    # Other tests record events the store cannot decode: those come as Undecodable.
    store = herald.store
    return [
        (r[0], store.streamed(r[0], StoredEvent(r[1], r[2], r[3], bytes(r[4]))).event) for r in rows
    ]


def owned_by(account_id: UUID, events: list[tuple[int, Any]]) -> list[int]:
    owner: dict[UUID, Any] = {}
    for _, event in events:
        if event.originator_version == 1:
            owner[event.originator_id] = (
                account_id
                if event.originator_id == account_id
                else getattr(event, "account_id", None)
            )
    return [p for p, e in events if owner.get(e.originator_id) == account_id]


@pytest.fixture(scope="module")
def two_accounts(herald: Herald) -> tuple[Tenant, Tenant]:
    tenants = (Tenant(herald), Tenant(herald))
    for n, tenant in enumerate(tenants):
        phones = [f"+4471119{n}{i:04d}" for i in range(30)]
        herald.consents.opt_in(tenant.account_id, phones[0], "import", f"row {n}")
        herald.consents.opt_out(tenant.account_id, phones[1], "STOP", "sms", f"SM{n}")
        herald.campaigns.create(
            tenant.account_id,
            CreateCampaign(
                agent_id=tenant.agent_id,
                name=f"export {n}",
                message_template="Hi {{n}}",
                recipients=[RecipientIn(p, {"n": str(i)}) for i, p in enumerate(phones)],
                from_number=tenant.from_number,
            ),
            source="api",
        )
    return tenants


def test_the_whole_log_is_exported_as_valid_json_lines_in_order(
    database_url: str, herald: Herald, two_accounts: Any, tmp_path: Path
) -> None:
    target = tmp_path / "all.jsonl"
    done = export(database_url, "--output", str(target))
    assert done.returncode == 0, done.stderr
    lines = lines_of(target)
    assert all(set(line) in (KEYS, UNDECODABLE_KEYS) for line in lines)
    expected = every_event(herald)
    assert [line["position"] for line in lines] == [p for p, _ in expected]
    assert f"{len(lines)} events exported" in done.stderr
    batches = [line for line in lines if line["topic"].endswith(":RecipientBatch.Created")]
    assert all(isinstance(b["state"]["recipients"], list) for b in batches)  # decoded
    assert 30 in [len(b["state"]["recipients"]) for b in batches]
    opt_outs = [line for line in lines if line["topic"].endswith(":Consent.OptedOut")]
    # The session's log holds other tests' opt-outs too (21610s, other keywords).
    accounts = {str(tenant.account_id) for tenant in two_accounts}
    mine = [o for o in opt_outs if str(o["state"]["account_id"]) in accounts]
    assert sorted(o["state"]["evidence"] for o in mine) == ["SM0", "SM1"]
    assert all(o["state"]["keyword"] == "STOP" and o["version"] >= 2 for o in mine)


def test_an_accounts_export_has_its_events_and_no_one_elses(
    database_url: str, herald: Herald, two_accounts: tuple[Tenant, Tenant], tmp_path: Path
) -> None:
    first, second = two_accounts
    account = ids.public_id(ids.ACCOUNT, first.account_id)
    target = tmp_path / "first.jsonl"
    done = export(database_url, "--account", account, "--output", str(target))
    assert done.returncode == 0, done.stderr
    positions = [line["position"] for line in lines_of(target)]
    events = every_event(herald)
    assert positions == owned_by(first.account_id, events)
    assert not set(positions) & set(owned_by(second.account_id, events))
    topics = {line["topic"].rpartition(":")[2] for line in lines_of(target)}
    assert {"Account.Created", "Campaign.Created", "Consent.OptedOut", "ApiKey.Created"} <= topics


def test_an_event_that_cannot_be_decoded_is_exported_as_stored_and_the_export_goes_on(
    database_url: str, herald: Herald, tmp_path: Path
) -> None:
    damaged = {
        "domain.agent:Agent.Created": b'{"name": "half a JSON',
        "domain.gone:Gone.Created": b'{"a": 1}',  # a topic no code defines any more
    }
    positions = [record_undecodable(herald, topic, state) for topic, state in damaged.items()]
    after = Tenant(herald)  # events recorded after the damaged ones
    target = tmp_path / "all.jsonl"
    done = export(database_url, "--output", str(target))
    assert done.returncode == 0, done.stderr
    lines = {line["position"]: line for line in lines_of(target)}
    for position, (topic, state) in zip(positions, damaged.items(), strict=True):
        line = lines[position]
        assert set(line) == UNDECODABLE_KEYS
        assert line["topic"] == topic and line["stored_state"] == state.decode()
        assert line["undecodable"]  # why, in words
    assert "half a JSON" not in lines[positions[1]]["stored_state"]
    assert any(
        line["topic"].endswith(":Account.Created")
        and line["originator_id"] == str(after.account_id)
        for line in lines.values()
    )
    assert "could not be decoded" in done.stderr


def test_since_and_until_keep_the_events_recorded_between(
    database_url: str, two_accounts: tuple[Tenant, Tenant], tmp_path: Path
) -> None:
    account = ids.public_id(ids.ACCOUNT, two_accounts[1].account_id)
    whole = tmp_path / "whole.jsonl"
    assert export(database_url, "--account", account, "--output", str(whole)).returncode == 0
    lines = lines_of(whole)
    times = [datetime.fromisoformat(line["time"]) for line in lines]
    since, until = times[2], times[-3]
    part = tmp_path / "part.jsonl"
    done = export(
        database_url,
        "--account",
        account,
        "--since",
        since.isoformat(),
        "--until",
        until.isoformat(),
        "--output",
        str(part),
    )
    assert done.returncode == 0, done.stderr
    kept = lines_of(part)
    assert kept == [line for line, t in zip(lines, times, strict=True) if since <= t <= until]
    assert 0 < len(kept) < len(lines)


def test_the_export_goes_to_stdout_without_output(
    database_url: str, two_accounts: tuple[Tenant, Tenant]
) -> None:
    account = ids.public_id(ids.ACCOUNT, two_accounts[0].account_id)
    done = export(database_url, "--account", account, "--since", "2000-01-01")
    assert done.returncode == 0, done.stderr
    assert all(json.loads(line)["position"] > 0 for line in done.stdout.splitlines())
    assert done.stdout.count("\n") > 10


def test_bad_options_are_refused_each_named(database_url: str) -> None:
    done = export(database_url, "--account", "acme", "--since", "tomorrow", "--until", "2026-02-30")
    assert done.returncode == 1 and done.stdout == ""
    for named in ("account: ", "'acme'", "since: ", "'tomorrow'", "until: ", "'2026-02-30'"):
        assert named in done.stderr, (named, done.stderr)
    naive = export(database_url, "--since", "2026-11-27T10:00:00")
    assert naive.returncode == 1 and "UTC offset" in naive.stderr
    nobody = ids.public_id(ids.ACCOUNT, uuid4())
    unknown = export(database_url, "--account", nobody)
    assert (
        unknown.returncode == 1 and "no such account" in unknown.stderr and nobody in unknown.stderr
    )
