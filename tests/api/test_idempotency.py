"""Idempotency-Key on add: a retrying client never gets a second order."""

import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client

from orders.models import Order
from reseller.api.models import IdempotencyKey
from reseller.wallet.models import Wallet
from reseller.wallet.services import wallet_move
from tests.helpers import LINK


def add(customer, key, **fields):
    fields = {"service": fields.pop("service"), "link": LINK, "quantity": 1000, **fields}
    return customer.call("add", headers={"Idempotency-Key": key}, **fields)


@pytest.mark.django_db
def test_the_same_key_and_request_answers_the_first_order_again(alice, likes):
    first = add(alice, "retry-1", service=likes.pk)
    second = add(alice, "retry-1", service=likes.pk)

    assert first == second == {"order": Order.objects.get().pk}
    assert Wallet.objects.get(user=alice.user).balance == Decimal("100") - Decimal("0.546")


@pytest.mark.django_db
def test_the_same_key_with_a_different_request_is_refused(alice, likes):
    add(alice, "retry-1", service=likes.pk)

    answer = add(alice, "retry-1", service=likes.pk, quantity=2000)

    assert answer == {"error": "Idempotency-Key reused with a different request"}
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_different_keys_and_no_key_place_separate_orders(alice, likes):
    add(alice, "a", service=likes.pk)
    add(alice, "b", service=likes.pk)
    alice.call("add", service=likes.pk, link=LINK, quantity=1000)
    alice.call("add", service=likes.pk, link=LINK, quantity=1000)

    assert Order.objects.count() == 4


@pytest.mark.django_db
def test_keys_belong_to_their_customer(alice, charlie, likes):
    mine = add(alice, "shared-name", service=likes.pk)
    theirs = add(charlie, "shared-name", service=likes.pk)

    assert mine != theirs
    assert Order.objects.get(pk=theirs["order"]).user == charlie.user


@pytest.mark.django_db
def test_a_refused_add_is_not_remembered_so_the_retry_can_succeed(alice, likes):
    wallet_move(user=alice.user, amount=Decimal("-100"), kind="adjustment", note="Spent elsewhere")

    refused = add(alice, "retry-1", service=likes.pk)
    wallet_move(user=alice.user, amount=Decimal("5"), kind="deposit", note="Topped up")
    placed = add(alice, "retry-1", service=likes.pk)

    assert refused == {"error": "Not enough funds on balance"}
    assert placed == {"order": Order.objects.get().pk}
    assert IdempotencyKey.objects.get().answer == placed


@pytest.mark.django_db
def test_a_key_longer_than_100_characters_is_refused(alice, likes):
    assert add(alice, "k" * 101, service=likes.pk)["error"].startswith("Idempotency-Key is too long")
    assert "order" in add(alice, "k" * 100, service=likes.pk)
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_the_key_only_matters_on_add(alice):
    answer = alice.call("balance", headers={"Idempotency-Key": "x"})

    assert answer["balance"] == "100.00000" and not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_two_racing_retries_with_the_same_key_place_one_order(alice, likes, simulator, eager_celery):
    start = threading.Barrier(4)
    answers, errors = [], []

    def retry():
        try:
            start.wait(timeout=10)
            response = Client().post(
                "/api/v2",
                {"key": alice.key, "action": "add", "service": likes.pk, "link": LINK, "quantity": 1000},
                headers={"Idempotency-Key": "race"},
            )
            answers.append(response.json())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    order = Order.objects.get()
    assert errors == []
    assert answers == [{"order": order.pk}] * 4
    assert Wallet.objects.get(user=alice.user).balance == Decimal("100") - order.charge
    assert len(simulator.simulator.orders) == 1, "one order upstream too"


@pytest.mark.django_db
def test_old_idempotency_keys_are_purged_and_recent_ones_kept(settings):
    from datetime import timedelta

    from django.utils import timezone

    from reseller.api.models import IdempotencyKey
    from reseller.api.tasks import idempotency_keys_purge
    from tests.factories import UserFactory

    user = UserFactory()
    old = IdempotencyKey.objects.create(user=user, key="old", fingerprint="x")
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=73))
    IdempotencyKey.objects.create(user=user, key="new", fingerprint="y")

    assert idempotency_keys_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
