from django import template

from ..alerts import firing_alerts as firing

register = template.Library()


@register.simple_tag(takes_context=True)
def firing_alerts(context):
    """The alerts firing, for the admin's banner: staff only, one query per request."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_staff", False):
        return []
    if not hasattr(request, "_firing_alerts"):
        request._firing_alerts = firing()
    return request._firing_alerts
