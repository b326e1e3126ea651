"""The exercises as data: ``courseware/content/exercises/<slug>/`` read into ``Exercise``.

``exercise.md`` starts with a small front matter (docs/GRADING.md): scalars, flow lists
``[a, "b"]``, block lists of flow maps ``- {name: x, weight: 2}`` or of strings, and one
level of nested maps (``variant:``). This module parses exactly that subset (no YAML
dependency) and raises ``ContentError`` naming the file and line for anything else.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from courseware.course.services.frontmatter import ContentError
from courseware.exercises import graders

CONTENT = Path(__file__).resolve().parents[2] / "content" / "exercises"
ORDER = ("batching-benchmark", "compression-comparison", "back-pressure", "metrics-dashboard",
         "health-check")
_FM = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_PLACEHOLDER = re.compile(r"\{\{\s*variant\.(\w+)\s*\}\}")


@dataclass(frozen=True)
class Exercise:
    slug: str
    title: str
    kind: str  # "config" | "code"
    lessons: tuple[str, ...]
    par: int
    goals: tuple[dict, ...]  # {"name", "weight", "only"?}
    hints: tuple[str, ...]
    variant_ranges: dict
    statement: str  # Markdown with {{ variant.x }} placeholders
    explanation: str  # Markdown, shown after solving
    starter: str

    @property
    def lang(self) -> str:
        return "python" if self.kind == "code" else "json"

    @property
    def extension(self) -> str:
        return ".py" if self.kind == "code" else ".json"


def _scalar(text: str, where: str):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d*", text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    if text[:1] in "[{":
        raise ContentError(f"{where}: a nested list or map is not supported here: {text!r}")
    return text


def _split(inner: str) -> list[str]:
    """Split a flow list/map body on commas outside quotes."""
    parts, buf, quote = [], "", None
    for ch in inner:
        if quote:
            buf += ch
            quote = None if ch == quote else quote
        elif ch in "\"'":
            buf, quote = buf + ch, ch
        elif ch == ",":
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    if buf.strip():
        parts.append(buf)
    return parts


def _value(text: str, where: str):
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(p, where) for p in _split(text[1:-1])]
    if text.startswith("{") and text.endswith("}"):
        out = {}
        for part in _split(text[1:-1]):
            if ":" not in part:
                raise ContentError(f"{where}: expected 'key: value' in {text!r}")
            k, v = part.split(":", 1)
            out[k.strip()] = _scalar(v, where)
        return out
    return _scalar(text, where)


def parse_front_matter(block: str, path: str) -> dict:
    meta: dict = {}
    current: str | None = None
    for n, line in enumerate(block.splitlines(), start=2):
        where = f"{path}:{n}"
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            if ":" not in line:
                raise ContentError(f"{where}: expected 'key: value', got {line!r}")
            key, rest = line.split(":", 1)
            current = key.strip()
            meta[current] = _value(rest, where) if rest.strip() else None
            continue
        if current is None:
            raise ContentError(f"{where}: an indented line before any key")
        item = line.strip()
        if item.startswith("- "):
            if meta[current] is None:
                meta[current] = []
            if not isinstance(meta[current], list):
                raise ContentError(f"{where}: {current} mixes a list and a map")
            meta[current].append(_value(item[2:], where))
        else:
            if meta[current] is None:
                meta[current] = {}
            if not isinstance(meta[current], dict) or ":" not in item:
                raise ContentError(f"{where}: expected '  key: value' under {current}")
            k, v = item.split(":", 1)
            meta[current][k.strip()] = _value(v, where)
    return meta


def _read(folder: Path, name: str) -> str:
    p = folder / name
    return p.read_text(encoding="utf-8") if p.is_file() else ""


@lru_cache(maxsize=16)
def _load(slug: str) -> Exercise:
    folder = CONTENT / slug
    path = str(folder / "exercise.md")
    text = _read(folder, "exercise.md")
    m = _FM.match(text)
    if not m:
        raise ContentError(f"{path}: missing front matter (a '---' block at the top)")
    meta = parse_front_matter(m.group(1), path)
    for key in ("title", "kind", "goals"):
        if not meta.get(key):
            raise ContentError(f"{path}: front matter lacks {key}")
    kind = meta["kind"]
    if kind not in ("config", "code"):
        raise ContentError(f"{path}: kind must be config or code, got {kind!r}")
    starter = _read(folder, "starter.py" if kind == "code" else "starter.json")
    return Exercise(slug=slug, title=str(meta["title"]), kind=kind,
                    lessons=tuple(meta.get("lessons") or ()), par=int(meta.get("par") or 1),
                    goals=tuple(meta["goals"]), hints=tuple(meta.get("hints") or ()),
                    variant_ranges=dict(meta.get("variant") or {}),
                    statement=text[m.end():], explanation=_read(folder, "explanation.md"),
                    starter=starter)


def slugs() -> tuple[str, ...]:
    """Every exercise with content and a grader, in the article's order."""
    return tuple(s for s in ORDER if (CONTENT / s / "exercise.md").is_file()
                 and s in graders.GRADERS)


def get(slug: str) -> Exercise | None:
    return _load(slug) if slug in slugs() else None


def all_exercises() -> list[Exercise]:
    return [_load(s) for s in slugs()]


def for_lesson(lesson_slug: str) -> list[Exercise]:
    return [e for e in all_exercises() if lesson_slug in e.lessons]


def variant_of(ex: Exercise, learner: str) -> dict:
    grader = graders.get(ex.slug)
    return grader.variant(graders.variant_seed(learner, ex.slug))


def _show(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)


def fill(markdown_text: str, variant: dict) -> str:
    """The statement with the learner's own numbers in place of ``{{ variant.x }}``."""
    def sub(m: re.Match) -> str:
        key = m.group(1)
        return html.escape(_show(variant[key])) if key in variant else m.group(0)
    return _PLACEHOLDER.sub(sub, markdown_text)


def goals_for(ex: Exercise, variant: dict) -> list[dict]:
    """The goals that apply to this variant (``only: "key = value"`` limits a goal)."""
    out = []
    for g in ex.goals:
        only = g.get("only")
        if only and "=" in str(only):
            key, want = (s.strip() for s in str(only).split("=", 1))
            if str(variant.get(key)) != want:
                continue
        out.append({"name": g.get("name"), "weight": g.get("weight", 1)})
    return out
