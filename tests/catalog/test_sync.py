"""Importing a provider's catalog, against the simulator over HTTP."""

import dataclasses
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog import upstream
from catalog.models import Category, Service
from catalog.service_types import SELLABLE_TYPES
from catalog.services import services_set_enabled
from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer
from catalog.sync import provider_sync_services

pytestmark = pytest.mark.django_db


def change_upstream(simulator, service_id, **changes):
    services = [
        dataclasses.replace(s, **changes) if s.id == service_id else s for s in simulator.simulator.services
    ]
    simulator.simulator.set_services(services)


def remove_upstream(simulator, service_id):
    simulator.simulator.set_services([s for s in simulator.simulator.services if s.id != service_id])


def test_it_imports_every_service_disabled_by_default(provider, simulator):
    result = provider_sync_services(provider=provider)

    offered = simulator.simulator.services
    assert result.created == len(offered) == Service.objects.count()
    assert not Service.objects.filter(is_enabled=True).exists()
    likes = Service.objects.get(upstream_id="2")
    assert (likes.upstream_name, likes.type, likes.category.name) == (
        "Instagram Likes [Instant]",
        "Default",
        "Instagram",
    )
    assert (likes.rate, likes.min_quantity, likes.max_quantity) == (Decimal("0.42"), 10, 50000)
    assert (likes.refill, likes.cancel) == (False, True)
    assert likes.raw["service"] == 2
    assert set(Category.objects.values_list("name", flat=True)) == {s.category for s in offered}
    provider.refresh_from_db()
    assert provider.last_sync_ok is True and provider.last_sync_message.startswith("Synced: 39 new")


def test_enable_new_enables_only_sellable_types(provider):
    provider_sync_services(provider=provider, enable_new=True)

    enabled_types = set(Service.objects.filter(is_enabled=True).values_list("type", flat=True))
    unsupported = Service.objects.exclude(type__in=SELLABLE_TYPES)
    assert enabled_types == set(SELLABLE_TYPES), "every type of the protocol is sold"
    assert list(unsupported.values_list("type", flat=True)) == ["Custom Type Beta"]
    assert not unsupported.filter(is_enabled=True).exists()


def test_the_providers_setting_enables_new_services(provider):
    provider.enable_new_services = True
    provider.save()

    provider_sync_services(provider=provider)

    assert Service.objects.filter(is_enabled=True).count() == 38


def test_unsupported_types_cannot_be_enabled_by_the_operator_or_the_database(synced):
    poll = Service.objects.exclude(type__in=SELLABLE_TYPES).get()

    count, refused = services_set_enabled(services=[poll], enabled=True)

    assert count == 0 and "not supported" in refused[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Service.objects.filter(pk=poll.pk).update(is_enabled=True)


def test_a_price_change_upstream_shows_after_the_next_sync(synced, simulator):
    likes = Service.objects.get(upstream_id="2")
    assert likes.price_rate == Decimal("0.5460")

    change_upstream(simulator, 2, rate=Decimal("0.50"))
    result = provider_sync_services(provider=synced)

    likes.refresh_from_db()
    assert (likes.rate, likes.cost_rate, likes.price_rate) == (
        Decimal("0.5"),
        Decimal("0.5"),
        Decimal("0.65"),
    )
    assert (result.updated, result.repriced) == (1, 1)


def test_a_resync_without_changes_writes_nothing(synced):
    with CaptureQueriesContext(connection) as queries:
        result = provider_sync_services(provider=synced)

    assert (result.created, result.updated, result.vanished) == (0, 0, 0)
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", 'UPDATE "catalog_service'))]
    assert writes == []


def test_a_vanished_service_is_disabled_not_deleted_and_comes_back_as_it_was(synced, simulator):
    enabled, disabled = Service.objects.get(upstream_id="2"), Service.objects.get(upstream_id="7")
    services_set_enabled(services=[disabled], enabled=False)
    offered = simulator.simulator.services

    remove_upstream(simulator, 2)
    remove_upstream(simulator, 7)
    gone = provider_sync_services(provider=synced)
    enabled.refresh_from_db()
    assert gone.vanished == 2
    assert (enabled.is_enabled, enabled.is_available) == (False, False)
    count, refused = services_set_enabled(services=[enabled], enabled=True)
    assert count == 0 and "no longer offers" in refused[0]

    simulator.simulator.set_services(offered)
    back = provider_sync_services(provider=synced)

    enabled.refresh_from_db()
    disabled.refresh_from_db()
    assert back.returned == 2
    assert (enabled.is_enabled, enabled.is_available) == (True, True)
    assert (disabled.is_enabled, disabled.is_available) == (False, True), "not silently re-enabled"


def test_operator_edits_survive_a_resync(synced, simulator):
    service = Service.objects.get(upstream_id="1")
    mine = Category.objects.create(name="Best sellers", sort_order=-1)
    service.name, service.description, service.category = "IG followers (ours)", "Our words", mine
    service.sort_order, service.is_enabled, service.markup_percent = 5, False, Decimal("50")
    service.save()

    change_upstream(simulator, 1, name="Renamed upstream", category="Insta", rate=Decimal("2"), desc="Theirs")
    provider_sync_services(provider=synced)

    service.refresh_from_db()
    assert (service.name, service.description, service.category, service.sort_order) == (
        "IG followers (ours)",
        "Our words",
        mine,
        5,
    )
    assert service.is_enabled is False
    assert (service.upstream_name, service.upstream_category, service.upstream_description) == (
        "Renamed upstream",
        "Insta",
        "Theirs",
    )
    assert service.price_rate == Decimal("3.0000"), "the operator's 50% markup over the new cost"


def test_a_failed_sync_is_recorded_and_changes_nothing(synced, simulator):
    simulator.simulator.inject("html")
    remove_upstream(simulator, 2)

    with pytest.raises(upstream.Ambiguous):
        provider_sync_services(provider=synced)

    synced.refresh_from_db()
    assert synced.last_sync_ok is False and "HTML" in synced.last_sync_message
    assert Service.objects.get(upstream_id="2").is_available


def test_a_large_catalog_syncs_in_a_bounded_number_of_queries(provider, monkeypatch):
    # The one `services` call is counted too (catalog/calls.py): not the catalog's queries.
    monkeypatch.setattr("catalog.services.record_call", lambda **kwargs: None)

    def queries_to_sync(count):
        server = SimulatorServer(Simulator(SimulatorConfig(key="k", services=count, seed=count))).start()
        provider.api_url, provider.api_key = server.url, "k"
        try:
            with CaptureQueriesContext(connection) as first:
                provider_sync_services(provider=provider)
        finally:
            server.stop()
        Service.objects.filter(provider=provider).delete()
        return len(first)

    small, large = queries_to_sync(100), queries_to_sync(3000)

    assert (large - small) / 2900 < 0.05, "bulk batches only, never a query per service"
    if connection.vendor == "postgresql":  # SQLite caps a statement at 999 parameters: smaller batches
        assert large <= small + 3 <= 16, (small, large)
