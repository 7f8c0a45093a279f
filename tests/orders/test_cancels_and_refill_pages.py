import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Service
from orders.cancels import orders_cancel
from orders.errors import OrderError
from orders.models import Order, Refill, RefillStatus, Status
from orders.polling import orders_poll
from orders.refills import refill_request, refills_submit
from reseller.wallet.models import Wallet
from tests.factories import StaffFactory
from tests.helpers import finish, place

pytestmark = pytest.mark.django_db


def balance(user):
    return Wallet.objects.get(user=user).balance


# Cancellations ------------------------------------------------------------------------------


def test_a_cancel_is_refunded_by_polling_not_at_request_time(alice, followers, simulator):
    (order,) = place(alice, followers)
    charged = balance(alice)

    assert orders_cancel(user=alice, orders=[order]) == {order.pk: True}
    assert balance(alice) == charged, "no refund when asking"
    assert Order.objects.get(pk=order.pk).events.last().note == "Cancel requested"

    orders_poll(order_ids=[order.pk])

    order = Order.objects.get(pk=order.pk)
    assert (order.status, order.refund) == (Status.CANCELED, order.charge)
    assert balance(alice) == Decimal("100")


def test_cancel_is_refused_for_services_without_it_and_for_finished_orders(
    alice, followers, synced, simulator
):
    tiktok_likes = Service.objects.get(provider=synced, upstream_id="9")  # refill, no cancel
    (no_cancel,) = place(alice, tiktok_likes)
    (done,) = finish(simulator, place(alice, followers))

    results = orders_cancel(user=alice, orders=[no_cancel, done])

    assert results[no_cancel.pk].message == "This service cannot be canceled."
    assert results[done.pk].message == "Only orders still pending at the provider can be canceled."


def test_the_providers_refusal_is_passed_on(alice, followers, simulator):
    (order,) = place(alice, followers)
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 1.5)  # upstream: in progress

    result = orders_cancel(user=alice, orders=[order])[order.pk]

    assert isinstance(result, OrderError) and "cancel" in result.message.lower()
    assert Order.objects.get(pk=order.pk).status == Status.PENDING


def test_a_refused_cancel_is_not_offered_again_and_the_providers_words_stay_with_the_operator(
    alice, alice_client, followers, simulator
):
    (order,) = place(alice, followers)
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 1.5)  # upstream: in progress
    orders_cancel(user=alice, orders=[order])

    order = Order.objects.get(pk=order.pk)
    again = orders_cancel(user=alice, orders=[order])[order.pk]
    html = alice_client.get("/orders/").content.decode()
    detail = alice_client.get(order.get_absolute_url()).content.decode()

    assert again.message == "The provider refused to cancel this order."
    assert "cancel-button" not in html and "cancel-button" not in detail
    assert order.events.last().note.startswith("Cancel refused: ")  # the provider's text, for the operator
    assert "Order can not be canceled" not in detail  # ... never shown to the customer
    assert "The provider refused to cancel" in detail  # the timeline says so in plain words


def test_a_requested_cancel_is_not_offered_twice(alice, alice_client, followers, simulator):
    (order,) = place(alice, followers)
    assert alice_client.get("/orders/").content.decode().count("cancel-button") == 1

    orders_cancel(user=alice, orders=[order])

    html = alice_client.get("/orders/").content.decode()
    assert "cancel-button" not in html
    assert "Cancel requested" in alice_client.get(order.get_absolute_url()).content.decode()


def test_cancel_is_offered_only_while_pending(alice, followers, simulator):
    (order,) = place(alice, followers)
    order = Order.objects.get(pk=order.pk)
    Order.objects.filter(pk=order.pk).update(status=Status.IN_PROGRESS)

    result = orders_cancel(user=alice, orders=[Order.objects.get(pk=order.pk)])[order.pk]

    assert result.message == "Only orders still pending at the provider can be canceled."


# Pages ------------------------------------------------------------------------------


def test_eligible_rows_offer_refill_and_cancel(alice_client, alice, followers, completed, simulator):
    (running,) = place(alice, followers)

    html = alice_client.get("/orders/").content.decode()

    assert html.count('class="button small secondary refill-button"') == 3
    assert html.count('class="button small danger cancel-button"') == 1
    assert f'value="{running.public_id}" form="bulk-refill"' not in html


