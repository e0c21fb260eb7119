from hypothesis import given
from hypothesis import strategies as st

from domain.status import FINAL, RANK, RecipientStatus, counts_from, moves_forward
from projections.projector import status_rank_sql

S = RecipientStatus


def test_status_only_moves_forward() -> None:
    assert moves_forward(S.PENDING, S.QUEUED)
    assert moves_forward(S.QUEUED, S.DELIVERED)
    assert not moves_forward(S.DELIVERED, S.SENT)  # a late `sent` after `delivered`
    assert not moves_forward(S.QUEUED, S.QUEUED)  # a duplicate


@given(st.sampled_from(sorted(FINAL)), st.sampled_from(list(S)))
def test_a_final_status_never_changes(final: RecipientStatus, new: RecipientStatus) -> None:
    assert not moves_forward(final, new)


def test_counts_follow_the_seed_table() -> None:
    counts = counts_from({"delivered": 95, "failed": 1, "undelivered": 1, "sent": 1, "queued": 2})
    assert counts["delivered_count"] == 95
    assert counts["failed_count"] == 3  # `sent` counts as failed
    assert counts["pending_count"] == 2
    assert counts["total_count"] == 100


@given(st.dictionaries(st.sampled_from([s.value for s in S]), st.integers(0, 1000)))
def test_buckets_add_up_to_the_total(status_counts: dict[str, int]) -> None:
    counts = counts_from(status_counts)
    buckets = (
        "delivered_count",
        "failed_count",
        "pending_count",
        "cancelled_count",
        "suppressed_count",
    )
    assert sum(counts[b] for b in buckets) == counts["total_count"]


def test_the_sql_status_rank_is_generated_from_the_domain_rank() -> None:
    function = status_rank_sql()
    for status in S:
        assert f"WHEN '{status.value}' THEN {RANK[status]}" in function
    assert "ELSE" not in function  # an unknown status moves nothing, in SQL as in Python
