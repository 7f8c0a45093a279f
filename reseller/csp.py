"""The Content-Security-Policy of every page (django-csp; the pages' own is CONTENT_SECURITY_POLICY in
settings.py), and the admin's.

Customer pages run only the panel's own files: no inline script or style anywhere in them (htmx is told not
to add its indicator <style>, panel.css styles it), so a script injected into a page does not run. The
admin is django-unfold's, which runs Alpine.js expressions (eval) and inline styles and scripts: it gets
those, from its own origin only, and nothing else from anywhere.
"""

from csp.constants import SELF, UNSAFE_EVAL, UNSAFE_INLINE
from csp.middleware import CSPMiddleware

ADMIN = {"script-src": [SELF, UNSAFE_INLINE, UNSAFE_EVAL], "style-src": [SELF, UNSAFE_INLINE]}
ADMIN_PREFIX = "/admin/"


class PanelCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(ADMIN_PREFIX):
            parts.replace = {**ADMIN, **(parts.replace or {})}
        return parts
