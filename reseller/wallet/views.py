from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .selectors import ledger_entry_get


@login_required
@require_GET
def transaction_detail(request, public_id):
    entry = ledger_entry_get(user=request.user, public_id=public_id)
    return render(request, "wallet/transaction_detail.html", {"entry": entry})
