"""The `herald` command: operators' tasks and the processes (serve, up)."""

import os
import re
import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import TypeVar
from uuid import UUID

import click
from rich.console import Console
from rich.markup import escape

from application.errors import ApplicationError
from domain import ids
from interfaces.bootstrap import Herald, bootstrap
from interfaces.cli_analysts import analysts
from interfaces.cli_audit import audit, export
from interfaces.cli_consents import accounts_require_opt_in, consents
from interfaces.cli_responders import responder
from interfaces.logging_setup import configure_logging
from interfaces.settings import from_env
from interfaces.stopping import StopRequest

console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
ASCII_INTEGER = re.compile(r"-?[0-9]{1,9}")


def _herald() -> Herald:
    return bootstrap(from_env())


def _account(value: str) -> UUID:
    uuid = ids.parse_public_id(ids.ACCOUNT, value)
    if uuid is None:
        try:
            uuid = UUID(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not an account id") from None
    return uuid


class AsciiInt(click.ParamType):
    """An integer in ASCII digits: click's INT, like int(), also reads "٣" as 3."""

    name = "integer"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        if not isinstance(value, str) or ASCII_INTEGER.fullmatch(value) is None:
            self.fail(f"{value!r} is not a whole number in ASCII digits", param, ctx)
        return int(value)


# The long-running processes write JSON lines for a log collector; the rest, for people.
JSON_LOGS = frozenset({"serve", "dispatch"})


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Herald: SMS campaigns and messages through your own Twilio account."""
    configure_logging("json" if ctx.invoked_subcommand in JSON_LOGS else "console")


@main.group()
def accounts() -> None:
    """Accounts (tenants)."""


@accounts.command("create")
@click.argument("name")
def accounts_create(name: str) -> None:
    """Create an account; prints its id as the last line."""
    herald = _herald()
    account_id = _run(lambda: herald.directory.create_account(name))
    console.print(f"Created account [bold]{escape(name)}[/bold]")
    click.echo(ids.public_id(ids.ACCOUNT, account_id))


@accounts.command("twilio")
@click.argument("account")
@click.option("--sid", required=True, help="the account's Twilio account SID (AC…)")
@click.option(
    "--token", prompt=True, hide_input=True, envvar="HERALD_TWILIO_TOKEN", help="its auth token"
)
def accounts_twilio(account: str, sid: str, token: str) -> None:
    """Send this account's messages through its own Twilio account."""
    herald = _herald()
    _run(lambda: herald.directory.set_twilio_account(_account(account), sid, token))
    click.echo(sid)


@accounts.command("quiet-hours")
@click.argument("account")
@click.option("--start", help="start of the window, HH:MM in each recipient's local time")
@click.option("--end", help="end of the window, HH:MM")
@click.option("--off", is_flag=True, help="turn quiet hours off: send at any hour")
def accounts_quiet_hours(account: str, start: str | None, end: str | None, off: bool) -> None:
    """Set when nothing is sent to a recipient (default 21:00-09:00), or turn it off."""
    if off == bool(start or end) or (not off and not (start and end)):
        raise click.UsageError("give --start and --end, or --off")
    herald = _herald()
    window = None if off else (str(start), str(end))
    _run(lambda: herald.directory.set_quiet_hours(_account(account), window))
    click.echo("quiet hours off" if window is None else f"quiet hours {start}-{end}")


@accounts.command("help-text")
@click.argument("account")
@click.argument("text", required=False)
@click.option("--default", "default", is_flag=True, help="back to the default help text")
def accounts_help_text(account: str, text: str | None, default: bool) -> None:
    """Set what an SMS saying HELP or INFO is answered with; prints the text in use."""
    if default == (text is not None):
        raise click.UsageError("give TEXT, or --default")
    herald = _herald()
    account_id = _account(account)
    _run(lambda: herald.directory.set_help_text(account_id, text))
    click.echo(herald.conversations.help_text(account_id))


@main.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--account", "account", required=True, help="account id")
def keys_create(account: str) -> None:
    """Create an API key; prints KEY_ID:KEY_SECRET as the last line (shown only once)."""
    herald = _herald()
    key = _run(lambda: herald.directory.create_key(_account(account)))
    console.print("Store this key now: its secret is not kept and cannot be shown again.")
    click.echo(key)


@keys.command("revoke")
@click.option("--account", "account", required=True, help="account id")
@click.argument("key_id")
def keys_revoke(account: str, key_id: str) -> None:
    """Revoke an API key: requests with it get 401 from then on."""
    herald = _herald()
    _run(lambda: herald.directory.revoke_key(_account(account), key_id.partition(":")[0]))
    click.echo(f"revoked {key_id.partition(':')[0]}")


@main.group()
def agents() -> None:
    """Agents."""


@agents.command("create")
@click.option("--account", "account", required=True, help="account id")
@click.option("--name", required=True)
@click.option("--system-prompt", default="", help="how the agent answers replies")
def agents_create(account: str, name: str, system_prompt: str) -> None:
    """Create an agent; prints its id as the last line."""
    from application.directory import CreateAgent

    herald = _herald()
    agent_id = _run(
        lambda: herald.directory.create_agent(_account(account), CreateAgent(name, system_prompt))
    )
    click.echo(ids.public_id(ids.AGENT, agent_id))


agents.add_command(responder)


@main.group()
def numbers() -> None:
    """Sender numbers."""


@numbers.command("add")
@click.option("--account", "account", required=True, help="account id")
@click.option("--agent", "agent", required=True, help="agent id that owns the number")
@click.option("--phone", "phone", required=True, help="the Twilio number, E.164")
@click.option(
    "--mps", type=AsciiInt(), default=1, show_default=True, help="segments per second it may send"
)
def numbers_add(account: str, agent: str, phone: str, mps: int) -> None:
    """Import a Twilio number for an agent; prints the number as the last line."""
    from application.directory import AddNumber

    herald = _herald()
    _run(lambda: herald.directory.add_number(_account(account), AddNumber(phone, agent, mps)))
    click.echo(phone)


@main.group()
def projections() -> None:
    """Read models."""


@projections.command("rebuild")
def projections_rebuild() -> None:
    """Replay every event into fresh read models beside the live ones, then swap them in."""
    herald = _herald()
    position = herald.projector.rebuild()
    failures = herald.projector.failures()
    if failures:
        console.print(
            f"{len(failures)} events could not be applied; see herald.projection_failures"
        )
    click.echo(f"rebuilt to position {position}")


main.add_command(audit)
main.add_command(consents)
accounts.add_command(accounts_require_opt_in)
main.add_command(export)
main.add_command(analysts)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def serve(host: str, port: int) -> None:
    """Run the HTTP API."""
    from interfaces.server import run_api

    stop = StopRequest.on_signals()
    with _stopping() as stack:
        herald = _herald()
        stack.callback(herald.close)
        run_api(herald, host, port, stop)


@main.command()
def dispatch() -> None:
    """Run a dispatcher: submits due messages to Twilio, paced per number. Run several at will."""
    from interfaces.dispatcher import DispatcherProcess

    stop = StopRequest.on_signals()
    with _stopping() as stack:
        herald = _herald()
        stack.callback(herald.close)
        process = DispatcherProcess(herald)
        process.start()
        stack.callback(process.stop)
        console.print("Dispatching; Ctrl-C or SIGTERM stops it once what is in flight is recorded")
        stop.wait()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True)
