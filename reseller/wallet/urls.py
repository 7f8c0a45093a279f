from django.urls import path

from . import views

app_name = "wallet"

urlpatterns = [
    path("transactions/", views.transaction_list, name="transactions"),
    path("transactions/<uuid:public_id>/", views.transaction_detail, name="transaction_detail"),
    path("funds/", views.add_funds, name="add_funds"),
]
