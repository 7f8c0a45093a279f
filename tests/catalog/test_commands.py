from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Provider, Service
from catalog.tasks import providers_sync_services

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_add_provider_then_sync_services(simulator):
    added = run(
        "add_provider",
        "--name",
        "Sim",
        "--url",
        simulator.url,
        "--key",
        simulator.simulator.config.key,
        "--currency",
        "vnd",
        "--rate",
        "1",
        "--markup",
        "20",
    )
    synced = run("sync_services", "--provider", "Sim", "--enable-new")

    provider = Provider.objects.get(name="Sim")
    assert "Provider 'Sim' added" in added
    assert (provider.currency, provider.markup_percent) == ("VND", Decimal(20))
    assert synced.startswith("Sim: 39 new")
    assert Service.objects.filter(is_enabled=True).count() == 38


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "not a url"], "api_url"),
        (["--rate", "0"], "exchange_rate"),
        (["--rate", "abc"], "not a decimal number"),
    ],
)
def test_add_provider_refuses_bad_input_and_changes_nothing(args, message):
    base = {"--name": "X", "--url": "https://x.example/api/v2", "--key": "k"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [item for pair in base.items() for item in pair]

    with pytest.raises((CommandError, SystemExit)) as caught:
        call_command("add_provider", *flat, stdout=StringIO(), stderr=StringIO())

    assert message in str(caught.value) or isinstance(caught.value, SystemExit)
    assert not Provider.objects.exists()


def test_sync_services_names_an_unknown_provider():
    with pytest.raises(CommandError, match="No provider named 'Nope'"):
        run("sync_services", "--provider", "Nope")


def test_sync_services_fails_when_a_provider_fails_but_syncs_the_others(provider):
    Provider.objects.create(name="Down", api_url="http://127.0.0.1:9/api/v2", api_key="k")

    with pytest.raises(CommandError, match="1 provider"):
        run("sync_services")

    assert Service.objects.filter(provider=provider).count() == 39


def test_the_hourly_task_syncs_every_active_provider(provider):
    Provider.objects.create(name="Off", api_url="http://127.0.0.1:9/api/v2", api_key="k", is_active=False)

    providers_sync_services()

    provider.refresh_from_db()
    assert provider.last_sync_ok is True
    assert Provider.objects.get(name="Off").last_sync_at is None
