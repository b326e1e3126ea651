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
