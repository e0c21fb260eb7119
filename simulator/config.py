"""The simulator's settings: the accounts it knows and the options the control API changes."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from itertools import chain
from typing import Any

import msgspec

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "simulator-auth-token"
OUTCOMES = ("delivered", "undelivered", "failed")


def _default_accounts() -> dict[str, str]:
    return {DEFAULT_ACCOUNT_SID: DEFAULT_AUTH_TOKEN}


def _default_weights() -> dict[str, float]:
    return {"delivered": 1.0, "undelivered": 0.0, "failed": 0.0}


@dataclass(slots=True)
class SimulatorConfig:
    """Everything but `accounts` can be changed at run time through `POST /_sim/config`.

    Delays: `sent` is posted `sent_delay` seconds after the create, the final status
    `final_delay` seconds after that (with `reorder`, the final status comes first).
    """

    accounts: dict[str, str] = field(default_factory=_default_accounts)  # sid -> auth token
    outcome_weights: dict[str, float] = field(default_factory=_default_weights)
    undelivered_error_code: int = 30003
    failed_error_code: int = 30008
    sent_delay: float = 0.05
    final_delay: float = 0.1
    duplicate_rate: float = 0.0  # the fraction of callbacks posted twice
    reorder: bool = False  # post the final status before `sent`
    callbacks_enabled: bool = True
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses for the next creates
    # To -> HTTP statuses for the next creates to that phone only (other traffic of a shared
    # simulator does not use them up)
    fail_to: dict[str, list[int]] = field(default_factory=dict)
    create_before_fail: bool = False  # a 5xx fault still creates the message
    error_rate: float = 0.0  # the fraction of creates answered with `error_status`
    error_status: int = 500
    latency: float = 0.0  # seconds to wait before answering a create
    reject_to: dict[str, int] = field(default_factory=dict)  # To -> Twilio error code
    seed: int | None = None  # seeds outcomes, duplicates and random errors
    # Seconds added to its clock, as to Herald's (HERALD_CLOCK_OFFSET): the two agree on
    # message dates, which reconciliation looks up by.
    clock_offset: float = field(
        default_factory=lambda: float(os.environ.get("HERALD_CLOCK_OFFSET", "0"))
    )

    def __post_init__(self) -> None:
        _check(not set(self.outcome_weights) - set(OUTCOMES), f"outcomes are {OUTCOMES}")
        weights = self.outcome_weights.values()
        _check(all(w >= 0 for w in weights) and sum(weights) > 0, "weights: >= 0, sum > 0")
        for name in ("duplicate_rate", "error_rate"):
            _check(0 <= getattr(self, name) <= 1, f"{name} must be between 0 and 1")
        for name in ("sent_delay", "final_delay", "latency"):
            _check(getattr(self, name) >= 0, f"{name} must not be negative")
        statuses = [*self.fail_next, *chain(*self.fail_to.values()), self.error_status]
        _check(all(400 <= s <= 599 for s in statuses), "fault statuses must be 4xx or 5xx")


RUNTIME_OPTIONS = tuple(f.name for f in fields(SimulatorConfig) if f.name != "accounts")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def runtime_options(config: SimulatorConfig) -> dict[str, Any]:
    """The options as JSON-ready builtins (accounts are left out: they hold tokens)."""
    return {name: msgspec.to_builtins(getattr(config, name)) for name in RUNTIME_OPTIONS}


def updated(config: SimulatorConfig, changes: Mapping[str, Any]) -> SimulatorConfig:
    """A new config with `changes` applied; ValueError on an unknown option or a bad value.

    `outcome_weights` is replaced as a whole: outcomes it leaves out weigh 0.
    """
    unknown = sorted(set(changes) - set(RUNTIME_OPTIONS))
    _check(not unknown, f"unknown options: {unknown}; known: {list(RUNTIME_OPTIONS)}")
    merged = {**runtime_options(config), **changes}
    new = msgspec.convert(merged, SimulatorConfig)  # checks types, then __post_init__
    return replace(new, accounts=dict(config.accounts))


def with_env_accounts(
    config: SimulatorConfig, environ: Mapping[str, str] = os.environ
) -> SimulatorConfig:
    """Use TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN, when set, as the only account."""
    sid, token = environ.get("TWILIO_ACCOUNT_SID"), environ.get("TWILIO_AUTH_TOKEN")
    if not sid and not token:
        return config
    return replace(config, accounts={sid or DEFAULT_ACCOUNT_SID: token or DEFAULT_AUTH_TOKEN})
