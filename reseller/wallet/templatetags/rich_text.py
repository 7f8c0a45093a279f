from django import template

from reseller.rich_text import render_markdown

register = template.Library()


@register.filter(name="markdown", is_safe=True)
def markdown_filter(text):
    """`{{ instructions|markdown }}`: the operator's Markdown as sanitised HTML (reseller/rich_text.py)."""
    return render_markdown(text)
