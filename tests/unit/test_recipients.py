from domain.phone import PhoneValidator
from domain.recipients import plan_recipients

gb = PhoneValidator(frozenset({"GB"}))


def test_duplicates_are_sent_once_and_counted() -> None:
    plan = plan_recipients(
        "Hi", [("+447111000001", {}), ("+447111000001", {}), ("+447111000002", {})], gb, set()
    )
    assert [r.phone for r in plan.recipients] == ["+447111000001", "+447111000002"]
    assert plan.duplicates_removed == 1


def test_every_bad_recipient_is_reported_by_index() -> None:
    plan = plan_recipients(
        "Hi", [("+447111000001", {}), ("bad", {}), ("+14155552671", {})], gb, set()
    )
    assert [(p.index, p.code) for p in plan.problems] == [
        (1, "not_e164"),
        (2, "country_not_allowed"),
    ]


def test_opted_out_phones_are_suppressed_and_not_counted_in_segments() -> None:
    plan = plan_recipients(
        "Hi", [("+447111000001", {}), ("+447111000002", {})], gb, {"+447111000002"}
    )
    assert [r.suppressed for r in plan.recipients] == [False, True]
    assert plan.segments_total == 1
    assert plan.suppressed == 1


def test_rendered_message_over_1600_is_a_problem_and_over_600_a_warning() -> None:
    plan = plan_recipients(
        "{{text}}",
        [("+447111000001", {"text": "a" * 1601}), ("+447111000002", {"text": "a" * 700})],
        gb,
        set(),
    )
    assert [(p.index, p.code) for p in plan.problems] == [(0, "message_too_long")]
    assert plan.long_messages == 1
    assert plan.segments_total == 5  # 700 GSM-7 characters: ceil(700 / 153)


def test_bad_variables_are_a_problem_kept_in_a_storable_form() -> None:
    plan = plan_recipients(
        "Hi {{name}}",
        [("+447111000001", {"name": "Sa\x00rah"}), ("+44711100\x0002", {}), ("+447111000003", {})],
        gb,
        set(),
    )
    assert [(p.index, p.field, p.code, p.value) for p in plan.problems] == [
        (0, "variables", "control_character", "Sa\\u0000rah"),
        (1, "phone", "not_e164", "+44711100\\u000002"),
    ]
    assert [r.phone for r in plan.recipients] == ["+447111000003"]
