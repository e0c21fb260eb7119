"""Serving the simulator with uvicorn: in the foreground, or in a thread for tests."""

import uvicorn

from interfaces.server import ServerHandle, serve_in_thread
from interfaces.simulator.app import create_simulator_app
from interfaces.simulator.config import SimulatorConfig, with_env_accounts

SimulatorHandle = ServerHandle


def run_simulator(host: str, port: int, config: SimulatorConfig | None = None) -> None:
    """Serve until interrupted; TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN, when set, replace
    the config's accounts."""
    app = create_simulator_app(with_env_accounts(config or SimulatorConfig()))
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def start_simulator_in_thread(
    config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> ServerHandle:
    """Start serving in a daemon thread; return once it accepts requests (port 0: any
    free port, see `handle.url`)."""
    return serve_in_thread(create_simulator_app(config or SimulatorConfig()), host, port)
