"""A campaign's outcomes over time, for the dashboard's chart: how many of its messages were
delivered and failed (failed or undelivered) by each of a few moments, from its messages'
`delivered_at`, `failed_at` and `undelivered_at` (one aggregate query, by index)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from psycopg_pool import ConnectionPool

from projections.queries import fetch_rows

BUCKETS = 40

OUTCOMES_SQL = """
WITH m AS (
  SELECT CASE WHEN status = 'delivered' THEN delivered_at
              ELSE coalesce(failed_at, undelivered_at, updated_at) END AS at,
         status = 'delivered' AS ok
  FROM herald.messages
  WHERE campaign_id = %s AND status IN ('delivered', 'failed', 'undelivered')
), span AS (SELECT min(at) AS lo, max(at) AS hi FROM m)
SELECT least(%s - 1, floor(
         extract(epoch FROM m.at - span.lo)
         / greatest(extract(epoch FROM span.hi - span.lo), 0.001) * %s))::int AS bucket,
       count(*) FILTER (WHERE ok) AS delivered, count(*) FILTER (WHERE NOT ok) AS failed,
       min(span.lo) AS lo, min(span.hi) AS hi
FROM m, span GROUP BY bucket ORDER BY bucket
"""


@dataclass(frozen=True)
class Timeline:
    at: list[datetime]  # the end of each bucket (the first point: the first outcome)
    delivered: list[int]  # cumulative
    failed: list[int]  # cumulative
    pending: list[int]  # sendable recipients with neither outcome yet


class OutcomeTimeline:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def of(self, campaign_id: UUID, sendable: int, buckets: int = BUCKETS) -> Timeline | None:
        """None when no message has an outcome yet. `sendable`: the recipients that were to
        be sent (not suppressed, not cancelled)."""
        rows = fetch_rows(self.pool, OUTCOMES_SQL, (campaign_id, buckets, buckets))
        if not rows:
            return None
        lo, hi = rows[0]["lo"], rows[0]["hi"]
        width = (hi - lo) / buckets if hi > lo else timedelta(0)
        by_bucket = {r["bucket"]: (r["delivered"], r["failed"]) for r in rows}
        at, delivered, failed, pending = [lo], [0], [0], [sendable]
        d = f = 0
        for bucket in range(buckets):
            got = by_bucket.get(bucket, (0, 0))
            d, f = d + got[0], f + got[1]
            at.append(lo + width * (bucket + 1))
            delivered.append(d)
            failed.append(f)
            pending.append(max(sendable - d - f, 0))
        return Timeline(at, delivered, failed, pending)
