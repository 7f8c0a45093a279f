"""orders 0011: the next checks of followed orders move from the order rows to orders.OrderCheck."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from orders.models import Order, OrderCheck, Status
from tests.factories import OrderFactory


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses to run inside a test's transaction
def test_the_migration_gives_every_followed_order_its_checks_when_its_own_said(request):
    due = timezone.now() + timedelta(minutes=5)
    followed = OrderFactory(status=Status.IN_PROGRESS, upstream_id="71", next_check_at=due)
    never_placed = OrderFactory(status=Status.QUEUED, next_check_at=due)
    finished = OrderFactory(status=Status.COMPLETED, upstream_id="72")
    Order.objects.filter(pk=followed.pk).update(next_check_at=None)  # as the move leaves it: in its checks
    executor = MigrationExecutor(connection)
    request.addfinalizer(lambda: _migrate_to_the_end(executor))

    executor.migrate([("orders", "0010_order_partial_indexes")])  # back: the check goes on the order's row
    assert Order.objects.get(pk=followed.pk).next_check_at == due
    Order.objects.filter(pk=followed.pk).update(next_check_at=due + timedelta(minutes=1))
    executor.loader.build_graph()
    executor.migrate([("orders", "0011_order_checks")])

    (checks,) = OrderCheck.objects.all()
    assert (checks.order_id, checks.provider_id) == (followed.pk, followed.provider_id)
    assert checks.next_check_at == due + timedelta(minutes=1)
    assert not OrderCheck.objects.filter(order__in=[never_placed, finished]).exists()


def _migrate_to_the_end(executor):
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
