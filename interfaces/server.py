"""Running ASGI apps (Herald's API, the simulator) under uvicorn, blocking or in a thread."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from interfaces.api.limits import SERVER_MAX_HEAD_BYTES
from interfaces.bootstrap import Herald
from interfaces.stopping import StopRequest

if TYPE_CHECKING:
    from simulator import SimulatorConfig

START_TIMEOUT = 10.0
SHUTDOWN_GRACE = 10  # seconds open requests get to finish once stopping


class _SignalFreeServer(uvicorn.Server):
    """uvicorn, with signals left to the process's StopRequest: uvicorn's own handlers
    re-raise SIGTERM once it has shut down, which killed the process before it stopped
    the dispatcher and the embedded PostgreSQL, and a second Ctrl-C skipped the app's
    shutdown hooks."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve_until_stopped(app: Any, host: str, port: int, stop: StopRequest) -> None:
    """Serve `app` from this thread until a stop is requested; then stop taking requests,
    let open ones finish and run the app's shutdown hooks."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        log_config=None,  # its records go through the process's one setup (logging_setup)
        access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
        # Heads up to this size reach the app, which answers oversized ones with a 431.
        h11_max_incomplete_event_size=SERVER_MAX_HEAD_BYTES,
    )
    server = _SignalFreeServer(config)
    stop.on_stop(lambda: setattr(server, "should_exit", True))
    server.run()


def run_api(
    herald: Herald, host: str, port: int, stop: StopRequest, follow_projection: bool = True
) -> None:
    from interfaces.api.app import create_app

    serve_until_stopped(create_app(herald, follow_projection), host, port, stop)


def run_simulator(
    host: str, port: int, stop: StopRequest, config: "SimulatorConfig | None" = None
) -> None:
    """`herald simulator`: serve until a stop is requested; TWILIO_ACCOUNT_SID /
    TWILIO_AUTH_TOKEN, when set, replace the config's accounts."""
    from simulator import SimulatorConfig, create_simulator_app, with_env_accounts

    app = create_simulator_app(with_env_accounts(config or SimulatorConfig()))
    serve_until_stopped(app, host, port, stop)


class ServerHandle:
    """A server running in a daemon thread; `url` is where it listens."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        self.server, self.thread, self.url = server, thread, url

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket. Its protocol must be IPPROTO_TCP (not 0, as from
    `socket.create_server`): asyncio sets TCP_NODELAY only on such connections, and
    without it every keep-alive request waits ~40 ms for a delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    return listener


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve `app` from a daemon thread; return once it accepts requests (port 0: any)."""
    listener = listen(host, port)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="on",
            h11_max_incomplete_event_size=SERVER_MAX_HEAD_BYTES,
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            listener.close()
            raise RuntimeError("the server did not start")
        time.sleep(0.005)
    bound_host, bound_port = listener.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return ServerHandle(server, thread, f"http://{shown}:{bound_port}")


def start_simulator_in_thread(
    config: "SimulatorConfig | None" = None, host: str = "127.0.0.1", port: int = 0
) -> ServerHandle:
    """The simulator in a daemon thread (`herald up`, tests); returns once it accepts
    requests (port 0: any free port, see `handle.url`)."""
    from simulator import SimulatorConfig, create_simulator_app

    return serve_in_thread(create_simulator_app(config or SimulatorConfig()), host, port)
