"""The pages that draw on several apps: home, the customer's dashboard, and the health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
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


@never_cache
@require_GET
def healthz(request):
    """For load balancers and the Docker HEALTHCHECK: the app answers and the database does too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
