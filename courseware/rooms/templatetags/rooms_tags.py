"""``{% load rooms_tags %}``: ``user|is_instructor`` (the lab and lesson pages show "Open a
room" / "Present this lesson" to instructors only) and ``url|url_breaks`` (a long URL on
the projector wraps after a ``/``, not in the middle of a word)."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from courseware.rooms.services import is_instructor as _is_instructor

register = template.Library()


@register.filter
def is_instructor(user) -> bool:
    return _is_instructor(user)


@register.filter
def url_breaks(url) -> str:
    """``url`` escaped, with a line-break opportunity (``<wbr>``) after each ``/`` but
    those of ``://``."""
    scheme, sep, rest = str(url).partition("://")
    if not sep:
        scheme, rest = "", scheme
    parts = [conditional_escape(p) for p in rest.split("/")]
    head = conditional_escape(scheme) + "://" if sep else ""
    return mark_safe(head + "/<wbr>".join(parts))  # every part is escaped
