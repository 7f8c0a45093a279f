"""What the customer's pages ask of a gateway, whichever it is: start paying a new deposit, and look again
at a pending one when the customer comes back from the gateway (maybe before its webhook)."""

from reseller.accounts.models import User

from .amounts import Quote
from .credit import deposit_close, deposit_create
from .errors import GatewayError
from .models import Deposit, DepositStatus, Method
from .payos_links import payos_refresh, payos_start
from .stripe_checkout import stripe_refresh, stripe_start

ONLINE = (Method.STRIPE, Method.PAYOS)  # the methods with a checkout page of their own


def deposit_checkout(*, user: User, method: str, quote: Quote, page_url) -> tuple[Deposit, str | None]:
    """Makes the pending deposit and opens its payment at the gateway. `page_url(deposit)` is the deposit's
    own page (the gateway sends the customer back there). Returns the deposit and where to send the
    customer next (Stripe's page; None: the deposit's page, which shows payOS's QR). Raises GatewayError
    when the gateway could not start it: the deposit is canceled then, nothing was charged."""
    deposit = deposit_create(user=user, method=method, quote=quote)
    page = page_url(deposit)
    try:
        if method == Method.STRIPE:
            return deposit, stripe_start(deposit=deposit, success_url=f"{page}?back=1", cancel_url=page)
        payos_start(deposit=deposit, return_url=f"{page}?back=1", cancel_url=f"{page}?back=1")
    except GatewayError:
        deposit_close(deposit=deposit, to=DepositStatus.CANCELED, reason="the gateway could not start it")
        raise
    return deposit, None


def deposit_refresh(*, deposit: Deposit) -> bool:
    """Asks the gateway about a pending deposit; True if that changed it (credited or closed)."""
    if deposit.status != DepositStatus.PENDING or deposit.method not in ONLINE:
        return False
    refresh = stripe_refresh if deposit.method == Method.STRIPE else payos_refresh
    if refresh(deposit=deposit):
        deposit.refresh_from_db()
        return True
    return False
