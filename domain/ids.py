"""Public ids: a prefix and the aggregate UUID's hex, so they map both ways without a lookup."""

from uuid import UUID

CAMPAIGN = "smsc_"
AGENT = "agent_"
MESSAGE = "msg_"
NUMBER = "num_"
ACCOUNT = "acct_"
KEY = "key_"
CONVERSATION = "conv_"


def public_id(prefix: str, uuid: UUID) -> str:
    return prefix + uuid.hex


def parse_public_id(prefix: str, value: str) -> UUID | None:
    """The UUID behind a public id, or None when it is not one of this kind."""
    # isascii: UUID() reads Arabic-Indic and other digits as hex digits too.
    if not value.startswith(prefix) or len(value) != len(prefix) + 32 or not value.isascii():
        return None
    try:
        return UUID(hex=value[len(prefix) :])
    except ValueError:
        return None
