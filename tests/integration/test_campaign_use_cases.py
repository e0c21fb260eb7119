"""The campaign use cases of tests/unit/test_campaign_use_cases.py, run again on
PostgreSQL: the real event store and projections, the same tests."""

import pytest

from interfaces.bootstrap import Herald
from tests.conftest import FixedClock
from tests.integration.conftest import sharing
from tests.unit import test_campaign_use_cases as use_cases


class TestCampaignUseCasesOnPostgreSQL(use_cases.TestCampaignUseCases):
    @pytest.fixture
    def herald(self, herald: Herald) -> Herald:
        settings = herald.settings.with_(max_recipients=use_cases.MAX_RECIPIENTS)
        return sharing(herald, settings, clock=FixedClock(use_cases.NOW))
