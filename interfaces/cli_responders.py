"""`herald agents responder`: who answers replies to an agent's numbers."""

import click

from domain.replies import KINDS


@click.command("responder")
@click.argument("agent")
@click.option("--account", "account", required=True, help="account id")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(KINDS),
    help="none: store replies only; webhook: POST the thread to --url; openai: the"
    " OpenAI-compatible endpoint in the settings (HERALD_OPENAI_*)",
)
@click.option("--url", default=None, help="the webhook's http(s) URL (webhook only)")
def responder(agent: str, account: str, kind: str, url: str | None) -> None:
    """Set who answers replies to AGENT's numbers; prints the kind (and URL)."""
    from application.directory import SetResponder
    from interfaces.cli import _account, _herald, _run

    herald = _herald()
    _run(lambda: herald.directory.set_responder(_account(account), agent, SetResponder(kind, url)))
    click.echo(kind if url is None else f"{kind} {url}")
