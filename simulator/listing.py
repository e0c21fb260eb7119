"""`GET …/Messages.json`: the filters Twilio takes, and its pages, newest message first.

The twilio SDK sends `To`, `From`, `DateSent`, `DateSent<` (date_sent_before) and
`DateSent>` (date_sent_after), the dates as "YYYY-MM-DDTHH:MM:SSZ"; Twilio's own docs use
"YYYY-MM-DD". Both are read: `DateSent` matches the day, `DateSent<`/`DateSent>` are
inclusive bounds on the day (a date) or the moment (a date-time). A message's date is
its `date_sent`, or `date_created` while it is not sent yet.

Pages after the first carry `PageToken` "PA<sid>" (older than that message) or
"PB<sid>" (newer than it, for `previous_page_uri`), so pages stay put while new messages
arrive; without a token `Page` * `PageSize` messages are skipped.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from simulator.resources import message_resource, messages_uri
from simulator.store import Message, MessageStore

FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ListQuery:
    filters: dict[str, str]  # as received, to repeat in the page URIs
    to: str | None
    from_: str | None
    on: date | None
    since: date | None  # a datetime bound compares moments, a date bound days
    until: date | None
    page: int
    page_size: int
    token: str | None


def parse_query(params: Mapping[str, str]) -> ListQuery:
    """ValueError on a bad date, page or page size."""
    filters = {name: params[name] for name in FILTERS if params.get(name)}
    page_size = int(params.get("PageSize") or 50)
    page = int(params.get("Page") or 0)
    if not 1 <= page_size <= MAX_PAGE_SIZE or page < 0:
        raise ValueError(f"PageSize must be 1..{MAX_PAGE_SIZE} and Page >= 0")
    on = _parse_date(filters.get("DateSent"))
    return ListQuery(
        filters=filters,
        to=filters.get("To"),
        from_=filters.get("From"),
        on=on.date() if isinstance(on, datetime) else on,
        since=_parse_date(filters.get("DateSent>")),
        until=_parse_date(filters.get("DateSent<")),
        page=page,
        page_size=page_size,
        token=params.get("PageToken") or None,
    )


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    if len(text) == 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _before_or_on(earlier: date | None, later: date | None) -> bool:
    if earlier is None or later is None:
        return True
    if isinstance(earlier, datetime) and isinstance(later, datetime):
        return earlier <= later
    return _day(earlier) <= _day(later)


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def matches(message: Message, account_sid: str, query: ListQuery) -> bool:
    moment = message.date_sent or message.date_created
    return (
        message.account_sid == account_sid
        and (query.to is None or message.to == query.to)
        and (query.from_ is None or message.from_ == query.from_)
        and (query.on is None or moment.date() == query.on)
        and _before_or_on(query.since, moment)
        and _before_or_on(moment, query.until)
    )


def _select(store: MessageStore, account_sid: str, query: ListQuery) -> tuple[list[Message], bool]:
    """The page's messages, newest first, and whether older ones follow."""
    size, token = query.page_size, query.token or ""
    if token.startswith("PB"):
        newer = (m for m in store.newer_than(token[2:]) if matches(m, account_sid, query))
        return list(islice(newer, size))[::-1], True
    start = token[2:] if token.startswith("PA") else None
    older: Iterator[Message] = (
        m for m in store.older_than(start) if matches(m, account_sid, query)
    )
    skip = 0 if start else query.page * size
    found = list(islice(older, skip, skip + size + 1))
    return found[:size], len(found) > size


def list_page(store: MessageStore, account_sid: str, query: ListQuery) -> dict[str, Any]:
    messages, more = _select(store, account_sid, query)
    path = f"{messages_uri(account_sid)}.json"

    def uri(page: int, token: str | None = None) -> str:
        params = {**query.filters, "PageSize": query.page_size, "Page": page}
        return f"{path}?{urlencode({**params, 'PageToken': token} if token else params)}"

    start = query.page * query.page_size
    first, last = (messages[0].sid, messages[-1].sid) if messages else (None, None)
    return {
        "messages": [message_resource(m) for m in messages],
        "page": query.page,
        "page_size": query.page_size,
        "start": start,
        "end": start + max(len(messages) - 1, 0),
        "uri": uri(query.page, query.token),
        "first_page_uri": uri(0),
        "next_page_uri": uri(query.page + 1, f"PA{last}") if more and last else None,
        "previous_page_uri": uri(query.page - 1, f"PB{first}") if query.page and first else None,
    }
