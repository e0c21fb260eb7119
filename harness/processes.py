"""Starting `herald` commands in subprocesses and waiting until they are healthy."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# The `herald` script installed beside this interpreter (the virtualenv's).
HERALD = str(Path(sys.executable).with_name("herald"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def herald_cli(database_url: str, *args: str) -> str:
    """Run a `herald` command; its last line of output (where ids are printed)."""
    done = subprocess.run(
        [HERALD, *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@dataclass(frozen=True)
class CliTenant:
    """An account made with `herald` commands: its public id, an API key, an agent."""

    account: str
    key: str
    agent: str


def cli_tenant(database_url: str, name: str, numbers: Iterable[str] = ()) -> CliTenant:
    """A fresh account made as an operator makes one: quiet hours off (what runs must not
    depend on the hour it runs at), an API key, and an agent that sends from `numbers`."""
    account = herald_cli(database_url, "accounts", "create", name)
    herald_cli(database_url, "accounts", "quiet-hours", account, "--off")
    key = herald_cli(database_url, "keys", "create", "--account", account)
    agent = herald_cli(database_url, "agents", "create", "--account", account, "--name", name)
    for number in numbers:
        add = ("numbers", "add", "--account", account, "--agent", agent, "--phone", number)
        herald_cli(database_url, *add)
    return CliTenant(account, key, agent)


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], timeout: float = 30, path: str = "/healthz"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not become healthy")


@contextmanager
def serving(database_url: str, **env: str) -> Iterator[str]:
    """`herald serve` on a free port, until the block ends; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [HERALD, "serve", "--port", str(port)],
        env={**os.environ, "DATABASE_URL": database_url, **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
