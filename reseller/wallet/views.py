from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import LedgerEntry
from .selectors import funds_instructions_text, ledger_entry_get, ledger_entry_list, wallet_balance


@login_required
@require_GET
def transaction_list(request):
    kind = request.GET.get("kind", "")
    kind = kind if kind in LedgerEntry.Kind.values else ""
    paginator = Paginator(ledger_entry_list(user=request.user, kind=kind), settings.WALLET_PAGE_SIZE)
    context = {
        "page": paginator.get_page(request.GET.get("page")),
        "kind": kind,
        "kinds": LedgerEntry.Kind.choices,
        "query": urlencode({"kind": kind}) if kind else "",
    }
    template = "wallet/transaction_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#transaction-table"
    return render(request, template, context)


@login_required
@require_GET
def transaction_detail(request, public_id):
    entry = ledger_entry_get(user=request.user, public_id=public_id)
    return render(request, "wallet/transaction_detail.html", {"entry": entry})


@login_required
@require_GET
def add_funds(request):
    context = {"instructions": funds_instructions_text(), "balance": wallet_balance(user=request.user)}
    return render(request, "wallet/add_funds.html", context)
