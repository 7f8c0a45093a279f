from decimal import Decimal

import pytest

from catalog.models import Provider
from catalog.tasks import providers_refresh_balances


@pytest.mark.django_db
def test_the_balance_task_remembers_each_providers_balance(provider, simulator):
    providers_refresh_balances()

    provider.refresh_from_db()
    assert provider.balance == simulator.simulator.balance == Decimal("1000")
    assert provider.balance_checked_at is not None


@pytest.mark.django_db
def test_one_unreachable_provider_does_not_stop_the_others(provider):
    Provider.objects.create(name="Down", api_url="http://127.0.0.1:9/api/v2", api_key="k")

    providers_refresh_balances()

    provider.refresh_from_db()
    assert provider.balance is not None
    assert Provider.objects.get(name="Down").balance is None
