"""docs/read-models.md against the real schema `herald`: every table, view and column is
documented (a section per relation, a `column` table with a sentence for each), nothing
documented is gone, and every example query on the page runs as written."""

import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from interfaces.bootstrap import Herald

PAGE = Path(__file__).parents[2] / "docs" / "read-models.md"
KINDS = {"r": "table", "p": "table", "v": "view", "m": "view"}
# A relation's section: "## `herald.messages` (table)" (any heading level from 2 to 4).
SECTION = re.compile(r"^#{2,4} `herald\.(\w+)` \((table|view)\)[^\n]*$", re.MULTILINE)
ANY_HEADING = re.compile(r"^#{1,4} ", re.MULTILINE)
EXAMPLE = re.compile(r"^```sql\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass
class Documented:
    kind: str
    columns: dict[str, str] = field(default_factory=dict)  # column -> its sentence
    examples: list[str] = field(default_factory=list)


def documented(page: str) -> dict[str, Documented]:
    """The relations the page documents, from each section's first table whose header's
    first cell is `column`."""
    relations: dict[str, Documented] = {}
    for match in SECTION.finditer(page):
        name, kind = match.group(1), match.group(2)
        assert name not in relations, f"herald.{name} is documented twice"
        following = ANY_HEADING.search(page, match.end())
        body = page[match.end() : following.start() if following else len(page)]
        relation = relations[name] = Documented(kind)
        relation.examples = EXAMPLE.findall(body)
        header_seen = False
        for line in body.splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not line.startswith("|"):
                if header_seen:
                    break  # the first column table only
                continue
            if not header_seen:
                header_seen = cells[0] == "column"
                continue
            if set(cells[0]) <= {"-", " ", ":"}:
                continue  # the separator row
            column = cells[0].strip("`")
            assert column not in relation.columns, f"herald.{name}.{column} documented twice"
            relation.columns[column] = cells[1] if len(cells) > 1 else ""
    return relations


def in_the_schema(herald: Herald) -> dict[str, tuple[str, list[str]]]:
    """Every table and view of schema `herald` (made or brought up to date with the pool):
    its kind and columns, in order."""
    with herald.pool.connection() as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relkind, a.attname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
            " WHERE n.nspname = 'herald' AND c.relkind IN ('r', 'p', 'v', 'm')"
            " ORDER BY c.relname, a.attnum"
        ).fetchall()
    relations: dict[str, tuple[str, list[str]]] = {}
    for name, kind, column in rows:
        relations.setdefault(name, (KINDS[kind], []))[1].append(column)
    return relations


@pytest.fixture(scope="module")
def page() -> dict[str, Documented]:
    return documented(PAGE.read_text())


def test_every_table_view_and_column_of_the_schema_is_documented(
    herald: Herald, page: dict[str, Documented]
) -> None:
    schema = in_the_schema(herald)
    assert schema, "schema herald has no tables"
    undocumented = [
        f"herald.{name}.{column}" if name in page else f"herald.{name} ({kind})"
        for name, (kind, columns) in schema.items()
        for column in (columns if name in page else columns[:1])
        if name not in page or column not in page[name].columns
    ]
    assert undocumented == [], f"not documented in docs/read-models.md: {undocumented}"


def test_nothing_documented_is_gone_from_the_schema(
    herald: Herald, page: dict[str, Documented]
) -> None:
    schema = in_the_schema(herald)
    gone = [
        f"herald.{name}.{column}" if name in schema else f"herald.{name}"
        for name, relation in page.items()
        for column in (relation.columns if name in schema else [""])
        if name not in schema or column not in schema[name][1]
    ]
    assert gone == [], f"docs/read-models.md documents what schema herald lacks: {gone}"


def test_each_relation_is_documented_as_what_it_is(
    herald: Herald, page: dict[str, Documented]
) -> None:
    schema = in_the_schema(herald)
    wrong = {
        name: f"documented as a {relation.kind}, is a {schema[name][0]}"
        for name, relation in page.items()
        if name in schema and relation.kind != schema[name][0]
    }
    assert wrong == {}


def test_each_column_is_explained_in_a_sentence(page: dict[str, Documented]) -> None:
    unexplained = [
        f"herald.{name}.{column}"
        for name, relation in page.items()
        for column, sentence in relation.columns.items()
        if len(sentence.split()) < 3
    ]
    assert unexplained == [], f"columns without an explanation: {unexplained}"


def test_each_view_has_an_example_query(page: dict[str, Documented]) -> None:
    without = [name for name, relation in page.items() if relation.kind == "view"]
    without = [name for name in without if not page[name].examples]
    assert without == [], f"views without an example query: {without}"


def test_every_example_query_on_the_page_runs_as_written(herald: Herald) -> None:
    examples = EXAMPLE.findall(PAGE.read_text())
    assert examples, "the page has no example query"
    failing = {}
    with herald.pool.connection() as conn:
        for example in examples:
            try:
                with conn.transaction(force_rollback=True):
                    conn.execute("SET LOCAL statement_timeout = '10s'")
                    conn.execute("SET LOCAL transaction_read_only = on")
                    conn.execute(example)  # type: ignore[arg-type]
            except psycopg.Error as error:
                failing[example.strip()[:80]] = str(error).splitlines()[0]
    assert failing == {}, f"example queries that do not run: {failing}"


def test_the_parser_reads_a_section_and_its_column_table() -> None:
    page = documented(
        "# Page\n\n## `herald.things` (table)\nOne row per thing.\n\n"
        "| column | meaning |\n| --- | --- |\n| `thing_id` | The thing's id, from its event. |\n"
        "| `size` | How big the thing is. |\n\n| other | table |\n| --- | --- |\n| `x` | y |\n\n"
        "```sql\nSELECT 1;\n```\n\n## `herald.thing_sizes` (view)\n"
        "| column | meaning |\n| --- | --- |\n| `size` | A size any thing has. |\n"
    )
    assert page["things"].columns == {
        "thing_id": "The thing's id, from its event.",
        "size": "How big the thing is.",
    }
    assert page["things"].examples == ["SELECT 1;\n"]
    assert (page["thing_sizes"].kind, list(page["thing_sizes"].columns)) == ("view", ["size"])
