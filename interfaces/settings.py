"""Every setting Herald reads from the environment, in one place, read once.

| variable | default | meaning |
| --- | --- | --- |
| DATABASE_URL | (unset: embedded) | PostgreSQL, e.g. postgresql://user@host:5432/db |
| HERALD_DATA_DIR | .herald | where the embedded PostgreSQL keeps its data |
| HERALD_PUBLIC_URL | http://127.0.0.1:8000 | the URL Twilio reaches Herald at (webhooks) |
| TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN | (unset) | default Twilio credentials |
| TWILIO_API_BASE_URL | https://api.twilio.com | Twilio's REST base URL (the simulator's in tests) |
| HERALD_ALLOWED_COUNTRIES | GB | recipient countries, ISO 3166 codes, comma-separated |
| HERALD_MAX_RECIPIENTS | 100000 | recipients per campaign |
| HERALD_MAX_BODY_BYTES | 33554432 | largest request body (413 above) |
| HERALD_PRICE_PER_SEGMENT | 0.04 | for cost estimates |
| HERALD_CURRENCY | GBP | of the price |
| HERALD_DB_POOL_SIZE | 10 | read-model connections per process |
| HERALD_DISPATCH_WORKERS | 32 | concurrent submissions to Twilio per dispatcher |
| HERALD_ATTEMPT_TIMEOUT | 15 | seconds before an unanswered submission is looked up |
| HERALD_DISPATCH_LEASE | 5 | seconds a dead dispatcher's numbers stay leased to it |
| HERALD_SMS_WAIT_SECONDS | 2 | how long POST /v1/sms waits for Twilio's SID |
| HERALD_CLOCK_OFFSET | 0 | seconds added to Herald's and the simulator's clocks (any hour) |
| HERALD_OPENAI_BASE_URL | https://api.openai.com/v1 | the `openai` responder's endpoint (1) |
| HERALD_OPENAI_MODEL | gpt-4o-mini | the model the `openai` responder asks |
| HERALD_OPENAI_API_KEY | (unset) | its API key (a local server that wants none gets `unused`) |
| HERALD_RESPONDER_TIMEOUT | 20 | seconds a responder may take to connect and each read (2) |

(1) Any OpenAI-compatible chat completions server: Ollama (http://127.0.0.1:11434/v1),
vLLM, llama.cpp's server. (2) A webhook's whole answer must also come within it.

Without Twilio credentials, Herald uses the simulator's: account SID AC000…0 and auth
token `simulator-auth-token` (what `herald simulator` and `herald up` accept).
"""

import os
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from pathlib import Path

from application.policy import Policy

SIMULATOR_ACCOUNT_SID = "AC" + "0" * 32
SIMULATOR_AUTH_TOKEN = "simulator-auth-token"


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = Path(".herald")
    public_url: str = "http://127.0.0.1:8000"
    twilio_account_sid: str = SIMULATOR_ACCOUNT_SID
    twilio_auth_token: str = SIMULATOR_AUTH_TOKEN
    twilio_configured: bool = False
    twilio_api_base_url: str = "https://api.twilio.com"
    allowed_countries: frozenset[str] = frozenset({"GB"})
    max_recipients: int = 100_000
    max_body_bytes: int = 32 * 1024 * 1024
    price_per_segment: Decimal = Decimal("0.04")
    currency: str = "GBP"
    db_pool_size: int = 10
    dispatch_workers: int = 32
    attempt_timeout: float = 15.0
    dispatch_lease: float = 5.0
    sms_wait_seconds: float = 2.0
    clock_offset: float = 0.0
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4o-mini"
    openai_api_key: str = ""
    responder_timeout: float = 20.0
    dashboard_secret: str = ""  # signs dashboard CSRF tokens and sign-in links; random if unset

    @property
    def policy(self) -> Policy:
        return Policy(
            allowed_regions=self.allowed_countries,
            max_recipients=self.max_recipients,
            price_per_segment=self.price_per_segment,
            currency=self.currency,
        )

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]


@cache
def from_env() -> Settings:
    env = os.environ
    defaults = Settings()
    return Settings(
        database_url=env.get("DATABASE_URL") or None,
        data_dir=Path(env.get("HERALD_DATA_DIR", str(defaults.data_dir))),
        public_url=env.get("HERALD_PUBLIC_URL", defaults.public_url).rstrip("/"),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or SIMULATOR_ACCOUNT_SID,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or SIMULATOR_AUTH_TOKEN,
        twilio_configured=bool(env.get("TWILIO_ACCOUNT_SID") and env.get("TWILIO_AUTH_TOKEN")),
        twilio_api_base_url=env.get("TWILIO_API_BASE_URL", defaults.twilio_api_base_url),
        allowed_countries=frozenset(
            c.strip().upper()
            for c in env.get("HERALD_ALLOWED_COUNTRIES", "GB").split(",")
            if c.strip()
        ),
        max_recipients=int(env.get("HERALD_MAX_RECIPIENTS", defaults.max_recipients)),
        max_body_bytes=int(env.get("HERALD_MAX_BODY_BYTES", defaults.max_body_bytes)),
        price_per_segment=Decimal(env.get("HERALD_PRICE_PER_SEGMENT", "0.04")),
        currency=env.get("HERALD_CURRENCY", defaults.currency),
        db_pool_size=int(env.get("HERALD_DB_POOL_SIZE", defaults.db_pool_size)),
        dispatch_workers=int(env.get("HERALD_DISPATCH_WORKERS", defaults.dispatch_workers)),
        attempt_timeout=float(env.get("HERALD_ATTEMPT_TIMEOUT", defaults.attempt_timeout)),
        dispatch_lease=float(env.get("HERALD_DISPATCH_LEASE", defaults.dispatch_lease)),
        sms_wait_seconds=float(env.get("HERALD_SMS_WAIT_SECONDS", defaults.sms_wait_seconds)),
        clock_offset=float(env.get("HERALD_CLOCK_OFFSET", defaults.clock_offset)),
        openai_base_url=env.get("HERALD_OPENAI_BASE_URL") or defaults.openai_base_url,
        openai_model=env.get("HERALD_OPENAI_MODEL") or defaults.openai_model,
        openai_api_key=env.get("HERALD_OPENAI_API_KEY", defaults.openai_api_key),
        responder_timeout=float(env.get("HERALD_RESPONDER_TIMEOUT", defaults.responder_timeout)),
        dashboard_secret=env.get("HERALD_DASHBOARD_SECRET", ""),
    )
