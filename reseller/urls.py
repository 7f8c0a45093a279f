from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import views
from .accounts import views as account_views

# The admin logs in through allauth's login page, so axes and two-factor authentication apply there too.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("cockpit.urls")),  # /healthz, /metrics
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg")),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("services/", include("catalog.urls")),
    path("orders/", include("orders.urls")),
    path("accounts/", include("allauth.urls")),
    path("account/", include("reseller.accounts.urls")),
    path("i18n/setlang/", account_views.set_language, name="set_language"),  # the header's switcher
    path("api/", include("reseller.api.urls")),  # /api/ (docs) and /api/v2 (the endpoint)
    path("", include("reseller.wallet.urls")),
    path("", include("payments.urls")),  # /funds/, /transactions/, /payments/<gateway>/webhook/
    path("support/", include("support.urls")),
    path("", include("affiliates.urls")),  # /affiliates/ and the referral links /r/<code>
    path("admin/", admin.site.urls),
]

# Django's error pages, but JSON on the API's paths (reseller/api/errors.py).
handler400 = "reseller.api.errors.bad_request"
handler403 = "reseller.api.errors.permission_denied"
handler404 = "reseller.api.errors.page_not_found"
handler500 = "reseller.api.errors.server_error"
