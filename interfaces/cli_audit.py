"""`herald audit phone|campaign` (a history, readable in the terminal) and `herald export
events` (the log as JSON Lines, with a progress bar)."""

import sys
from typing import Any, BinaryIO

import click
import msgspec
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from application.audit import (
    MAX_PAGE,
    AuditEntry,
    ConsentAnswer,
    SentAfterStop,
    parse_instant,
    phone_problems,
)
from application.errors import ValidationFailed, problem

out = Console(soft_wrap=True, highlight=False)
FACT_CHARS = 120  # a longer fact (a batch's recipients) is cut in the terminal


def _checked(
    account: str | None, times: tuple[tuple[str, str | None, bool], ...] = ()
) -> list[dict[str, Any]]:
    """Every problem of the options that can be seen without the database."""
    from interfaces.cli import _account

    problems = []
    if account is not None:
        try:
            _account(account)
        except click.BadParameter:
            problems.append(
                problem("account", account, "invalid_account_id", "is not an account id (acct_…)")
            )
    for field, value, end_of_day in times:
        try:
            parse_instant(field, value, end_of_day)
        except ValidationFailed as error:
            problems += error.details
    return problems


def _account_option(value: str, herald: Any) -> Any:
    from interfaces.cli import _account

    account_id = _account(value)
    if not herald.directory.account_exists(account_id):
        raise ValidationFailed(
            "no such account", [problem("account", value, "unknown_account", "no such account")]
        )
    return account_id


def _refuse(problems: list[dict[str, Any]]) -> None:
    """Report every problem at once and exit 1, as a use case's error would be."""
    from interfaces.cli import _run

    if problems:
        _run(lambda: _fail(problems))


@click.group()
def audit() -> None:
    """What happened to a phone or a campaign, every event in order, for an auditor."""


@audit.command("phone")
@click.argument("phone")
@click.option("--account", "account", required=True, help="the account (acct_…)")
@click.option("--at", "at", help="consent held at this RFC 3339 time or date (default: now)")
@click.option("--json", "as_json", is_flag=True, help="print the history as JSON")
def audit_phone(phone: str, account: str, at: str | None, as_json: bool) -> None:
    """The history of PHONE for an account: consent, conversations, messages."""
    from interfaces.cli import _herald, _run

    problems = _checked(account, (("at", at, True),))
    if problems:  # with the phone's, if it has one too
        _refuse(phone_problems(phone) + problems)
    herald = _herald()
    found = _run(lambda: herald.audit.phone(_account_option(account, herald), phone, at))
    if as_json:
        click.echo(msgspec.json.encode(found))
        return
    out.print(f"[bold]{escape(found.phone)}[/bold] for account {found.account_id}")
    _consent(found.consent)
    _sent_after_stop(found.sent_after_stop)
    out.print(f"\n{len(found.events)} events, in the order recorded:")
    for entry in found.events:
        _print_entry(entry)


@audit.command("campaign")
@click.argument("campaign")
@click.option("--account", "account", help="only if it is this account's (acct_…)")
@click.option("--json", "as_json", is_flag=True, help="print the history as JSON")
def audit_campaign(campaign: str, account: str | None, as_json: bool) -> None:
    """The history of CAMPAIGN (smsc_…): the campaign, its recipient batches, its messages."""
    from interfaces.cli import _herald, _run

    _refuse(_checked(account))
    herald = _herald()
    account_id = _run(lambda: _account_option(account, herald)) if account else None
    first = _run(lambda: herald.audit.campaign(account_id, campaign, 0, MAX_PAGE))
    if as_json:
        events = list(first.events)
        page = first
        while page.next_after is not None:
            page = herald.audit.campaign(account_id, campaign, page.next_after, MAX_PAGE)
            events += page.events
        click.echo(msgspec.json.encode(msgspec.structs.replace(first, events=events)))
        return
    out.print(f"[bold]{first.campaign_id}[/bold] of account {first.account_id}")
    _sent_after_stop(first.sent_after_stop)
    out.print("\nEvents, in the order recorded:")
    page = first
    while True:
        for entry in page.events:
            _print_entry(entry)
        if page.next_after is None:
            break
        page = herald.audit.campaign(account_id, campaign, page.next_after, MAX_PAGE)


