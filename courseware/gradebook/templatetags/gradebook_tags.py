"""``{% load gradebook_tags %}``: ``user|is_instructor`` (course home's link) and ``score|pct``."""

from __future__ import annotations

from django import template

from courseware.gradebook.services import is_instructor as _is_instructor

register = template.Library()


@register.filter
def is_instructor(user) -> bool:
    return _is_instructor(user)


@register.filter
def pct(score) -> str:
    """0.8333 → "83 %"; no score → "—"."""
    if score is None or score == "":
        return "—"
    try:
        return f"{round(float(score) * 100)} %"
    except (TypeError, ValueError):
        return "—"


@register.filter
def ms(value) -> str:
    """Milliseconds for people: 840 → "840 ms", 12500 → "12.5 s"; none → "—"."""
    if value is None:
        return "—"
    return f"{value} ms" if value < 1000 else f"{value / 1000:.1f} s"


@register.filter
def learner_label(learner: str) -> str:
    """Usernames as they are; an anonymous browser (``anon:<hex id>``) short enough to read."""
    if learner.startswith("anon:"):
        return f"anonymous {learner[5:11]}"
    return learner
