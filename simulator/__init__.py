"""A local, Twilio-compatible server for the Messages API, for development and tests.

Point the real twilio SDK at it by changing the API domain's base URL (twilio 9.13: each
domain object keeps `base_url`, default "https://api.twilio.com", and joins request paths
to it):

    client = twilio.rest.Client(sid, token)
    client.api.base_url = handle.url  # e.g. "http://127.0.0.1:41234"

Leave TWILIO_EDGE / TWILIO_REGION unset (or the client's `edge`/`region`): the SDK would
rewrite the host name. The default account is SID "AC" + 32 zeros, token
"simulator-auth-token".

Twilio's API: `POST|GET /2010-04-01/Accounts/{sid}/Messages.json` and
`GET …/Messages/{MessageSid}.json`, HTTP Basic auth. Created messages go `queued` →
`sent` → `delivered`/`undelivered`/`failed`, and status callbacks are posted signed with
the account's auth token. The control API (JSON, no auth) is under `/_sim`:
`GET health`, `GET messages`, `GET|POST config`, `POST reset`, `POST inbound`.
"""

from simulator.app import create_simulator_app
from simulator.config import SimulatorConfig
from simulator.server import SimulatorHandle, run_simulator, start_simulator_in_thread

__all__ = [
    "SimulatorConfig",
    "SimulatorHandle",
    "create_simulator_app",
    "run_simulator",
    "start_simulator_in_thread",
]
