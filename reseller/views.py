"""The pages that draw on several apps: home and the customer's dashboard (`/healthz`: cockpit/views.py)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orders.selectors import order_list_for_user
from reseller.wallet.selectors import ledger_entry_list, wallet_balance, wallet_spend_this_month

RECENT = 5


@require_GET
def home(request):
    return render(request, "home.html")


@login_required
@require_GET
def dashboard(request):
    context = {
        "balance": wallet_balance(user=request.user),
        "spend_this_month": wallet_spend_this_month(user=request.user),
        "recent_entries": ledger_entry_list(user=request.user)[:RECENT],
        "recent_orders": order_list_for_user(user=request.user)[:RECENT],
    }
    return render(request, "dashboard.html", context)
