"""The admin's sidebar (django-unfold's SIDEBAR navigation, built per request): every page operators use,
those they may see, with the count of what needs a person beside it."""

from django.templatetags.static import static
from django.urls import reverse

from affiliates.selectors import payouts_waiting_count
from support.selectors import tickets_waiting_count

from .models import Alert
from .watch import orders_in_review, unmatched_transfers


def stylesheet(request) -> str:
    return static("css/cockpit.css")


# (group, [(title, icon, admin url name, permission needed, query string, count key, badge colour)])
PAGES = [
    ("Cockpit", [
        ("Dashboard", "dashboard", "admin:index", None, "", None, ""),
        ("Alerts", "notifications", "admin:cockpit_alert_changelist", "cockpit.view_alert", "",
         "alerts", ""),
    ]),
    ("Orders", [
        ("Orders", "shopping_cart", "admin:orders_order_changelist", "orders.view_order", "", None, ""),
        ("In review", "rule", "admin:orders_order_changelist", "orders.view_order",
         "?status__exact=needs_review", "review", ""),
        ("Refills", "autorenew", "admin:orders_refill_changelist", "orders.view_refill", "", None, ""),
        ("Mass orders", "list_alt", "admin:orders_massorder_changelist", "orders.view_massorder", "",
         None, ""),
    ]),
    ("Money", [
        ("Deposits", "payments", "admin:payments_deposit_changelist", "payments.view_deposit", "", None, ""),
        ("Bank transfers", "account_balance", "admin:payments_banktransfer_changelist",
         "payments.view_banktransfer", "?status__exact=waiting", "transfers", "warning"),
        ("Ledger", "receipt_long", "admin:wallet_ledgerentry_changelist", "wallet.view_ledgerentry", "",
         None, ""),
        ("Wallets", "wallet", "admin:wallet_wallet_changelist", "wallet.view_wallet", "", None, ""),
        ("Payment methods", "credit_card", "admin:payments_paymentmethod_changelist",
         "payments.view_paymentmethod", "", None, ""),
    ]),
    ("Catalog", [
        ("Providers", "hub", "admin:catalog_provider_changelist", "catalog.view_provider", "", None, ""),
        ("Services", "inventory_2", "admin:catalog_service_changelist", "catalog.view_service", "", None, ""),
        ("Categories", "category", "admin:catalog_category_changelist", "catalog.view_category", "",
         None, ""),
    ]),
    ("Customers", [
        ("Users", "group", "admin:accounts_user_changelist", "accounts.view_user", "", None, ""),
        ("API keys", "key", "admin:accounts_apikey_changelist", "accounts.view_apikey", "", None, ""),
    ]),
    ("Support", [
        ("Tickets", "support_agent", "admin:support_ticket_changelist", "support.view_ticket", "",
         "tickets", "warning"),
        ("Canned replies", "quickreply", "admin:support_cannedreply_changelist",
         "support.view_cannedreply", "", None, ""),
    ]),
    ("Affiliates", [
        ("Affiliates", "handshake", "admin:affiliates_affiliate_changelist", "affiliates.view_affiliate",
         "", None, ""),
        ("Payouts", "savings", "admin:affiliates_payout_changelist", "affiliates.view_payout", "",
         "payouts", "warning"),
        ("Commissions", "percent", "admin:affiliates_commission_changelist", "affiliates.view_commission",
         "", None, ""),
        ("Referrals", "person_add", "admin:affiliates_referral_changelist", "affiliates.view_referral", "",
         None, ""),
    ]),
]  # fmt: skip


def _counts(user) -> dict[str, int]:
    """What needs a person, counted only for those who may see it."""
    counts = {}
    if user.has_perm("orders.view_order"):
        counts["review"] = orders_in_review()
    if user.has_perm("payments.view_banktransfer"):
        counts["transfers"] = unmatched_transfers()
    if user.has_perm("cockpit.view_alert"):
        counts["alerts"] = Alert.objects.filter(firing=True).count()
    if user.has_perm("support.view_ticket"):
        counts["tickets"] = tickets_waiting_count()  # Open or Customer reply: waiting for an answer
    if user.has_perm("affiliates.view_payout"):
        counts["payouts"] = payouts_waiting_count()  # requested, for staff to approve
    return counts


def navigation(request) -> list[dict]:
    counts = _counts(request.user)
    navigation = []
    for group, pages in PAGES:
        items = []
        for title, icon, url_name, perm, query, count_key, variant in pages:
            if perm and not request.user.has_perm(perm):
                continue
            item = {"title": title, "icon": icon, "link": reverse(url_name) + query}
            if counts.get(count_key):
                # A plain count: unfold shows a badge that is not a callback's import path as it is.
                item.update(
                    badge=str(counts[count_key]), badge_variant=variant or "danger", badge_style="solid"
                )
            if query:
                item["active"] = request.get_full_path() == item["link"]
            items.append(item)
        if items:
            navigation.append({"title": group, "separator": True, "items": items})
    return navigation
