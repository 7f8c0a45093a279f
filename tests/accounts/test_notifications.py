"""Emails to customers: a refunded order, a completed refill, funds credited; one per event, none when they
turned them off or have no address. Tasks run eagerly once the transaction commits."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction

from catalog.models import Service
from orders.models import Order, OrderCheck, Refill, Status
from orders.polling import orders_checks_mend, orders_poll
from orders.refills import refill_request, refills_poll, refills_submit
from reseller.accounts.notifications import customer_email_send, customer_notify
from reseller.money import format_money
from reseller.wallet.services import wallet_credit
from tests.helpers import balance_of, place, reload, set_outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

PANEL_URL = "http://panel.example"
ACCOUNT_LINK = f"{PANEL_URL}/account/#preferences"


@pytest.fixture(autouse=True)
def _panel_url(settings):
    settings.PANEL_URL = PANEL_URL


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what is queued on commit, as a real commit would (the test's own transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def html_of(message) -> str:
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return html


# Funds credited


def test_a_credit_sends_one_email_with_the_amount_the_balance_and_the_note(alice, committed):
    with committed():
        wallet_credit(user=alice, amount=Decimal("12.5"), note="Bank transfer <42>", created_by=None)

    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == f"[Reseller] {format_money(Decimal('12.5'))} added to your balance"
    for text in (message.body, html_of(message)):
        assert format_money(Decimal("12.5")) in text
        assert format_money(Decimal("112.5")) in text
        assert ACCOUNT_LINK in text
    assert "Bank transfer <42>" in message.body and "Bank transfer &lt;42&gt;" in html_of(message)
    assert f"{PANEL_URL}/transactions/" in message.body


def test_a_debit_or_a_resubmitted_credit_form_sends_nothing_more(alice, committed):
    with committed():
        wallet_credit(user=alice, amount=Decimal("-5"), note="Correction", created_by=None)
        wallet_credit(user=alice, amount=Decimal("10"), note="Deposit", created_by=None, request_token="t1")
        wallet_credit(user=alice, amount=Decimal("10"), note="Deposit", created_by=None, request_token="t1")

    assert len(mail.outbox) == 1 and balance_of(alice) == Decimal("105")


def test_a_customer_who_turned_emails_off_gets_none(alice, committed):
    alice.email_notifications = False
    alice.save()

    with committed():
        wallet_credit(user=alice, amount=Decimal("10"), note="Deposit", created_by=None)

    assert mail.outbox == []


def test_a_customer_without_an_email_address_gets_none(alice, committed):
    alice.email = ""
    alice.save()

    with committed():
        wallet_credit(user=alice, amount=Decimal("10"), note="Deposit", created_by=None)

    assert mail.outbox == []


def test_nothing_is_sent_when_the_transaction_rolls_back(alice, committed):
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        customer_notify(user_id=alice.pk, kind="funds_credited", context={"amount": "1", "balance": "1"})
        raise RuntimeError("rolled back")

    assert mail.outbox == []


def test_an_unknown_kind_is_refused(alice):
    with pytest.raises(ValueError, match="Unknown kind"):
        customer_notify(user_id=alice.pk, kind="newsletter", context={})


def test_an_email_renders_in_the_customers_language(alice):
    alice.language = "vi"
    alice.save()

    sent = customer_email_send(
        user_id=alice.pk,
        kind="funds_credited",
        context={"amount": "10.00000", "balance": "110.00000", "note": ""},
    )

    assert sent
    (message,) = mail.outbox
    assert '<html lang="vi">' in html_of(message)
    assert "đã được cộng vào số dư của bạn" in message.body


def test_a_customer_who_never_chose_gets_emails_in_the_language_they_sign_in_with(client, alice):
    client.post(
        "/accounts/login/",
        {"login": alice.username, "password": "password"},
        headers={"Accept-Language": "vi"},
    )
    alice.refresh_from_db()

    customer_email_send(
        user_id=alice.pk, kind="funds_credited", context={"amount": "10", "balance": "110", "note": ""}
    )

    assert (alice.language, alice.last_language) == ("", "vi")
    (message,) = mail.outbox
    assert '<html lang="vi">' in html_of(message)


# Orders refunded and refills completed, as polling finds them


def place_and_submit(alice, service, quantity):
    (order,) = place(alice, service, quantity=quantity)
    OrderCheck.objects.update(next_check_at=None)
    return order


def finish(simulator):
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)


def test_a_partial_order_polled_twice_sends_one_email_with_its_refund(alice, likes, simulator, committed):
    order = place_and_submit(alice, likes, 999)  # charge 0.54546
    set_outcome(simulator, order, "Partial", 333)
    finish(simulator)

    with committed():
        orders_poll()
        Order.objects.update(status=Status.IN_PROGRESS)  # as if a retry saw it again
        orders_checks_mend()  # the sweeper follows orders whose status was changed by hand
        orders_poll()

    order = reload(order)
    assert order.refund == Decimal("0.18182")
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == f"[Reseller] Order {order.pk} refunded: {format_money(order.refund)}"
    for text in (message.body, html_of(message)):
        assert f"Order {order.pk} finished as Partial" in text
        assert format_money(Decimal("0.18182")) in text
        assert format_money(balance_of(alice)) in text
        assert f"{PANEL_URL}/orders/{order.public_id}/" in text
        assert ACCOUNT_LINK in text


def test_a_canceled_order_says_so_and_refunds_in_full(alice, likes, simulator, committed):
    order = place_and_submit(alice, likes, 1000)
    set_outcome(simulator, order, "Canceled", 1000)
    finish(simulator)

    with committed():
        orders_poll()

    (message,) = mail.outbox
    assert f"Order {order.pk} was Canceled" in message.body
    assert format_money(order.charge) in message.body


def test_a_completed_order_sends_nothing(alice, likes, simulator, committed):
    order = place_and_submit(alice, likes, 1000)
    set_outcome(simulator, order, "Completed", 0)
    finish(simulator)

    with committed():
        orders_poll()

    assert reload(order).status == Status.COMPLETED and mail.outbox == []


def test_a_completed_refill_polled_twice_sends_one_email(alice, completed, simulator, committed):
    refill = refill_request(user=alice, order=completed[0])
    refills_submit(refill_ids=[refill.pk])
    simulator.simulator.refills[int(reload(refill).upstream_id)].outcome = "Completed"
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)

    with committed():
        for _ in range(2):
            Refill.objects.update(next_check_at=None)
            refills_poll(every=True)

    order = completed[0]
    (message,) = mail.outbox
    assert message.subject == f"[Reseller] Refill {refill.pk} of order {order.pk} completed"
    assert f"refill {refill.pk} of your order {order.pk}" in message.body
    assert f"{PANEL_URL}/orders/{order.public_id}/" in message.body
    assert ACCOUNT_LINK in message.body


def test_an_expired_subscription_says_the_unserved_posts_are_refunded(alice, synced, simulator, committed):
    from catalog.protocol import SubscriptionStatus
    from orders.placement import order_place
    from orders.submission import order_submit

    service = Service.objects.filter(type="Subscriptions").order_by("pk").first()
    order = order_place(user=alice, service=service, username="news", min=100, max=200, posts=4, delay=0)
    order_submit(order_id=order.pk)
    placed = simulator.simulator.orders[int(Order.objects.get(pk=order.pk).upstream_id)]
    placed.outcome, placed.served_cap, placed.end_post = SubscriptionStatus.EXPIRED, 1, 2
    finish(simulator)
    OrderCheck.objects.update(next_check_at=None)

    with committed():
        orders_poll()

    (message,) = mail.outbox
    assert f"Subscription {order.pk} Expired before all its posts were served" in message.body
    assert format_money(Order.objects.get(pk=order.pk).refund) in message.body


def test_many_emails_go_in_one_task_per_five_hundred_and_one_that_fails_is_retried_alone(
    db, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    from reseller.accounts import tasks
    from reseller.accounts.notifications import ORDER_REFUNDED, customers_notify
    from tests.factories import UserFactory

    users = [UserFactory(email=f"u{i}@example.com") for i in range(3)]
    context = {
        "order_id": 1,
        "order_public_id": "x",
        "amount": "1",
        "status": "canceled",
        "full": True,
        "balance": "1",
    }
    with django_capture_on_commit_callbacks(execute=False) as queued:
        customers_notify(notices=[(users[i % 3].pk, ORDER_REFUNDED, context) for i in range(1020)])
    assert len(queued) == 3  # 500 + 500 + 20

    retried = []
    send = tasks.notifications.customer_email_send

    def flaky(*, user_id, kind, context):
        if user_id == users[1].pk:
            raise OSError("mail server down")
        return send(user_id=user_id, kind=kind, context=context)

    monkeypatch.setattr(tasks.notifications, "customer_email_send", flaky)
    monkeypatch.setattr(
        tasks.send_customer_email, "apply_async", lambda args, countdown: retried.append(args)
    )
    sent = tasks.send_customer_emails([(user.pk, ORDER_REFUNDED, context) for user in users])

    assert sent == 2 and len(mailoutbox) == 2
    assert [args[0] for args in retried] == [users[1].pk]
