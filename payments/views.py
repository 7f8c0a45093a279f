"""The customer's pages for money: add funds (by each method), a deposit's page and receipt, the bank
transfer page, the transactions page (ledger and deposits). Thin: the work is in the modules they call."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from reseller.pagination import KeysFirstPaginator
from reseller.rich_text import render_markdown
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import funds_instructions_text, ledger_entry_list, wallet_balance, wallet_owed

from . import simulate
from .bank import bank_details
from .errors import GatewayError
from .forms import DepositForm
from .gateways import deposit_checkout, deposit_refresh
from .methods import method_available, methods_available
from .models import BonusTier, Method
from .qr import qr_svg
from .selectors import deposit_get, deposit_list, deposits_open

RECENT_DEPOSITS = 5


def _method_form(info, data=None) -> DepositForm:
    return DepositForm(data, method=info, auto_id=f"id_{info.method}_%s")


def _funds_page(request, *, bound: DepositForm | None = None, status: int = 200):
    forms = [
        (info, bound if bound and bound.method.method == info.method else _method_form(info))
        for info in methods_available()
    ]
    context = {
        "methods": [(info, form, render_markdown(info.config.instructions)) for info, form in forms],
        "instructions": funds_instructions_text(),
        "balance": wallet_balance(user=request.user),
        "owed": wallet_owed(user=request.user),
        "open_deposits": deposits_open(user=request.user)[:RECENT_DEPOSITS],
        "bonus_tiers": BonusTier.objects.all(),
    }
    return render(request, "payments/funds.html", context, status=status)


@login_required
@require_GET
def funds(request):
    return _funds_page(request)


@login_required
@require_POST
def deposit_start(request, method):
    info = method_available(method)
    if info is None or method == Method.BANK:
        raise Http404("No such payment method.")
    form = _method_form(info, request.POST)
    if not form.is_valid():
        return _funds_page(request, bound=form, status=400)
    try:
        deposit, checkout = deposit_checkout(
            user=request.user,
            method=method,
            quote=form.quote,
            page_url=lambda d: request.build_absolute_uri(reverse("payments:deposit", args=[d.public_id])),
        )
    except GatewayError as error:
        messages.error(request, str(error))
        return redirect("payments:funds")
    return redirect(checkout or reverse("payments:deposit", args=[deposit.public_id]))


@login_required
@require_GET
def deposit_detail(request, public_id):
    deposit = deposit_get(user=request.user, public_id=public_id)
    if request.GET.get("back"):  # back from the gateway, maybe before its webhook
        deposit_refresh(deposit=deposit)
    context = {
        "deposit": deposit,
        "qr": qr_svg(deposit.qr_payload, title=_("VietQR code"))
        if deposit.qr_payload and deposit.is_open
        else "",
        "live": deposit.is_open,
        "oob_balance": bool(request.htmx) and not deposit.is_open,  # the header's balance, once it changed
    }
    template = "payments/deposit_detail.html"
    if request.htmx and not request.htmx.boosted:
        template += "#deposit-status"
    return render(request, template, context)


@login_required
@require_GET
def deposits(request):
    paginator = KeysFirstPaginator(deposit_list(user=request.user), settings.DEPOSITS_PAGE_SIZE)
    template = "payments/deposit_list.html"
    if request.htmx and not request.htmx.boosted:  # a page of the table, swapped in place
        template += "#deposit-table"
    return render(request, template, {"page": paginator.get_page(request.GET.get("page"))})


@login_required
@require_GET
def bank(request):
    info = method_available(Method.BANK)
    if info is None:
        raise Http404("Bank transfers are not available.")
    form = DepositForm(request.GET or None, method=info)
    amount = form.cleaned_data["amount"] if request.GET and form.is_valid() else None
    details = bank_details(user=request.user, amount=amount)
    context = {
        "method": info,
        "form": form,
        "details": details,
        "instructions": render_markdown(info.config.instructions) if info.config.instructions else "",
        "qr": qr_svg(details.qr_payload, title=_("VietQR code")),
        "can_simulate": simulate.available(),
        "balance": wallet_balance(user=request.user),
    }
    return render(request, "payments/bank.html", context)


@login_required
@require_POST
def bank_simulate(request):
    """DEBUG only: asks the fake SePay to send the notification of a transfer with this customer's memo."""
    if not simulate.available():
        raise Http404("Only in the demo.")
    info = method_available(Method.BANK)
    form = DepositForm(request.POST, method=info) if info else None
    if form is None or not form.is_valid():
        messages.error(request, _("Enter the amount to transfer."))
        return redirect("payments:bank")
    if simulate.bank_transfer(user=request.user, amount=form.cleaned_data["amount"]):
        messages.success(request, _("The simulated transfer was sent."))
    else:
        messages.error(request, _("The fake bank did not answer."))
    return redirect("payments:transactions")


@login_required
@require_GET
def transactions(request):
    kind = request.GET.get("kind", "")
    kind = kind if kind in LedgerEntry.Kind.values else ""
    paginator = KeysFirstPaginator(ledger_entry_list(user=request.user, kind=kind), settings.WALLET_PAGE_SIZE)
    context = {
        "page": paginator.get_page(request.GET.get("page")),
        "kind": kind,
        "kinds": LedgerEntry.Kind.choices,
        "query": urlencode({"kind": kind}) if kind else "",
        "recent_deposits": deposit_list(user=request.user)[:RECENT_DEPOSITS],
    }
    template = "wallet/transaction_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#transaction-table"
    return render(request, template, context)
