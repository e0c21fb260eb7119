"""`herald analysts grant ROLE`: a role that can read every table and view of schema
herald, write nothing, read nothing else, and still read after a rebuild."""

import os
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from interfaces.bootstrap import Herald
from interfaces.cli import main
from projections.analysts import group_name
from tests.integration.conftest import Tenant

PASSWORD = "correct horse battery staple"
# Roles belong to the whole server, which other test runs may share (DATABASE_URL).
ROLE = f"h5_analyst_{os.getpid()}"


def herald_command(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"DATABASE_URL": database_url})


def drop_roles(herald: Herald, *roles: str) -> None:
    with herald.pool.connection() as conn:
        for role in roles:
            found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if found:
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture(scope="module")
def analyst(herald: Herald, database_url: str) -> Iterator[str]:
    """The role made by the command, and the group it joined, dropped afterwards."""
    with herald.pool.connection() as conn:
        group = group_name(conn)
    result = herald_command(database_url, "analysts", "grant", ROLE, "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == ROLE
    yield ROLE
    drop_roles(herald, ROLE, group)


def connect_as(database_url: str, role: str) -> psycopg.Connection:
    parts = conninfo_to_dict(database_url)
    parts.update(user=role, password=PASSWORD)
    return psycopg.connect(make_conninfo(**parts), autocommit=True)  # type: ignore[arg-type]


def test_the_analyst_can_select_tables_and_views(
    herald: Herald, tenant: Tenant, analyst: str, database_url: str
) -> None:
    with connect_as(database_url, analyst) as conn:
        accounts = conn.execute(
            "SELECT name FROM herald.accounts WHERE account_id = %s", (tenant.account_id,)
        ).fetchall()
        assert len(accounts) == 1
        conn.execute("SELECT * FROM herald.delivery_by_day").fetchall()
        conn.execute("SELECT * FROM herald.error_codes").fetchall()


def test_the_analysts_sessions_are_read_only_by_default(analyst: str, database_url: str) -> None:
    with connect_as(database_url, analyst) as conn, pytest.raises(errors.ReadOnlySqlTransaction):
        conn.execute("DELETE FROM herald.accounts")


WRITES = [
    "INSERT INTO herald.accounts (account_id, name, created_at)"
    " VALUES (gen_random_uuid(), 'x', now())",
    "UPDATE herald.accounts SET name = 'x'",
    "DELETE FROM herald.messages",
    "TRUNCATE herald.consents",
    "CREATE TABLE herald.scratch (x int)",
    "CREATE VIEW herald.scratch AS SELECT 1 AS x",
    "CREATE TABLE public.scratch (x int)",
    "CREATE SCHEMA scratch",
    "ALTER TABLE herald.accounts ADD COLUMN x int",
    "DROP VIEW herald.delivery_by_day",
    "SELECT * FROM public.herald_events LIMIT 1",
    "SELECT * FROM secrets.twilio_credentials LIMIT 1",
    "SELECT * FROM dispatch.lanes LIMIT 1",
]


@pytest.mark.parametrize("statement", WRITES, ids=lambda s: " ".join(s.split()[:3]))
def test_the_analyst_can_write_nothing_and_read_nothing_else_even_in_a_read_write_session(
    analyst: str, database_url: str, statement: str
) -> None:
    with connect_as(database_url, analyst) as conn:
        conn.execute("SET default_transaction_read_only = off")  # the role may undo the default
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(statement)  # type: ignore[arg-type]


def test_the_password_reaches_the_server_hashed(herald: Herald, analyst: str) -> None:
    with herald.pool.connection() as conn:
        row = conn.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (analyst,)
        ).fetchone()
    assert row is not None and row[0].startswith("SCRAM-SHA-256$")
    assert PASSWORD not in row[0]


