from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("new/", views.order_new, name="new"),
    path("new/quote/", views.quote, name="quote"),
    path("refill/", views.refill_many, name="refill_many"),
    path("live/", views.orders_live, name="live"),
    path("mass/", views.mass_new, name="mass"),
    path("mass/<str:public_id>/", views.mass_detail, name="mass_detail"),
    path("<str:public_id>/", views.order_detail, name="detail"),
    path("<str:public_id>/row/", views.order_row, name="row"),
    path("<str:public_id>/refill/", views.refill, name="refill"),
    path("<str:public_id>/cancel/", views.cancel, name="cancel"),
]