def test_the_refill_button_swaps_the_row_with_its_badge(alice_client, completed):
    response = alice_client.post(f"/orders/{completed[0].public_id}/refill/", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200, "the row keeps polling while the refill is open"
    assert html.lstrip().startswith("<tr") and 'data-refill-status="queued"' in html
    assert "refill-button" not in html
    assert json.loads(response["HX-Trigger"]) == {"toast": {"level": "success", "text": "Refill requested."}}


def test_a_refused_refill_says_why_in_the_row(alice_client, alice, followers):
    (running,) = place(alice, followers)

    response = alice_client.post(f"/orders/{running.public_id}/refill/", headers={"HX-Request": "true"})

    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast == {"level": "error", "text": "Only completed orders can be refilled."}
    assert not Refill.objects.exists()


def test_bulk_refill_from_the_list(alice_client, completed):
    response = alice_client.post(
        "/orders/refill/", {"order": [o.public_id for o in completed[:2]]}, follow=True
    )

    assert "Refill requested for 2 orders: " in response.content.decode()
    assert Refill.objects.count() == 2


def test_cancel_without_javascript_redirects_with_a_message(alice_client, alice, followers, simulator):
    (order,) = place(alice, followers)

    response = alice_client.post(f"/orders/{order.public_id}/cancel/", follow=True)

    assert "Cancel requested" in response.content.decode()


def test_someone_elses_order_cannot_be_refilled_or_canceled(charlie_client, completed):
    assert charlie_client.post(f"/orders/{completed[0].public_id}/refill/").status_code == 404
    assert charlie_client.post(f"/orders/{completed[0].public_id}/cancel/").status_code == 404
    charlie_client.post("/orders/refill/", {"order": [completed[0].public_id]})
    assert not Refill.objects.exists()


def test_the_detail_page_lists_refills_and_stops_polling_when_they_end(
    alice_client, alice, completed, simulator
):
    refill = refill_request(user=alice, order=completed[0])
    refills_submit(refill_ids=[refill.pk])
    url = f"/orders/{completed[0].public_id}/"
    assert f"Refill {refill.pk}" in alice_client.get(url).content.decode()
    assert alice_client.get(url + "row/", {"part": "status"}).status_code == 200

    Refill.objects.filter(pk=refill.pk).update(status=RefillStatus.COMPLETED)

    assert alice_client.get(url + "row/", {"part": "status"}).status_code == 286


# Admin and command ------------------------------------------------------------------------------


def test_admin_marks_a_refill_rejected_and_polls_now(client, alice, completed, simulator):
    client.force_login(StaffFactory())
    stuck, live = (refill_request(user=alice, order=order) for order in completed[:2])
    refills_submit(refill_ids=[live.pk])
    Refill.objects.filter(pk=stuck.pk).update(status=RefillStatus.NEEDS_REVIEW)

    client.post("/admin/orders/refill/", {"action": "mark_rejected", "_selected_action": [stuck.pk]})
    html = client.post(
        "/admin/orders/refill/", {"action": "poll_now", "_selected_action": [live.pk]}, follow=True
    ).content.decode()

    assert Refill.objects.get(pk=stuck.pk).status == RefillStatus.REJECTED
    assert "Polled: 1 refills checked" in html
    assert client.get("/admin/orders/refill/", {"status__exact": "rejected"}).status_code == 200


def test_poll_refills_prints_what_it_did(alice, completed, simulator):
    refill = refill_request(user=alice, order=completed[0])
    refills_submit(refill_ids=[refill.pk])
    Refill.objects.update(next_check_at=None)
    out = StringIO()

    call_command("poll_refills", stdout=out)

    assert out.getvalue() == "1 refills checked, 0 changed, 0 errors, 1 status calls.\n"


def test_the_bulk_refill_button_shows_only_when_a_row_can_be_refilled(
    alice_client, alice, followers, simulator
):
    place(alice, followers)
    assert "Refill selected" not in alice_client.get("/orders/").content.decode()

    finish(simulator, place(alice, followers))

    assert "Refill selected" in alice_client.get("/orders/").content.decode()


def test_an_operator_gives_a_refill_in_review_its_upstream_id(client, alice, completed, simulator):
    client.force_login(StaffFactory())
    refill = refill_request(user=alice, order=completed[0])
    Refill.objects.filter(pk=refill.pk).update(status=RefillStatus.NEEDS_REVIEW)
    assert (
        "Set upstream refill id" in client.get(f"/admin/orders/refill/{refill.pk}/change/").content.decode()
    )

    client.post(f"/admin/orders/refill/{refill.pk}/upstream-id/", {"upstream_id": "77"})

    refill = Refill.objects.get(pk=refill.pk)
    assert (refill.status, refill.upstream_id) == (RefillStatus.PENDING, "77")
    again = client.post(f"/admin/orders/refill/{refill.pk}/upstream-id/", {"upstream_id": "78"})
    assert "Only refills that need review" in again.content.decode()


def test_an_id_the_provider_left_out_of_its_answer_can_be_canceled_again(
    alice, followers, simulator, monkeypatch
):
    from catalog import upstream

    (order,) = place(alice, followers)
    # The simulator always answers every id; a provider that leaves one out is only this patch.
    monkeypatch.setattr(upstream.Client, "cancel", lambda self, ids: {})

    result = orders_cancel(user=alice, orders=[order])[order.pk]

    order = Order.objects.get(pk=order.pk)
    assert result.message == "The cancel could not be confirmed by the provider; try again later."
    assert (order.cancel_refusal, order.cancel_requested_at) == ("", None)
    monkeypatch.undo()
    assert orders_cancel(user=alice, orders=[order]) == {order.pk: True}