def test_the_analyst_still_reads_after_a_rebuild(
    herald: Herald, tenant: Tenant, analyst: str, database_url: str
) -> None:
    with herald.pool.connection() as conn:
        before = conn.execute("SELECT oid FROM pg_namespace WHERE nspname = 'herald'").fetchone()
    result = herald_command(database_url, "projections", "rebuild")
    assert result.exit_code == 0, result.output
    with herald.pool.connection() as conn:
        after = conn.execute("SELECT oid FROM pg_namespace WHERE nspname = 'herald'").fetchone()
    assert before != after  # a new schema, built beside the old one, took its name
    with connect_as(database_url, analyst) as conn:
        found = conn.execute(
            "SELECT count(*) FROM herald.accounts WHERE account_id = %s", (tenant.account_id,)
        ).fetchone()
        assert found == (1,)
        conn.execute("SELECT * FROM herald.delivery_by_number").fetchall()
        with pytest.raises(errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM herald.accounts")


def test_tables_and_views_made_later_are_readable_too(
    herald: Herald, analyst: str, database_url: str
) -> None:
    """What a newer schema.sql adds (its views are dropped and made again each time)."""
    with herald.pool.connection() as conn:
        conn.execute("CREATE VIEW herald.h5_later AS SELECT 1 AS x")
    try:
        with connect_as(database_url, analyst) as conn:
            assert conn.execute("SELECT x FROM herald.h5_later").fetchone() == (1,)
    finally:
        with herald.pool.connection() as conn:
            conn.execute("DROP VIEW herald.h5_later")


def test_granting_again_updates_the_role(analyst: str, database_url: str) -> None:
    result = herald_command(database_url, "analysts", "grant", analyst)
    assert result.exit_code == 0, result.output
    with connect_as(database_url, analyst) as conn:
        conn.execute("SELECT 1 FROM herald.accounts LIMIT 1")


@pytest.mark.parametrize(
    ("role", "says"),
    [
        ("Analyst", ["'Analyst': only lower-case ASCII letters"]),
        ("data-team", ["'data-team': only lower-case"]),
        ("1analyst", ["'1analyst': only lower-case"]),
        ("", ["'': only lower-case"]),
        ("a; DROP TABLE herald.messages", ["'a; DROP TABLE herald.messages': only lower-case"]),
        ("pg_reader", ["'pg_reader': names starting with pg_"]),
        ("a" * 64, [f"{'a' * 64!r}: longer than 63 bytes"]),
        ("Ünï-" + "x" * 70, ["only lower-case", "longer than 63 bytes"]),
    ],
)
def test_a_bad_role_name_is_refused_naming_it(
    database_url: str, role: str, says: list[str]
) -> None:
    result = herald_command(database_url, "analysts", "grant", role)
    assert result.exit_code == 1
    for words in says:
        assert words in " ".join(result.output.split())


def test_an_empty_password_is_refused_with_the_role_name_problem_too(database_url: str) -> None:
    result = herald_command(database_url, "analysts", "grant", "Bad", "--password", "")
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "role 'Bad'" in output and "password (empty)" in output


def test_a_role_with_powers_is_refused(herald: Herald, database_url: str) -> None:
    with herald.pool.connection() as conn:
        me = conn.execute("SELECT current_user").fetchone()
    assert me is not None
    result = herald_command(database_url, "analysts", "grant", me[0])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert f"role '{me[0]}': is the role Herald itself connects as" in output


def test_a_role_that_owns_tables_is_refused(herald: Herald, database_url: str) -> None:
    owner = f"h5_owner_{os.getpid()}"
    with herald.pool.connection() as conn:
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(owner)))
        conn.execute(sql.SQL("CREATE TABLE public.{} (x int)").format(sql.Identifier(owner)))
        conn.execute(
            sql.SQL("ALTER TABLE public.{} OWNER TO {}").format(
                sql.Identifier(owner), sql.Identifier(owner)
            )
        )
    try:
        result = herald_command(database_url, "analysts", "grant", owner)
        assert result.exit_code == 1
        assert "owns objects in this database" in " ".join(result.output.split())
    finally:
        drop_roles(herald, owner)


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("GRANT INSERT ON herald.messages TO {role}", "was granted writes on tables"),
        ("GRANT {writer} TO {role}", "is a member of {writer}, whose privileges it keeps"),
    ],
)
def test_a_role_that_could_write_otherwise_is_refused(
    herald: Herald, database_url: str, given: str, says: str
) -> None:
    role, writer = f"h5_writer_{os.getpid()}", f"h5_writers_{os.getpid()}"
    names = {"role": sql.Identifier(role), "writer": sql.Identifier(writer)}
    with herald.pool.connection() as conn:
        conn.execute(sql.SQL("CREATE ROLE {role} LOGIN").format(**names))
        conn.execute(sql.SQL("CREATE ROLE {writer}").format(**names))
        conn.execute(sql.SQL(given).format(**names))  # type: ignore[arg-type]
    try:
        result = herald_command(database_url, "analysts", "grant", role)
        assert result.exit_code == 1
        assert says.format(writer=writer) in " ".join(result.output.split())
    finally:
        drop_roles(herald, role, writer)
