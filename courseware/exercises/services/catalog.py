"""The exercises' headline facts (title, kind, lessons, par) read from their front matter in
``courseware/content/exercises/<slug>/exercise.md``, and their copy in the ``Exercise`` table
that the Django admin lists (``sync()`` refreshes it from the repo)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from courseware.exercises import graders

CONTENT = Path(__file__).resolve().parents[2] / "content" / "exercises"
_FIELD = re.compile(r"^(title|kind|lessons|par):\s*(.+?)\s*$", re.MULTILINE)


@lru_cache(maxsize=64)
def meta(slug: str) -> dict:
    """{"title", "kind", "lessons", "par", "source_path"}; the slug as title if unreadable."""
    path = CONTENT / slug / "exercise.md"
    try:
        head = path.read_text(encoding="utf-8").split("\n---", 1)[0]
    except OSError:
        head = ""
    found = {k: v.strip("\"'") for k, v in _FIELD.findall(head)}
    par = found.get("par", "")
    return {"title": found.get("title", slug), "kind": found.get("kind", ""),
            "lessons": found.get("lessons", "").strip("[]").replace(" ", ""),
            "par": int(par) if par.isdigit() else None,
            "source_path": str(path.relative_to(CONTENT.parents[1])) if head else ""}


def title(slug: str) -> str:
    return meta(slug)["title"]


def sync() -> None:
    """Make the ``Exercise`` rows match the exercises in the repo (the fixed grader table)."""
    from courseware.exercises.models import Exercise

    for order, slug in enumerate(graders.GRADERS, start=1):
        m = meta(slug)
        Exercise.objects.update_or_create(slug=slug, defaults={**m, "order": order})
    Exercise.objects.exclude(slug__in=list(graders.GRADERS)).delete()
