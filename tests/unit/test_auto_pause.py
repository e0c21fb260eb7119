"""Auto-pause: 15 failures among the last 20 answered messages pause a campaign."""

from domain.auto_pause import AutoPause

RULE = AutoPause(window=20, failures=15)


def outcomes(failed: int, delivered: int, code: int | None = 30003) -> list[tuple[str, int | None]]:
    return [("undelivered", code)] * failed + [("delivered", None)] * delivered


def test_a_failure_on_the_20th_of_20_with_15_failed_pauses_the_campaign() -> None:
    assert RULE.reason(outcomes(15, 5)) == (
        "15 of the last 20 submissions failed (most often error 30003)"
    )


def test_14_failures_of_the_last_20_let_the_campaign_run() -> None:
    assert RULE.reason(outcomes(14, 6)) is None


def test_15_failures_among_fewer_than_20_answers_let_the_campaign_run() -> None:
    assert RULE.reason(outcomes(15, 4)) is None


def test_failed_and_undelivered_both_count_as_failures_but_sent_does_not() -> None:
    mixed = [("failed", 30007)] * 8 + [("undelivered", 30007)] * 7 + [("sent", None)] * 5
    assert RULE.reason(mixed) == "15 of the last 20 submissions failed (most often error 30007)"
    assert RULE.reason([("sent", None)] * 20) is None


def test_the_reason_names_the_most_common_error() -> None:
    failures = [("failed", 30003)] * 4 + [("failed", 21211)] * 12 + [("delivered", None)] * 4
    assert RULE.reason(failures) == "16 of the last 20 submissions failed (most often error 21211)"


def test_failures_without_a_code_still_pause_it() -> None:
    assert RULE.reason(outcomes(20, 0, code=None)) == (
        "20 of the last 20 submissions failed (most often error None)"
    )


def test_the_rule_defaults_to_15_of_20() -> None:
    assert AutoPause() == RULE
