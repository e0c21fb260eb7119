from domain.account import Account
from domain.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours


def test_an_account_holds_the_default_window_until_it_sets_another_or_turns_it_off() -> None:
    account = Account(name="Acme")
    assert account.quiet_hours == DEFAULT_QUIET_HOURS
    account.set_quiet_hours("22:30", "07:00")
    assert account.quiet_hours == QuietHours.parse("22:30", "07:00")
    account.set_quiet_hours(None, None)
    assert account.quiet_hours is None
    recorded = [type(e).__qualname__ for e in account.collect_events()]
    assert recorded == ["Account.Created", "Account.QuietHoursSet", "Account.QuietHoursSet"]
