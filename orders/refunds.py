"""Refunds of orders, decided in one place: what an order is owed back, and the one call to the wallet.

Only orders/moves.py calls in here, in the transaction of the move that earns the refund: whichever worker
wins the move is the only one that refunds, and the ledger allows one refund per order besides.
"""

from decimal import Decimal

from django.utils import translation

from catalog.pricing import partial_refund
from reseller.accounts.notifications import ORDER_REFUNDED, customers_notify
from reseller.wallet.models import LedgerEntry
from reseller.wallet.services import Move as WalletMove
from reseller.wallet.services import wallet_moves

from .models import SHARE_REFUNDED, Order, Status

ZERO = Decimal(0)


def refund_owed(order: Order) -> Decimal:
    """What the customer gets back for the order as it now stands (its status and the provider's last
    answer): all of it when it was canceled or never placed (failed); the undelivered share
    (`charge x remains / quantity`, rounded down) of a partial one, and of a drip-feed or a subscription
    that ends with runs or posts undone (canceled, expired, or a subscription completed early); else
    nothing. An order that shows a refund already is owed nothing more: a replayed answer never pays
    twice."""
    if order.refund:
        return ZERO
    if order.status == Status.FAILED or (order.status == Status.CANCELED and not _part_delivered(order)):
        return order.charge
    if _ends_with_a_share(order):
        return partial_refund(charge=order.charge, remains=order.remains or 0, quantity=order.quantity)
    return ZERO


def _ends_with_a_share(order: Order) -> bool:
    if order.status in SHARE_REFUNDED:
        return True
    if order.status == Status.CANCELED:
        return _part_delivered(order)
    return order.status == Status.COMPLETED and order.is_subscription


def _part_delivered(order: Order) -> bool:
    """A drip-feed or a subscription the provider said delivered part of (runs done, posts served, or
    remains short of the whole): canceled, it refunds only the rest. Any other canceled order, or one
    the provider said nothing of, is refunded in full."""
    if not order.is_delivered_in_parts:
        return False
    return bool(order.runs_done or order.posts_done) or (
        order.remains is not None and 0 < order.remains < order.quantity
    )


def orders_refund(*, refunds: list[tuple[Order, Decimal]]) -> None:
    """Pays the refunds through the wallet, all or none, in a constant number of queries (a polling batch
    refunds hundreds of orders at once). The orders' `user` should be loaded with them."""
    with translation.override("en"):  # the notes are stored: in one language whatever the request's
        statuses = {value: str(label).lower() for value, label in Status.choices}  # once, not per order
        moves = [
            WalletMove(
                user=order.user,
                amount=amount,
                kind=LedgerEntry.Kind.REFUND,
                order_id=order.pk,
                note=_note(order, statuses[order.status]),
            )
            for order, amount in refunds
            if amount > 0
        ]
    entries = wallet_moves(moves=moves)
    # One email per refunded order, queued (many to a task) when the move's transaction commits.
    orders = {order.pk: order for order, _ in refunds}
    notices = []
    for entry in entries:
        order = orders[entry.order_id]
        context = {
            "order_id": order.pk,
            "order_public_id": order.public_id,
            "amount": entry.amount,
            "status": order.status,
            "full": entry.amount == order.charge,
            "balance": entry.balance_after,
        }
        notices.append((entry.user_id, ORDER_REFUNDED, context))
    customers_notify(notices=notices)


def _note(order: Order, status: str) -> str:
    """The ledger row's note, with the order's status as the ledger spells it."""
    undelivered = order.remains if _ends_with_a_share(order) else order.quantity
    return f"Order {order.pk} {status}: {undelivered} undelivered"
