from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from . import views

# The admin logs in through allauth's login page, so axes and two-factor authentication apply there too.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("services/", include("catalog.urls")),
    path("orders/", include("orders.urls")),
    path("accounts/", include("allauth.urls")),
    path("account/", include("reseller.accounts.urls")),
    path("api/", include("reseller.api.urls")),  # /api/ (docs) and /api/v2 (the endpoint)
    path("", include("reseller.wallet.urls")),
    path("admin/", admin.site.urls),
]
