"""Markdown filters for course templates (trusted content from the repo and the admin)."""

from django import template
from django.utils.safestring import mark_safe

from ..services import render

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    return mark_safe(render.md(str(text or "")))


@register.filter
def markdown_inline(text: str) -> str:
    return mark_safe(render.md_inline(str(text or "")))


@register.filter
def highlight(code: str, lang: str) -> str:
    """Pygments-highlight generated code (export page) the way lessons are highlighted.

    Pygments escapes everything, so user-supplied values inside the code stay text."""
    from pygments import highlight as pyg_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name

    return mark_safe(pyg_highlight(str(code), get_lexer_by_name(lang),
                                   HtmlFormatter(cssclass="codehilite")))
