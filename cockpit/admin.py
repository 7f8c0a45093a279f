from django.contrib import admin
from django.utils.html import format_html
from unfold.admin import ModelAdmin

from reseller.admin_display import ReadOnly

from .alerts import alert_link
from .models import Alert

# The admin's home is the dashboard (cockpit/dashboard.py, through unfold's DASHBOARD_CALLBACK).
admin.site.index_title = "Dashboard"

# --- Alerts (cockpit/alerts.py) ---------------------------------------------------------------------------
# Read-only: written by the checks alone. The banner on every admin page (templates/admin/base.html) lists
# those firing.


@admin.register(Alert)
class AlertAdmin(ReadOnly, ModelAdmin):
    list_display = ["title", "firing", "since", "notified_at", "resolved_at", "summary", "where"]
    list_filter = ["firing"]
    search_fields = ["key", "title", "detail"]
    ordering = ["-firing", "-since", "key"]
    fields = [
        "key",
        "title",
        "firing",
        "since",
        "notified_at",
        "resolved_at",
        "detail",
        "where",
        "updated_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # Rows that never fired only remember a provider's call counts for the next check.
        return super().get_queryset(request).exclude(since=None)

    @admin.display(description="figures")
    def summary(self, alert):
        return alert.detail.partition("\n")[0]

    @admin.display(description="deal with it")
    def where(self, alert):
        return format_html('<a href="{}">Open</a>', alert_link(alert.key))


# --- End of alerts ---------------------------------------------------------------------------------
