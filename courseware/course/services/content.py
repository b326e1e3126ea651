"""Read the course from ``courseware/content/`` (the repo is the source of truth).

Lessons, interview questions and quiz questions are loaded into the database by the
``load_courseware`` command (so the admin can manage them); mistakes, debug-this scenarios
and the incident story are read straight from their files (cached per process).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from . import render
from .frontmatter import ContentError, Document, parse, require

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"


def _docs(folder: str) -> list[Document]:
    out = []
    for p in sorted((CONTENT_DIR / folder).glob("*.md")):
        out.append(parse(p.read_text(encoding="utf-8"),
                         str(p.relative_to(CONTENT_DIR.parent.parent))))
    return out


def _int(doc: Document, key: str) -> int:
    try:
        return int(doc.meta[key])
    except (KeyError, ValueError) as exc:
        raise ContentError(f"{doc.path}: {key} must be an integer") from exc


def lesson_files() -> list[dict]:
    """Every lesson as {slug, title, order, summary, body, source_path, checkpoints}."""
    lessons = []
    for doc in _docs("lessons"):
        require(doc, "slug", "title", "order")
        lessons.append({"slug": doc.meta["slug"], "title": doc.meta["title"],
                        "order": _int(doc, "order"), "summary": doc.meta.get("summary", ""),
                        "body": doc.body, "source_path": doc.path,
                        "checkpoints": render.checkpoints(doc.body)})
    _unique([le["slug"] for le in lessons], "lesson slug")
    return sorted(lessons, key=lambda le: le["order"])


def interview_files() -> list[dict]:
    """Interview questions: front matter slug/title/order/demo; sections Question,
    Model answer, Rubric (a bullet list)."""
    out = []
    for doc in _docs("interview"):
        require(doc, "slug", "title", "order", "demo")
        for sec in ("question", "model answer", "rubric"):
            if sec not in doc.sections:
                raise ContentError(f"{doc.path}: missing '## {sec.capitalize()}' section")
        rubric = [ln[2:].strip() for ln in doc.sections["rubric"].splitlines()
                  if ln.startswith("- ")]
        out.append({"slug": doc.meta["slug"], "title": doc.meta["title"],
                    "order": _int(doc, "order"), "prompt": doc.sections["question"],
                    "model_answer": doc.sections["model answer"], "rubric": rubric,
                    "demo_preset": doc.meta["demo"], "demo_note": doc.meta.get("demo_note", "")})
    return out


def quiz_questions() -> list[dict]:
    """Auto-checked questions whose answers the engine computes (content/quiz.json)."""
    path = CONTENT_DIR / "quiz.json"
    items = json.loads(path.read_text(encoding="utf-8"))
    for i, q in enumerate(items):
        for key in ("slug", "title", "prompt", "compute"):
            if key not in q:
                raise ContentError(f"quiz.json[{i}]: missing {key}")
        q.setdefault("order", i + 1)
        q.setdefault("params", {})
        q.setdefault("explanation", "")
        q.setdefault("tolerance", 0.0)
        q.setdefault("demo_preset", "")
    return items


@dataclass
class Page:
    """A file-backed page (mistake, debug-this scenario, incident)."""

    slug: str
    title: str
    order: int
    meta: dict
    body: str
    sections: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


@cache
def mistakes() -> tuple[Page, ...]:
    pages = []
    for doc in _docs("mistakes"):
        require(doc, "slug", "title", "order", "before", "after", "metric")
        pages.append(Page(doc.meta["slug"], doc.meta["title"], _int(doc, "order"),
                          doc.meta, doc.body, doc.sections))
    return tuple(sorted(pages, key=lambda p: p.order))


@cache
def debug_scenarios() -> tuple[Page, ...]:
    pages = []
    for doc in _docs("debug"):
        require(doc, "slug", "title", "order", "preset")
        spec_path = CONTENT_DIR / "debug" / f"{doc.meta['slug']}.json"
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        pages.append(Page(doc.meta["slug"], doc.meta["title"], _int(doc, "order"),
                          doc.meta, doc.body, doc.sections, spec))
    return tuple(sorted(pages, key=lambda p: p.order))


@cache
def incident() -> Page:
    doc = parse((CONTENT_DIR / "incident.md").read_text(encoding="utf-8"), "incident.md")
    require(doc, "slug", "title", "before", "after")
    return Page(doc.meta["slug"], doc.meta["title"], 0, doc.meta, doc.body, doc.sections)


def checkpoint_pages() -> list[tuple[str, list[dict]]]:
    """(URL path, checkpoints) for every non-lesson page that has checkpoints."""
    out = [("/incident/", render.checkpoints(incident().body))]
    out += [(f"/mistakes/{p.slug}/", render.checkpoints(p.body)) for p in mistakes()]
    out += [(f"/debug/{p.slug}/", render.checkpoints(p.body)) for p in debug_scenarios()]
    return [(url, cps) for url, cps in out if cps]


def find(pages: tuple[Page, ...], slug: str) -> Page | None:
    return next((p for p in pages if p.slug == slug), None)


def _unique(values: list[str], what: str) -> None:
    seen = set()
    for v in values:
        if v in seen:
            raise ContentError(f"duplicate {what}: {v}")
        seen.add(v)
