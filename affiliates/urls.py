from django.urls import path

from . import views

app_name = "affiliates"
urlpatterns = [
    path("r/<str:code>", views.referral_link, name="referral"),
    path("r/<str:code>/", views.referral_link),
    path("affiliates/", views.affiliate_page, name="page"),
    path("affiliates/payout/", views.payout_request_view, name="payout"),
]
