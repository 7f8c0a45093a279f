"""QR images made here (no image service): an inline SVG of a payload, e.g. a VietQR."""

import segno
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def qr_svg(payload: str, *, title: str = "") -> SafeString:
    """The payload as an inline SVG that scales with its box (the payload itself is not in the markup)."""
    svg = segno.make(payload, error="m").svg_inline(
        scale=4, border=2, dark="#111", light="#fff", omitsize=True
    )
    label = f'<svg role="img" aria-label="{escape(title)}"' if title else "<svg"
    return mark_safe(svg.replace("<svg", label, 1))  # noqa: S308  (segno's markup, our escaped label)