def _consent(consent: ConsentAnswer) -> None:
    colour = {"opted_in": "green", "opted_out": "red"}.get(consent.status, "yellow")
    line = f"Consent at {consent.at.isoformat()}: [{colour}]{consent.status}[/{colour}]"
    if consent.since is not None:
        line += f" since {consent.since.isoformat()} ({consent.event}, #{consent.position})"
    out.print(line)
    if consent.facts:
        out.print("  " + escape(_facts(consent.facts)))


def _sent_after_stop(found: list[SentAfterStop]) -> None:
    if not found:
        out.print("Sent after STOP: [green]none[/green]")
        return
    out.print(f"Sent after STOP: [red]{len(found)}[/red]")
    for v in found:
        out.print(
            f"  {v.message_id} to {v.phone} attempted {v.attempted_at.isoformat()} (#{v.position})"
            f" after the opt-out of {v.opted_out_at.isoformat()} (#{v.opt_out_position})"
        )


def _print_entry(entry: AuditEntry) -> None:
    out.print(
        f"#{entry.position:<8} {entry.time.isoformat(timespec='milliseconds')}"
        f"  [cyan]{entry.aggregate}.{entry.event}[/cyan] {entry.aggregate_id} v{entry.version}"
    )
    if entry.facts:
        out.print("    " + escape(_facts(entry.facts)))


def _facts(facts: dict[str, Any]) -> str:
    parts = []
    for name, value in facts.items():
        text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
        if len(text) > FACT_CHARS:
            text = text[:FACT_CHARS] + f"… ({len(text)} characters)"
        parts.append(f"{name}={text}")
    return " ".join(parts)


@click.group()
def export() -> None:
    """The event log, for auditors and other systems."""


@export.command("events")
@click.option("--account", "account", help="only this account's events (acct_…)")
@click.option("--since", help="recorded at or after this RFC 3339 time or date")
@click.option("--until", help="recorded at or before this RFC 3339 time or date (its end)")
@click.option("--output", type=click.Path(dir_okay=False), help="write here (default: stdout)")
def export_events(
    account: str | None, since: str | None, until: str | None, output: str | None
) -> None:
    """Every event as JSON Lines: position, originator_id, version, topic, time, state."""
    from application.export import export_lines
    from interfaces.cli import _herald, _run

    # Every bad option at once, before anything is opened.
    _refuse(_checked(account, (("since", since, False), ("until", until, True))))
    start = parse_instant("since", since)
    end = parse_instant("until", until, end_of_day=True)
    herald = _herald()
    account_id = _run(lambda: _account_option(account, herald)) if account else None
    store: Any = herald.store
    last = store.last_position()
    progress = Progress(
        TextColumn("exporting events"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} positions · {task.fields[lines]:,} lines"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    lines = undecodable = 0
    with _opened(output) as sink, progress:
        task = progress.add_task("export", total=last, lines=0)
        for position, line, damaged in export_lines(store, account_id, start, end):
            sink.write(line)
            lines += 1
            undecodable += damaged
            if lines % 1000 == 0:
                progress.update(task, completed=min(position, last), lines=lines)
        progress.update(task, completed=last, lines=lines)
    Console(stderr=True).print(f"{lines} events exported")
    if undecodable:
        Console(stderr=True).print(
            f"{undecodable} of them could not be decoded: exported as stored, with"
            " 'undecodable' saying why"
        )


def _fail(problems: list[dict[str, Any]]) -> None:
    raise ValidationFailed("invalid options", problems)


class _opened:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self.file: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        self.file = open(self.path, "wb") if self.path else sys.stdout.buffer
        return self.file

    def __exit__(self, *_: object) -> None:
        assert self.file is not None
        self.file.flush()
        if self.path:
            self.file.close()
