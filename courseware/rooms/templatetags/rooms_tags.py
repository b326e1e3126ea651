"""``{% load rooms_tags %}``: ``user|is_instructor`` (the lab and lesson pages show "Open a
room" / "Present this lesson" to instructors only)."""

from django import template

from courseware.rooms.services import is_instructor as _is_instructor

register = template.Library()


@register.filter
def is_instructor(user) -> bool:
    return _is_instructor(user)
