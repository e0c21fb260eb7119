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

This package is the ASGI app and nothing of Herald's but its segment-counting rule
(`domain/segments.py`, pure). Herald serves it (`herald simulator`, `herald up`, tests)
with `interfaces/server.py`'s `run_simulator` and `start_simulator_in_thread`.
"""

from simulator.app import create_simulator_app
from simulator.config import SimulatorConfig, with_env_accounts

__all__ = ["SimulatorConfig", "create_simulator_app", "with_env_accounts"]
