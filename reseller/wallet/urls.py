from django.urls import path

from . import views

app_name = "wallet"

urlpatterns = [
    path("transactions/<uuid:public_id>/", views.transaction_detail, name="transaction_detail"),
]
