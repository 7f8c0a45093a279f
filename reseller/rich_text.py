"""Markdown written by the operator (the Add funds instructions), made into HTML that is safe to show.

Markdown first (raw HTML in it passes through), then nh3 keeps only the tags below: no script, style, event
handler or iframe survives, links may only go to http, https and mailto addresses (or to a page of the
panel, `/funds/`), images only from https, and every link gets rel="noopener noreferrer nofollow".
A leaf: the standard library, markdown, nh3 and Django's SafeString only.
"""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

TAGS = {
    *("p", "br", "hr", "strong", "em", "a", "ul", "ol", "li", "code", "pre", "blockquote", "h2", "h3", "h4"),
    *("table", "thead", "tbody", "tr", "th", "td", "img"),
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"
# nl2br: a line break is a line break (bank details are written one per line, as they were before Markdown).
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "toc", "nl2br"]
# The page has its own h1: the operator's `# Title` becomes an h2, `##` an h3 (toc only shifts headings here).
EXTENSION_CONFIGS = {"toc": {"baselevel": 2, "marker": ""}}


def _attribute(tag: str, name: str, value: str) -> str | None:
    """nh3 has checked the scheme of absolute URLs; this refuses what it lets through as relative
    (`//host/x` included) but a path of the panel, and images from anywhere but https."""
    if name == "href" and ":" not in value.split("/", 1)[0]:
        # A browser reads `/\host` and `/<tab>/host` as `//host`: a panel path has none of those.
        if not value.startswith("/") or value.startswith("//") or any(c in value for c in "\\\t\r\n"):
            return None
        return value
    if tag == "img" and name == "src":
        return value if value.lower().startswith("https://") else None
    return value


_cleaner = nh3.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel=LINK_REL,
    attribute_filter=_attribute,
)


def render_markdown(text: str) -> SafeString:
    """The Markdown as sanitised HTML, ready for a template."""
    html = markdown.markdown(
        text or "", extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html"
    )
    return mark_safe(_cleaner.clean(html))  # noqa: S308  (sanitised by nh3 just now)
