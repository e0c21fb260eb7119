"""A rebuild reads and decodes the log a batch ahead of the batch it applies
(projections/read_ahead.py): the batches are the log in order, a failure on the reading
side fails the rebuild and changes nothing, an event that cannot be decoded is skipped
and recorded as the live projection does, and nothing is left running or switched off."""

import gc
import threading
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from litestar.testing import TestClient

from interfaces.bootstrap import Herald
from projections import handlers, rebuild
from projections.handlers import LIVE_SCHEMA
from projections.projector import Projector
from projections.read_ahead import read_ahead
from tests.integration.conftest import Tenant, campaign_body
from tests.integration.test_poison_events import schemas
from tests.integration.test_projections import snapshot


def readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "replay-read-ahead"]


def record_undecodable(herald: Herald, topic: str, state: bytes) -> int:
    """An event written straight into the log that the store cannot decode; its position."""
    with herald.pool.connection() as conn:
        row = conn.execute(
            "INSERT INTO herald_events (originator_id, originator_version, topic, state)"
            " VALUES (%s, 1, %s, %s) RETURNING notification_id",
            (uuid4(), topic, state),
        ).fetchone()
    assert row is not None
    return int(row[0])


def positions(rows: Any) -> list[tuple[Any, None]]:
    return [(row, None) for row in rows]


def test_the_batches_read_ahead_are_the_log_in_order(herald: Herald, tenant: Tenant) -> None:
    projector = herald.projector
    until = projector.settled_position()
    start = max(until - 40, 0)
    conninfo = herald.pool.conninfo
    assert isinstance(conninfo, str)
    batches = list(read_ahead(conninfo, projector._select, start, until, 7, positions))
    with herald.pool.connection() as conn:
        logged = [
            row[0]
            for row in conn.execute(
                "SELECT notification_id FROM herald_events"
                " WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id",
                (start, until),
            )
        ]
    assert [row[0] for batch in batches for row, _ in batch] == logged
    assert all(len(batch) <= 7 for batch in batches) and len(batches) >= len(logged) // 7
    assert readers() == []


def test_a_replay_given_up_early_leaves_no_reader_behind(herald: Herald, tenant: Tenant) -> None:
    conninfo = herald.pool.conninfo
    assert isinstance(conninfo, str)
    batches = read_ahead(conninfo, herald.projector._select, 0, 10**9, 1, positions)
    assert len(next(batches)) == 1
    batches.close()  # what an error applying the first batch does
    assert readers() == []


def test_a_failure_reading_ahead_fails_the_rebuild_and_changes_nothing(
    client: TestClient, herald: Herald, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post("/v1/sms/campaigns", json=campaign_body(tenant), headers=tenant.headers)
    before = snapshot(herald)
    real = Projector._decoded

    def lose_the_connection(self: Projector, rows: Any) -> list[tuple[Any, Any]]:
        if self.schema != LIVE_SCHEMA:
            raise psycopg.OperationalError("the database went away")
        return real(self, rows)

    monkeypatch.setattr(Projector, "_decoded", lose_the_connection)
    with pytest.raises(psycopg.OperationalError, match="went away"):
        herald.projector.rebuild()
    assert snapshot(herald) == before
    assert schemas(herald) == {"herald"}
    assert readers() == []
    assert gc.isenabled()


def test_a_failure_applying_a_batch_stops_the_reader_at_once(
    client: TestClient, herald: Herald, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post("/v1/sms/campaigns", json=campaign_body(tenant), headers=tenant.headers)
    # Batches of 2: many are left to read when the campaign's fails.
    monkeypatch.setattr(rebuild, "REBUILD_BATCH", 2)
    monkeypatch.setattr(herald.projector, "batch_size", 2)
    real = handlers.HANDLERS["Campaign.Created"]

    def fail_in_the_rebuild(cur: handlers.Writes, event: Any) -> None:
        if cur.schema != LIVE_SCHEMA:
            raise psycopg.OperationalError("the database went away")
        real(cur, event)

    monkeypatch.setitem(handlers.HANDLERS, "Campaign.Created", fail_in_the_rebuild)
    with pytest.raises(psycopg.OperationalError) as failed:
        herald.projector.rebuild()
    assert readers() == []  # while the failure (and its traceback) is still at hand
    assert gc.isenabled() and failed.value is not None


def test_an_event_that_cannot_be_decoded_is_skipped_by_the_rebuild_too(
    herald: Herald, tenant: Tenant
) -> None:
    position = record_undecodable(herald, "domain.agent:Agent.Created", b"{not json")
    herald.projector.catch_up()
    assert position in {f["notification_id"] for f in herald.projector.failures()}
    before = snapshot(herald)
    herald.projector.rebuild()
    assert snapshot(herald) == before
    failure = next(f for f in herald.projector.failures() if f["notification_id"] == position)
    assert "Failed to deserialise" in failure["error"]
    assert readers() == [] and gc.isenabled()
