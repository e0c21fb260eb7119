"""`herald up`'s demo tenant: an account, an agent and a number, made once and reused."""

from dataclasses import dataclass

from application.directory import AddNumber, CreateAgent
from domain import ids
from interfaces.bootstrap import Herald

DEMO_ACCOUNT = "Demo"
DEMO_NUMBER = "+447446466847"  # the seed's example sender


@dataclass(frozen=True)
class Demo:
    account_id: str
    agent_id: str
    from_number: str
    key: str


def demo_account(herald: Herald) -> Demo:
    with herald.pool.connection() as conn:
        row = conn.execute(
            "SELECT a.account_id, g.agent_id FROM herald.accounts a"
            " JOIN herald.sender_numbers n ON n.account_id = a.account_id"
            " JOIN herald.agents g ON g.agent_id = n.agent_id"
            " WHERE n.phone_number = %s",
            (DEMO_NUMBER,),
        ).fetchone()
    if row is None:
        account_id = herald.directory.create_account(DEMO_ACCOUNT)
        agent_id = herald.directory.create_agent(
            account_id,
            CreateAgent("Acme Dental reception", "You are the receptionist at Acme Dental."),
        )
        herald.directory.add_number(
            account_id, AddNumber(DEMO_NUMBER, ids.public_id(ids.AGENT, agent_id), 1)
        )
    else:
        account_id, agent_id = row
    # Secrets are never stored, so each start makes a fresh demo key.
    key = herald.directory.create_key(account_id)
    return Demo(
        ids.public_id(ids.ACCOUNT, account_id),
        ids.public_id(ids.AGENT, agent_id),
        DEMO_NUMBER,
        key,
    )