def simulator(host: str, port: int) -> None:
    """Run the Twilio simulator (Messages API, signed status callbacks, faults on request)."""
    from interfaces.server import run_simulator
    from simulator import SimulatorConfig

    stop = StopRequest.on_signals()
    settings = from_env()
    config = SimulatorConfig(accounts={settings.twilio_account_sid: settings.twilio_auth_token})
    console.print(f"Twilio simulator at http://{host}:{port} (control API: /_sim)")
    run_simulator(host, port, stop, config)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def up(host: str, port: int) -> None:
    """Everything on one machine for a first look; prints the URL and a demo API key."""
    from interfaces.api.app import FOLLOWER_STOP_TIMEOUT
    from interfaces.dashboard.auth import dashboard_secret as dashboard_secret_of
    from interfaces.demo import demo_account
    from interfaces.dispatcher import DispatcherProcess
    from interfaces.server import run_api

    stop = StopRequest.on_signals()
    settings = from_env()
    if settings.database_url is None:
        console.print(f"Starting embedded PostgreSQL in {settings.data_dir / 'pg'} …")
    if "HERALD_PUBLIC_URL" not in os.environ:
        settings = settings.with_(public_url=f"http://{host}:{port}")
    # Parts stop in the reverse order of starting: the API, the dispatcher (recording its
    # submissions in flight), the projection follower (which projects those), the pools,
    # the simulator, and last the embedded PostgreSQL.
    with _stopping() as stack:
        if not settings.twilio_configured:
            from interfaces.server import start_simulator_in_thread
            from simulator import SimulatorConfig

            simulator = start_simulator_in_thread(
                SimulatorConfig(accounts={settings.twilio_account_sid: settings.twilio_auth_token})
            )
            stack.callback(simulator.stop)
            settings = settings.with_(twilio_api_base_url=simulator.url)
            console.print(f"No Twilio credentials: using the simulator at {simulator.url}")
        herald = bootstrap(settings)
        stack.callback(herald.close)
        following = threading.Event()
        follower = herald.projector.follow(following)

        def stop_following() -> None:
            following.set()
            follower.join(FOLLOWER_STOP_TIMEOUT)

        stack.callback(stop_following)
        dispatcher = DispatcherProcess(herald)
        dispatcher.start()
        stack.callback(dispatcher.stop)
        demo = demo_account(herald)
        url = f"http://{host}:{port}"
        console.print(f"Dashboard: [bold]{url}/dashboard/[/bold]")
        if demo is not None:
            from interfaces.dashboard.auth import sign_in_link

            link = sign_in_link(url, dashboard_secret_of(herald.settings), demo.key)
            console.print(f"Sign in to the demo account (link valid for an hour): {link}")
        console.print(f"Herald is up at [bold]{url}[/bold] (OpenAPI: {url}/schema)")
        if demo is None:
            console.print(
                "This database has accounts already, so no demo account was made."
                " Make a key for yours: herald keys create --account acct_…"
            )
        else:
            console.print(f"agent_id: {demo.agent_id}   from_number: {demo.from_number}")
            console.print(f"Try: curl {url}/v1/sms/campaigns -H 'Authorization: Bearer {demo.key}'")
            click.echo(f"HERALD_API_KEY={demo.key}")
            if demo.quiet_hours_notice:
                console.print(demo.quiet_hours_notice)
        sys.stdout.flush()
        run_api(herald, host, port, stop, follow_projection=False)


def _stopping() -> ExitStack:
    """A stack for a process's parts: they stop in the reverse order of starting, and the
    embedded PostgreSQL (if this process is the last one using it) after them all."""
    from interfaces.database import stop_embedded

    stack = ExitStack()
    stack.callback(stop_embedded)
    return stack


def _run(action: Callable[[], T]) -> T:
    """Run a use case; an application error becomes a message and exit status 1."""
    try:
        return action()
    except ApplicationError as error:
        console.print(f"[red]error:[/red] {error.message}")
        for detail in error.details:
            console.print(f"  {detail['field']}: {detail['message']} ({detail['value']!r})")
        sys.exit(1)
