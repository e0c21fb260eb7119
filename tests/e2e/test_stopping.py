"""Every process stops on SIGTERM as on Ctrl-C: exit status 0, nothing left running (the
embedded PostgreSQL it started included), and no traceback or failure in its log."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from harness.processes import HERALD, free_port, herald_cli, wait_healthy
from interfaces.database import create_database, drop_database

STOP_TIMEOUT = 90  # seconds: a bound on hanging (a loaded CI machine is slow), not a speed


class Started:
    """A `herald` process, its output kept in files (a pipe nobody reads could block it)."""

    def __init__(self, directory: Path, env: dict[str, str], *args: str, url: str = "") -> None:
        self.url = url
        self.stdout, self.stderr = directory / "stdout", directory / "stderr"
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen([HERALD, *args], env=env, stdout=out, stderr=err)

    def tree(self) -> list[psutil.Process]:
        main = psutil.Process(self.process.pid)
        return [main, *main.children(recursive=True)]

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents may be private to the user running the tests, and the
    # embedded PostgreSQL (run as its own user when that is root) must reach its data.
    path = Path(tempfile.mkdtemp(prefix="herald-stop-"))
    yield path
    for leftover in embedded_postgres((path / "data" / "pg").resolve())[:1]:
        leftover.send_signal(signal.SIGINT)  # a failed test's server: fast shutdown
        leftover.wait(STOP_TIMEOUT)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[str]:
    """A database of its own, beside the session's: `herald up` may make its demo account
    there (the session's tests import the seed's number themselves)."""
    name = f"herald_stop_{os.getpid()}"
    yield create_database(database_url, name)
    drop_database(database_url, name)


def herald_env(workdir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["HERALD_DATA_DIR"] = str(workdir / "data")
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


def embedded_postgres(pgdata: Path) -> list[psutil.Process]:
    """The embedded server's postmaster and its children (they are not ours: pg_ctl
    detaches them)."""
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(pgdata) in (process.info["cmdline"] or []):
            return [process, *process.children(recursive=True)]
    return []


def start(workdir: Path, env: dict[str, str], *args: str, health: str = "/healthz") -> Started:
    port = free_port()
    started = Started(workdir, env, *args, "--port", str(port), url=f"http://127.0.0.1:{port}")
    try:
        wait_healthy(started.url, started.process, path=health)
    except Exception as error:
        started.kill()
        raise RuntimeError(f"{error}; its output:\n{started.output()}") from error
    return started


def assert_stopped_cleanly(
    started: Started, running: list[psutil.Process], sig: signal.Signals = signal.SIGTERM
) -> None:
    try:
        assert started.stop(sig) == 0, started.output()
    finally:
        started.kill()
    left = [p for p in running if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == []
    output = started.output()
    assert "Traceback" not in output
    assert "_failed" not in output
    for bad in ("[error", "[warning", "ERROR:", "WARNING:", '"level": "error', '"level": "warning'):
        assert bad not in output


def test_herald_up_stops_on_sigterm_and_stops_the_embedded_postgresql_it_started(
    workdir: Path,
) -> None:
    started = start(workdir, herald_env(workdir), "up")
    pgdata = (workdir / "data" / "pg").resolve()
    postgres = embedded_postgres(pgdata)
    assert postgres, "herald up started no embedded PostgreSQL"

    assert_stopped_cleanly(started, started.tree() + postgres)
    assert not (pgdata / "postmaster.pid").exists()


def test_herald_up_stops_on_ctrl_c_with_the_follower_stopped_before_the_database(
    workdir: Path,
) -> None:
    started = start(workdir, herald_env(workdir), "up")
    pgdata = (workdir / "data" / "pg").resolve()
    postgres = embedded_postgres(pgdata)

    assert_stopped_cleanly(started, started.tree() + postgres, signal.SIGINT)
    assert not (pgdata / "postmaster.pid").exists()


def test_herald_up_stops_the_embedded_postgresql_a_killed_herald_left_running(
    workdir: Path,
) -> None:
    killed = start(workdir, herald_env(workdir), "up")
    killed.kill()  # SIGKILL: it cannot let go of the server, which keeps running
    pgdata = (workdir / "data" / "pg").resolve()
    assert embedded_postgres(pgdata)

    started = start(workdir, herald_env(workdir), "up")
    assert_stopped_cleanly(started, started.tree() + embedded_postgres(pgdata))
    assert not (pgdata / "postmaster.pid").exists()


def test_herald_up_stops_on_sigterm_with_a_database_url(workdir: Path, fresh_database: str) -> None:
    started = start(workdir, herald_env(workdir, fresh_database), "up")

    assert_stopped_cleanly(started, started.tree())
    assert not (workdir / "data" / "pg").exists()


def test_a_second_signal_while_stopping_changes_nothing(workdir: Path) -> None:
    started = start(workdir, herald_env(workdir), "up")
    pgdata = (workdir / "data" / "pg").resolve()
    running = started.tree() + embedded_postgres(pgdata)

    started.process.send_signal(signal.SIGINT)
    assert_stopped_cleanly(started, running, signal.SIGTERM)
    assert "already_stopping" in started.output()
    assert not (pgdata / "postmaster.pid").exists()


def test_herald_serve_stops_on_sigterm(workdir: Path, database_url: str) -> None:
    started = start(workdir, herald_env(workdir, database_url), "serve")

    assert_stopped_cleanly(started, started.tree())


def test_herald_simulator_stops_on_sigterm(workdir: Path) -> None:
    started = start(workdir, herald_env(workdir), "simulator", health="/_sim/health")

    assert_stopped_cleanly(started, started.tree())


def test_herald_dispatch_stops_on_sigterm(workdir: Path, database_url: str) -> None:
    started = Started(workdir, herald_env(workdir, database_url), "dispatch")
    try:
        wait_for_line(started, "Dispatching")
    except Exception:
        started.kill()
        raise

    assert_stopped_cleanly(started, started.tree())


def wait_for_line(started: Started, text: str, timeout: float = STOP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while text not in started.output():
        if started.process.poll() is not None:
            raise RuntimeError(f"exited with {started.process.returncode}: {started.output()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {text!r} in {started.output()!r}")
        time.sleep(0.1)


def test_herald_up_makes_no_demo_account_beside_the_users_own(
    workdir: Path, fresh_database: str
) -> None:
    account = herald_cli(fresh_database, "accounts", "create", "Acme Dental")
    agent = herald_cli(
        fresh_database, "agents", "create", "--account", account, "--name", "Reception"
    )
    herald_cli(
        fresh_database,
        "numbers", "add", "--account", account, "--agent", agent, "--phone", "+447446466847",
    )  # fmt: skip

    started = start(workdir, herald_env(workdir, fresh_database), "up")
    try:
        key = herald_cli(fresh_database, "keys", "create", "--account", account)
        numbers = httpx.get(
            f"{started.url}/v1/numbers",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ).json()
    finally:
        assert_stopped_cleanly(started, started.tree())

    assert [n["phone_number"] for n in numbers] == ["+447446466847"]
    with psycopg.connect(fresh_database) as conn:
        names = conn.execute("SELECT name FROM herald.accounts").fetchall()
    assert names == [("Acme Dental",)]
    assert "HERALD_API_KEY" not in started.stdout.read_text()
    assert f"herald keys create --account {account[:5]}" in started.stderr.read_text()
