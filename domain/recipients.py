"""Turning a campaign's requested recipients into the ones it will send to.

One pass validates every phone, every recipient's variables and every rendered message,
removes duplicates (the first occurrence wins), marks opted-out phones as suppressed and
adds up segments. Every problem is reported with the recipient's index in the request,
and its value in a form the read models can hold (a skipped recipient's problem is kept).
"""

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from domain.consent import WITHOUT_OPT_IN
from domain.phone import PhoneValidator
from domain.segments import segment_count
from domain.template import Variable, VariableRules, compile_template
from domain.text import MESSAGE_CHARS, escaped

MAX_MESSAGE_CHARS = MESSAGE_CHARS
RECOMMENDED_MESSAGE_CHARS = 600


@dataclass(frozen=True, slots=True)
class RecipientProblem:
    index: int
    field: str
    value: object
    code: str
    reason: str


class PlannedRecipient(NamedTuple):  # a tuple: 100,000 of them are made per campaign
    phone: str
    variables: Mapping[str, Variable]
    suppressed: bool


@dataclass(slots=True)
class RecipientPlan:
    recipients: list[PlannedRecipient] = field(default_factory=list)
    problems: list[RecipientProblem] = field(default_factory=list)
    duplicates_removed: int = 0
    suppressed: int = 0  # opted out, or without an opt-in record the account requires
    without_opt_in: list[str] = field(default_factory=list)  # those of them without one
    segments_total: int = 0  # of the recipients that will be sent to
    long_messages: int = 0  # rendered over the recommended length
    longest_message: int = 0


def message_problem(text: str) -> str | None:
    if len(text) > MAX_MESSAGE_CHARS:
        return f"is {len(text)} characters; the maximum is {MAX_MESSAGE_CHARS}"
    return None


def plan_recipients(
    template: str,
    requested: Sequence[tuple[str, Mapping[str, Variable]]],
    validator: PhoneValidator,
    refused: Mapping[str, str] | Container[str],
) -> RecipientPlan:
    """`refused`: phones that may not be sent to, with why (domain.consent.refusal), or
    just the opted-out phones."""
    reasons = refused if isinstance(refused, Mapping) else None
    plan = RecipientPlan()
    seen: set[str] = set()
    render = compile_template(template)
    variable_rules = VariableRules()
    for index, (phone, variables) in enumerate(requested):
        problem = validator.problem(phone)
        if problem is not None:
            plan.problems.append(
                RecipientProblem(index, "phone", escaped(phone), problem.code, problem.reason)
            )
            continue
        bad_variable = variable_rules.problem(variables)
        if bad_variable is not None:
            value, found = bad_variable
            shown = escaped(value) if isinstance(value, str) else value
            plan.problems.append(
                RecipientProblem(index, "variables", shown, found.code, found.reason)
            )
            continue
        text = render(variables)
        if len(text) > MAX_MESSAGE_CHARS:
            reason = message_problem(text) or ""
            plan.problems.append(
                RecipientProblem(index, "message", text[:40] + "…", "message_too_long", reason)
            )
            continue
        if phone in seen:
            plan.duplicates_removed += 1
            continue
        seen.add(phone)
        suppressed = phone in refused
        plan.recipients.append(PlannedRecipient(phone, variables, suppressed))
        if suppressed:
            plan.suppressed += 1
            if reasons is not None and reasons[phone] == WITHOUT_OPT_IN:
                plan.without_opt_in.append(phone)
            continue
        plan.segments_total += segment_count(text)
        plan.longest_message = max(plan.longest_message, len(text))
        if len(text) > RECOMMENDED_MESSAGE_CHARS:
            plan.long_messages += 1
    return plan
