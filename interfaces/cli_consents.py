"""`herald consents import FILE --account ACCOUNT` (opt-ins from a CSV file) and
`herald consents show PHONE --account ACCOUNT`; `herald accounts require-opt-in` is defined
here too and added to the accounts group by interfaces/cli.py.

The CSV has a header naming its columns: phone, source, evidence and, optionally,
opted_in_at (RFC 3339 with its offset; empty: now). Every problem of every line is reported
at once, by line number, and then nothing is imported."""

import csv
import io
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape

from application.consents import MAX_IMPORT_ROWS, OptInRow
from application.errors import ApplicationError, problem

console = Console(stderr=True, soft_wrap=True)

REQUIRED = ("phone", "source", "evidence")
OPTIONAL = ("opted_in_at",)
MAX_FILE_BYTES = 5 * 1024 * 1024  # 5,000 rows of the longest evidence (500 characters) fit


def read_opt_ins(data: bytes) -> tuple[list[OptInRow], list[str], list[dict[str, Any]]]:
    """The rows of a CSV file, each row's place ("line N: "), and the problems that keep
    lines from being rows at all (encoding, header, wrong number of fields)."""
    if len(data) > MAX_FILE_BYTES:
        size = f"{len(data)} bytes"
        return [], [], [problem("file", size, "too_large", f"at most {MAX_FILE_BYTES} bytes")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return (
            [],
            [],
            [
                problem(
                    f"line {line}",
                    repr(data[error.start : error.start + 4]),
                    "not_utf8",
                    "the file must be UTF-8",
                )
            ],
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return [], [], [problem("file", "", "required", "is empty: it needs a header line")]
    columns = [name.strip().lower() for name in header]
    errors = []
    for name in REQUIRED:
        if name not in columns:
            errors.append(
                problem(
                    "line 1",
                    ",".join(header),
                    "missing_column",
                    f"the header must name a {name} column",
                )
            )
    for name in columns:
        if name not in REQUIRED + OPTIONAL:
            errors.append(
                problem(
                    "line 1",
                    name,
                    "unknown_column",
                    f"columns are {', '.join(REQUIRED + OPTIONAL)}",
                )
            )
    if len(set(columns)) != len(columns):
        errors.append(
            problem("line 1", ",".join(header), "duplicate_column", "names a column twice")
        )
    if errors:
        return [], [], errors
    rows, places = [], []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            if len(record) != len(columns):
                errors.append(
                    problem(
                        f"line {line}",
                        ",".join(record)[:100],
                        "wrong_field_count",
                        f"has {len(record)} fields; the header has {len(columns)}",
                    )
                )
                continue
            cells = {name: cell.strip() for name, cell in zip(columns, record, strict=True)}
            rows.append(
                OptInRow(
                    cells["phone"],
                    cells["source"],
                    cells["evidence"],
                    cells.get("opted_in_at") or None,
                )
            )
            places.append(f"line {line}: ")
            if len(rows) > MAX_IMPORT_ROWS:
                break  # the import refuses it whole; no need to read on
    except csv.Error as error:
        errors.append(problem(f"line {reader.line_num}", "", "malformed_csv", str(error)))
    return rows, places, errors


@click.group()
def consents() -> None:
    """Consent records: opt-ins imported with their evidence, a phone's history."""


@consents.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--account", required=True, help="the account the opt-ins are for")
def consents_import(file: Path, account: str) -> None:
    """Import opt-ins from a CSV file (header: phone,source,evidence[,opted_in_at]): all of
    them, or, when any line is bad, none (every problem listed by line)."""
    from interfaces.cli import _account, _herald

    account_id = _account(account)
    rows, places, errors = read_opt_ins(file.read_bytes())
    herald = _herald()
    if errors:
        # Lines that are rows are checked too, so that one run lists every problem.
        rows_problems = herald.consents.opt_in_problems(rows, places, "file") if rows else []
        _fail(errors + rows_problems)
    try:
        imported = herald.consents.import_opt_ins(account_id, rows, places, collection="file")
    except ApplicationError as error:
        _fail(error.details, error.message)
    for phone in imported.kept_opted_out:
        console.print(f"kept opted out (texted STOP; only START opts them back in): {phone}")
    click.echo(f"imported {imported.imported} opt-ins")


@consents.command("show")
@click.argument("phone")
@click.option("--account", required=True)
def consents_show(phone: str, account: str) -> None:
    """A phone's consent for the account now, and its history."""
    from interfaces.cli import _account, _herald, _run

    herald = _herald()
    state = _run(lambda: herald.consents.state(_account(account), phone))
    held = "opted out" if state.opted_out else "opt-in held" if state.has_opt_in else "no record"
    click.echo(f"{state.phone}: {held}")
    for event in state.history:
        extra = f" keyword={event.keyword}" if event.keyword else ""
        click.echo(
            f"{event.at.isoformat()} {event.event} source={event.source}"
            f" evidence={event.evidence}{extra} (recorded {event.recorded_at.isoformat()})"
        )


@click.command("require-opt-in")
@click.argument("account")
@click.option("--on/--off", "required", required=True, help="require an opt-in record, or not")
def accounts_require_opt_in(account: str, required: bool) -> None:
    """Require an opt-in record before sending (off by default): campaigns suppress phones
    without one, single sends to them are refused."""
    from interfaces.cli import _account, _herald, _run

    herald = _herald()
    _run(lambda: herald.consents.require_opt_in(_account(account), required))
    click.echo(f"require opt-in {'on' if required else 'off'}")


def _fail(errors: list[dict[str, Any]], message: str = "") -> NoReturn:
    console.print(
        f"[red]error:[/red] {escape(message or f'{len(errors)} problems')}; nothing imported"
    )
    for found in errors:
        console.print(
            f"  {escape(str(found['field']))}: {escape(str(found['message']))}"
            f" ({escape(repr(found['value']))})"
        )
    sys.exit(1)
