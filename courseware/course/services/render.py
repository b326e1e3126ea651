"""Markdown → HTML for lessons and other course pages.

Python-Markdown with Pygments highlighting (``codehilite``), tables and heading anchors.
Two fenced blocks are ours:

- `````lab preset=<id> [height=<px>] [speed=<x>]`` — an embedded live lab: an iframe to
  ``/lab/embed/<id>/`` (``?speed=<x>``: the lab starts at that speed, one of the lab's
  speed steps, so that the concept is visible — 0.05 shows a 20 ms linger as a second) with
  a plain link to ``/lab/?preset=<id>`` as fallback. The block's body, if any, is the
  caption.
- `````checkpoint`` — a short question (see :func:`parse_checkpoint`); it renders as a
  slot the page fills with a form.
- `````measure`` — the in-app codec measurement form (lesson 3).

Rendering is pure and cached on the source text, so a lesson is converted once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from urllib.parse import quote

import markdown

from .frontmatter import ContentError

_BLOCK = re.compile(r"^```(lab|checkpoint|measure)([^\n]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
_ATTR = re.compile(r"(\w[\w-]*)=(\S+)")
_PRESET_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")

MARKDOWN_EXTENSIONS = ["fenced_code", "codehilite", "tables", "toc", "attr_list",
                       "admonition", "sane_lists"]
MARKDOWN_CONFIG = {
    "codehilite": {"css_class": "codehilite", "guess_lang": False},
    "toc": {"permalink": False},
}


@dataclass(frozen=True)
class Segment:
    """A piece of a rendered page: HTML, an embedded lab, or a checkpoint slot."""

    kind: str  # "html" | "lab" | "checkpoint"
    html: str = ""
    preset: str = ""
    height: int = 600
    speed: float | None = None  # a lab's starting speed (None: the lab's default, 1×)
    caption: str = ""
    checkpoint: str = ""  # question slug


def md(text: str) -> str:
    """Render a Markdown fragment (no lab or checkpoint blocks) to HTML."""
    return _md_cached(text)


@lru_cache(maxsize=1024)
def _md_cached(text: str) -> str:
    return markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS,
                             extension_configs=MARKDOWN_CONFIG)


def md_inline(text: str) -> str:
    """A one-paragraph fragment without the surrounding <p>."""
    html = md(text).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


@lru_cache(maxsize=256)
def render(text: str) -> tuple[Segment, ...]:
    """Split a body into segments and render the Markdown ones."""
    segments: list[Segment] = []
    pos = 0
    for m in _BLOCK.finditer(text):
        before = text[pos:m.start()]
        if before.strip():
            segments.append(Segment("html", html=md(before)))
        kind, attrs, inner = m.group(1), dict(_ATTR.findall(m.group(2))), m.group(3)
        if kind == "lab":
            preset = attrs.get("preset", "")
            if not _PRESET_ID.match(preset):
                raise ContentError(f"lab block needs preset=<id>, got {m.group(2).strip()!r}")
            segments.append(Segment("lab", preset=preset,
                                    height=int(attrs.get("height", 600)),
                                    speed=_speed(attrs.get("speed"), preset),
                                    caption=md_inline(inner.strip()) if inner.strip() else ""))
        elif kind == "measure":
            segments.append(Segment("measure", caption=md_inline(inner.strip()) if inner.strip() else ""))
        else:
            segments.append(Segment("checkpoint", checkpoint=parse_checkpoint(inner)["slug"]))
        pos = m.end()
    tail = text[pos:]
    if tail.strip():
        segments.append(Segment("html", html=md(tail)))
    return tuple(segments)


def _speed(text: str | None, preset: str) -> float | None:
    if text is None:
        return None
    from courseware.lab.session import SPEED_STEPS

    try:
        value = float(text)
    except ValueError:
        value = None
    if value not in SPEED_STEPS:
        raise ContentError(f"lab block {preset}: speed must be one of the lab's speeds "
                           f"{', '.join(f'{s:g}' for s in SPEED_STEPS)}, got {text!r}")
    return value


def lab_presets(text: str) -> list[str]:
    """Preset ids a body embeds, in order."""
    return [s.preset for s in render(text) if s.kind == "lab"]


def parse_checkpoint(inner: str) -> dict:
    """Parse a checkpoint block.

    ``id:``, ``type:`` (choice | numeric), ``question:``, then for choice one line per
    option, ``+ `` for the correct one and ``- `` for the others; for numeric
    ``answer:`` and optional ``tolerance:`` (relative). ``explain:`` is shown afterwards.
    A line starting with two spaces continues the previous value.
    """
    fields: dict[str, str] = {}
    choices: list[str] = []
    correct: list[int] = []
    last: str | None = None
    for line in inner.splitlines():
        if not line.strip():
            continue
        if line.startswith("  ") and last:
            if last == "choice":
                choices[-1] += " " + line.strip()
            else:
                fields[last] += " " + line.strip()
            continue
        if line.startswith(("+ ", "- ")):
            if line[0] == "+":
                correct.append(len(choices))
            choices.append(line[2:].strip())
            last = "choice"
            continue
        if ":" not in line:
            raise ContentError(f"checkpoint: cannot read line {line!r}")
        key, value = line.split(":", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]  # quoted to keep a leading backtick or colon readable
        fields[key.strip()] = value
        last = key.strip()
    slug = fields.get("id", "")
    if not slug:
        raise ContentError("checkpoint without an id")
    kind = fields.get("type", "choice")
    if not fields.get("question"):
        raise ContentError(f"checkpoint {slug}: no question")
    out = {"slug": slug, "kind": kind, "prompt": fields["question"],
           "explanation": fields.get("explain", ""), "choices": [], "answer": None,
           "tolerance": float(fields.get("tolerance", 0) or 0)}
    if kind == "choice":
        if len(choices) < 2 or len(correct) != 1:
            raise ContentError(f"checkpoint {slug}: needs 2+ options and exactly one '+' line")
        out["choices"], out["answer"] = choices, correct[0]
    elif kind == "numeric":
        try:
            out["answer"] = float(fields["answer"])
        except (KeyError, ValueError) as exc:
            raise ContentError(f"checkpoint {slug}: numeric needs answer: <number>") from exc
    else:
        raise ContentError(f"checkpoint {slug}: type must be choice or numeric, got {kind!r}")
    return out


def checkpoints(text: str) -> list[dict]:
    """Every checkpoint block of a body, parsed, in order."""
    return [parse_checkpoint(m.group(3)) for m in _BLOCK.finditer(text)
            if m.group(1) == "checkpoint"]


def lab_embed_html(preset: str, height: int = 600, caption: str = "") -> str:
    """The iframe markup for an embedded lab (also used by non-lesson pages)."""
    p = quote(preset)
    cap = f'<figcaption>{caption}</figcaption>' if caption else ""
    return (f'<figure class="lab-embed"><iframe src="/lab/embed/{p}/" height="{height}" '
            f'loading="lazy" title="Live lab: {escape(preset)}"></iframe>'
            f'<div class="lab-fallback">Preset <code>{escape(preset)}</code> · '
            f'<a href="/lab/?preset={p}">open it in the full lab</a></div>{cap}</figure>')
