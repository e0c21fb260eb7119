"""Serving the simulator with uvicorn: in the foreground, or in a thread for tests."""

from interfaces.server import ServerHandle, serve_in_thread, serve_until_stopped
from interfaces.stopping import StopRequest
from simulator.app import create_simulator_app
from simulator.config import SimulatorConfig, with_env_accounts

SimulatorHandle = ServerHandle


def run_simulator(
    host: str, port: int, stop: StopRequest, config: SimulatorConfig | None = None
) -> None:
    """Serve until a stop is requested; TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN, when set,
    replace the config's accounts."""
    app = create_simulator_app(with_env_accounts(config or SimulatorConfig()))
    serve_until_stopped(app, host, port, stop)


def start_simulator_in_thread(
    config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> ServerHandle:
    """Start serving in a daemon thread; return once it accepts requests (port 0: any
    free port, see `handle.url`)."""
    return serve_in_thread(create_simulator_app(config or SimulatorConfig()), host, port)
