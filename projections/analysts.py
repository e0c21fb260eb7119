"""Analysts' read-only access to the read models (`herald analysts grant ROLE`).

Each database has a group role, `<database>_analysts`, that may read every table and view
of schema `herald` and nothing else: not the event store (`public.herald_events`), not the
Twilio tokens (`secrets`), not the dispatcher's tables (`dispatch`); no writes, no DDL. An
analyst is a login role made a member of it, whose transactions are read-only by default.
The group is per database so that an analyst of one Herald database on a server (staging)
cannot read another's (production).

A rebuild replays the log into a new schema that then takes the name `herald`
(projections/rebuild.py); `grant_reads` is run on that schema before the swap, so the
group's privileges move with it. Tables and views made later in a schema (a newer
schema.sql, whose views are dropped and made again) get them through default privileges.

Every statement is built with psycopg.sql (identifiers quoted by it); a password is hashed
by libpq before it is sent, so the server (and its statement log) never sees it in clear.
"""

import re

from psycopg import Connection, sql

from projections.handlers import LIVE_SCHEMA
from projections.projector import LOCK_KEY

MAX_NAME_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1: longer names are silently truncated
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]*")
GRANT_LOCK_KEY = LOCK_KEY + 4  # two grants at once would both create the group
POWERS = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")


class AnalystRoleError(ValueError):
    """Every reason a role cannot be made an analyst, each naming the value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def role_name_problems(role: str) -> list[str]:
    """What is wrong with `role` as an analyst's name: PostgreSQL's rules for an unquoted
    identifier, in lower case (so that it is typed in psql as it is written here)."""
    problems = []
    if not ROLE_NAME.fullmatch(role):
        problems.append(
            f"role {role!r}: only lower-case ASCII letters, digits and underscores,"
            " starting with a letter or an underscore"
        )
    if len(role.encode()) > MAX_NAME_BYTES:
        problems.append(f"role {role!r}: longer than {MAX_NAME_BYTES} bytes")
    if role.startswith("pg_"):
        problems.append(f"role {role!r}: names starting with pg_ are PostgreSQL's own")
    return problems


def request_problems(role: str, password: str | None) -> list[str]:
    """Every problem of a grant's role name and password, found without the database."""
    problems = role_name_problems(role)
    if password is not None and password == "":
        problems.append("password (empty): an empty password cannot be used to log in")
    return problems


def group_name(conn: Connection) -> str:
    """The analysts' group role of the connected database."""
    row = conn.execute("SELECT current_database()").fetchone()
    assert row is not None
    group = f"{row[0]}_analysts"
    if len(group.encode()) > MAX_NAME_BYTES:
        raise AnalystRoleError(
            [f"database {row[0]!r}: its name is too long for a group role {group!r}"]
        )
    return group


def _role_exists(conn: Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def grant_reads(conn: Connection, schema: str = LIVE_SCHEMA) -> None:
    """Let the analysts' group read every table and view of `schema`, now and made later
    (by the schema's owner, who runs Herald's DDL); nothing if no analyst was ever made."""
    group = group_name(conn)
    if not _role_exists(conn, group):
        return
    row = conn.execute(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", (schema,)
    ).fetchone()
    if row is None:
        raise LookupError(f"schema {schema!r} does not exist")
    names = {
        "schema": sql.Identifier(schema),
        "group": sql.Identifier(group),
        "owner": sql.Identifier(row[0]),
    }
    for statement in (
        "GRANT USAGE ON SCHEMA {schema} TO {group}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {group}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}"
        " GRANT SELECT ON TABLES TO {group}",
    ):
        conn.execute(sql.SQL(statement).format(**names))  # type: ignore[arg-type]


def grant_analyst(conn: Connection, role: str, password: str | None = None) -> str:
    """Make `role` (created if missing) a read-only reader of schema `herald`: a login
    member of the database's analysts group. An existing role must be a plain one (no
    superuser or other powers, not Herald's own, owning nothing here, granted no writes
    here, a member of no other role): being made an analyst takes no privilege away from
    it. Returns the group's name."""
    problems = request_problems(role, password)
    if problems:
        raise AnalystRoleError(problems)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (GRANT_LOCK_KEY,))
        group = group_name(conn)
        problems = _existing_role_problems(conn, role, group)
        if problems:
            raise AnalystRoleError(problems)
        names = {"role": sql.Identifier(role), "group": sql.Identifier(group)}
        if not _role_exists(conn, group):
            conn.execute(sql.SQL("CREATE ROLE {group} NOLOGIN").format(**names))
        if _role_exists(conn, role):
            conn.execute(sql.SQL("ALTER ROLE {role} LOGIN INHERIT").format(**names))
        else:
            conn.execute(sql.SQL("CREATE ROLE {role} LOGIN INHERIT").format(**names))
        if password is not None:
            hashed = conn.pgconn.encrypt_password(password.encode(), role.encode()).decode()
            conn.execute(
                sql.SQL("ALTER ROLE {role} PASSWORD {hashed}").format(
                    hashed=sql.Literal(hashed), **names
                )
            )
        database = sql.Identifier(conn.info.dbname)
        conn.execute(
            sql.SQL(
                "ALTER ROLE {role} IN DATABASE {db} SET default_transaction_read_only = on"
            ).format(db=database, **names)
        )
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {db} TO {group}").format(db=database, **names)
        )
        conn.execute(sql.SQL("GRANT {group} TO {role}").format(**names))
        grant_reads(conn, LIVE_SCHEMA)
    return group


def _existing_role_problems(conn: Connection, role: str, group: str) -> list[str]:
    if role == group:
        return [f"role {role!r}: is the analysts' group itself; name a login role"]
    found = conn.execute(
        sql.SQL(
            "SELECT r.rolname = current_user OR r.rolname = session_user, {powers},"
            " EXISTS (SELECT 1 FROM pg_class WHERE relowner = r.oid)"
            " OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspowner = r.oid)"
            " OR EXISTS (SELECT 1 FROM pg_database WHERE datdba = r.oid"
            " AND datname = current_database()),"
            # Writes it was granted on tables here, and the roles it is a member of (other
            # than the analysts' group): it would keep being able to write through them.
            " EXISTS (SELECT 1 FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = r.oid"
            " AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')),"
            " ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " WHERE m.member = r.oid AND g.rolname <> %s ORDER BY g.rolname)"
            " FROM pg_roles r WHERE r.rolname = %s"
        ).format(powers=sql.SQL(", ").join(sql.Identifier("r", p) for p in POWERS)),
        (group, role),
    ).fetchone()
    if found is None:
        return []
    herald_itself, *powers, owns, writes, member_of = found
    problems = []
    if herald_itself:
        problems.append(f"role {role!r}: is the role Herald itself connects as")
    held = [name.removeprefix("rol") for name, has in zip(POWERS, powers, strict=True) if has]
    if held:
        problems.append(
            f"role {role!r}: already has powers an analyst must not ({', '.join(held)})"
        )
    if owns:
        problems.append(f"role {role!r}: owns objects in this database, so it could write them")
    if writes:
        problems.append(f"role {role!r}: was granted writes on tables in this database")
    if member_of:
        problems.append(
            f"role {role!r}: is a member of {', '.join(member_of)}, whose privileges it keeps"
        )
    return problems
