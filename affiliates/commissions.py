"""Commission: earned once per finished order of a referred customer, on what the order finally cost them.

`commissions_earn` runs in the transaction of the move that made the orders final (orders_finished, sent
only by the move's winner), and the one-to-one `Commission.order` makes a second call for the same order
write nothing: a replayed poll, two pollers, or a second call never pay twice.
"""

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from orders.models import Order
from reseller.money import quantize_amount

from .models import Commission, Referral

ZERO = Decimal(0)


def commission_amount(*, net: Decimal, percent: Decimal) -> Decimal:
    """`percent` of `net`, rounded down to the stored precision: never more than exact."""
    if net <= 0 or percent <= 0:
        return ZERO
    return quantize_amount(net * percent / 100, rounding=ROUND_FLOOR)


def commissions_earn(*, orders: Sequence[Order]) -> list[Commission]:
    """The commissions these final orders earn (net charge = charge - refund, above zero, of a referred
    customer), written in one statement; those already earned are skipped. Two queries for any number of
    orders, one when none of their customers was referred. Returns the rows it meant to write."""
    user_ids = {order.user_id for order in orders}
    if not user_ids:
        return []
    referrals = {
        referral.referred_id: referral
        for referral in Referral.objects.select_related("affiliate__user").filter(referred_id__in=user_ids)
    }
    if not referrals:
        return []
    earned = []
    for order in orders:
        referral = referrals.get(order.user_id)
        if referral is None or referral.affiliate.user_id == order.user_id:
            continue
        if not referral.affiliate.user.is_active:  # a deactivated affiliate earns nothing more
            continue
        net = order.charge - order.refund
        percent = referral.affiliate.percent
        amount = commission_amount(net=net, percent=percent)
        if amount <= 0:
            continue
        earned.append(
            Commission(
                affiliate=referral.affiliate,
                order_id=order.pk,
                referred_id=order.user_id,
                base=net,
                percent=percent,
                amount=amount,
            )
        )
    Commission.objects.bulk_create(earned, ignore_conflicts=True)
    return earned
