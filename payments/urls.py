from django.urls import path

from . import views, webhooks

app_name = "payments"

urlpatterns = [
    path("funds/", views.funds, name="funds"),
    path("funds/bank/", views.bank, name="bank"),
    path("funds/bank/simulate/", views.bank_simulate, name="bank_simulate"),
    path("funds/deposits/", views.deposits, name="deposits"),
    path("funds/deposits/<uuid:public_id>/", views.deposit_detail, name="deposit"),
    path("funds/<str:method>/", views.deposit_start, name="deposit_start"),
    path("transactions/", views.transactions, name="transactions"),
    path("payments/stripe/webhook/", webhooks.stripe, name="stripe_webhook"),
    path("payments/payos/webhook/", webhooks.payos, name="payos_webhook"),
    path("payments/sepay/webhook/", webhooks.sepay, name="sepay_webhook"),
]
