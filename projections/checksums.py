"""A checksum of each read-model table, to show that a rebuild gives the same tables.

Every base table of the schema, every column: an md5 of its rows' text in primary-key
order. Only what the projector does not derive from events is left out (the time a failure
was noted, `now()` when it was), and a campaign's status count of 0, which every reader
takes as no row (the API shows counts above 0; a sum is the same): the count triggers
leave one when a status's last recipient leaves it, a rebuild's recount has none.
"""

from psycopg import Connection, sql

NOT_DERIVED = {("projection_failures", "failed_at")}
ROWS_THAT_COUNT = {"campaign_status_counts": "n <> 0"}


def table_checksums(conn: Connection, schema: str = "herald") -> dict[str, tuple[int, str]]:
    """(rows, md5) of every table of `schema`, by table name."""
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
            (schema,),
        ).fetchall()
    ]
    return {table: _checksum(conn, schema, table) for table in tables}


def _checksum(conn: Connection, schema: str, table: str) -> tuple[int, str]:
    columns = [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        ).fetchall()
        if (table, row[0]) not in NOT_DERIVED
    ]
    key = [
        row[0]
        for row in conn.execute(
            "SELECT a.attname FROM pg_index i"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = %s::regclass AND i.indisprimary"
            " ORDER BY array_position(i.indkey, a.attnum)",
            (f"{schema}.{table}",),
        ).fetchall()
    ]
    row_text = sql.SQL("ROW({})::text").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
    order = sql.SQL(", ").join(map(sql.Identifier, key)) if key else row_text
    query = sql.SQL(
        "SELECT count(*), md5(coalesce(string_agg({row}, E'\\n' ORDER BY {order}), ''))"
        " FROM {table} WHERE {kept}"
    ).format(
        row=row_text,
        order=order,
        table=sql.Identifier(schema, table),
        kept=sql.SQL(ROWS_THAT_COUNT.get(table, "true")),  # type: ignore[arg-type]
    )
    found = conn.execute(query).fetchone()
    assert found is not None
    return int(found[0]), str(found[1])
