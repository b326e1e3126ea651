"""Scenes (a demo's steps) and polls, from lessons, demo data files and questions.

A scene is a lab state — ``preset``, ``config`` (explicit overrides), ``faults`` (fault
commands applied on entering the scene), ``speed`` — with a ``title``, narration ``notes``
for the presenter and an optional ``question`` (a Question slug, the scene's poll).

* Every lesson is a ready-made demo: one scene per embedded lab, the lesson's checkpoints
  attached to the scene before them (``scenes_for_lesson``).
* Instructors write demos as JSON files under ``courseware/content/demos/`` (``load_demo``).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from courseware.lab.commands import CommandError, check_fault

DEMOS_DIR = Path(__file__).resolve().parent.parent / "content" / "demos"
_TAGS = re.compile(r"<[^>]+>")
SCENE_FIELDS = {"title", "preset", "config", "faults", "speed", "notes", "question"}


class SceneError(ValueError):
    """A demo file or a scene that cannot be shown; the message says which and why."""


def clean_scene(raw: Any, where: str) -> dict:
    """Check one scene's shape (the lab checks the values when the scene runs)."""
    if not isinstance(raw, dict):
        raise SceneError(f"{where}: a scene is a JSON object")
    extra = sorted(set(raw) - SCENE_FIELDS)
    if extra:
        raise SceneError(f"{where}: unexpected field(s) {', '.join(extra)}")
    preset = raw.get("preset")
    if not isinstance(preset, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,60}", preset):
        raise SceneError(f"{where}: needs \"preset\" (a preset id)")
    config = raw.get("config") or {}
    if not isinstance(config, dict):
        raise SceneError(f"{where}: \"config\" is an object of producer settings")
    faults = []
    for i, fault in enumerate(raw.get("faults") or []):
        try:
            faults.append(check_fault(fault))
        except (CommandError, TypeError, ValueError) as exc:
            raise SceneError(f"{where}: fault {i + 1}: {exc}") from None
    speed = raw.get("speed", 1.0)
    if not isinstance(speed, (int, float)) or not 0.001 <= float(speed) <= 10:
        raise SceneError(f"{where}: \"speed\" is between 0.001 and 10")
    return {"title": str(raw.get("title") or preset)[:200], "preset": preset,
            "config": config, "faults": faults, "speed": float(speed),
            "notes": str(raw.get("notes") or "")[:4000],
            "question": str(raw.get("question") or "")[:120] or None}


def load_demo(name: str) -> dict:
    """A demo data file: ``{"title", "scenes": [...]}`` from ``content/demos/<name>.json``."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,60}", name or ""):
        raise SceneError(f"demo names are lowercase words and dashes, got {name!r}")
    path = DEMOS_DIR / f"{name}.json"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in DEMOS_DIR.glob("*.json"))) or "none"
        raise SceneError(f"no demo {name!r} (known: {known})")
    data = json.loads(path.read_text())
    scenes = [clean_scene(s, f"{path.name} scene {i + 1}")
              for i, s in enumerate(data.get("scenes") or [])]
    if not scenes:
        raise SceneError(f"{path.name}: a demo needs at least one scene")
    return {"title": str(data.get("title") or name), "scenes": scenes}


def scenes_for_lesson(slug: str) -> dict:
    """A lesson as a demo: its embedded labs in order, each with the checkpoint after it."""
    from courseware.course.models import Lesson
    from courseware.course.services.render import _ATTR, _BLOCK, parse_checkpoint

    lesson = Lesson.objects.filter(slug=slug).first()
    if lesson is None:
        known = ", ".join(Lesson.objects.values_list("slug", flat=True)) or "none loaded"
        raise SceneError(f"no lesson {slug!r} (known: {known})")
    scenes: list[dict] = []
    pending_text = ""
    pos = 0
    for m in _BLOCK.finditer(lesson.body):
        pending_text += lesson.body[pos:m.start()]
        pos = m.end()
        kind, attrs, inner = m.group(1), dict(_ATTR.findall(m.group(2))), m.group(3)
        if kind == "lab":
            notes = _notes(pending_text, inner)
            scenes.append(clean_scene({"title": _preset_title(attrs.get("preset", "")),
                                       "preset": attrs.get("preset", ""), "notes": notes},
                                      f"lesson {slug}"))
            pending_text = ""
        elif kind == "checkpoint" and scenes and scenes[-1]["question"] is None:
            scenes[-1]["question"] = parse_checkpoint(inner)["slug"]
    if not scenes:
        raise SceneError(f"lesson {slug!r} embeds no lab, so it has no scenes")
    return {"title": lesson.title, "scenes": scenes}


def _preset_title(preset: str) -> str:
    """A scene's title: its lab's own title (the room's title is the lesson's)."""
    from producer_core import presets

    try:
        return str(presets.load(preset).get("title") or preset)
    except KeyError:
        return preset


_EMPHASIS = re.compile(r"(\*\*|\*|__|`)(?=\S)(.+?)(?<=\S)\1")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def _notes(before: str, caption: str) -> str:
    """Speaker notes: the lab's caption and the paragraph leading up to it, as plain text
    (Markdown emphasis, code marks and links reduced to their words)."""
    paragraphs = [p.strip() for p in before.strip().split("\n\n") if p.strip()
                  and not p.lstrip().startswith("#")]
    lead = paragraphs[-1] if paragraphs else ""
    text = _TAGS.sub("", "\n\n".join(x for x in (caption.strip(), lead) if x))
    return _EMPHASIS.sub(r"\2", _LINK.sub(r"\1", text))[:4000]


def poll_menu(lesson_slug: str = "") -> list[dict]:
    """Every question a presenter can poll, grouped: this lesson's checkpoints, the other
    checkpoints, the auto-checked questions (answers computed by the engine) and the
    interview questions."""
    from courseware.course.models import Question

    groups: dict[str, list[dict]] = {"This lesson's checkpoints": [], "Checkpoints": [],
                                     "Auto-checked (the engine computes the answer)": [],
                                     "Interview questions": []}
    for q in Question.objects.select_related("lesson").order_by("lesson__order", "order",
                                                                 "slug"):
        if q.kind == Question.Kind.INTERVIEW:
            group = "Interview questions"
        elif q.kind == Question.Kind.COMPUTED:
            group = "Auto-checked (the engine computes the answer)"
        elif lesson_slug and q.lesson and q.lesson.slug == lesson_slug:
            group = "This lesson's checkpoints"
        else:
            group = "Checkpoints"
        label = q.title or _TAGS.sub("", q.prompt).strip()[:80] or q.slug
        groups[group].append({"slug": q.slug, "label": label,
                              "proves": bool(q.demo_preset)})
    return [{"group": g, "questions": qs} for g, qs in groups.items() if qs]


def poll_for(slug: str) -> dict:
    """A poll from a question (interview, checkpoint or auto-checked): what followers see,
    and the answer the presenter reveals."""
    from courseware.course.models import Question
    from courseware.course.services.checking import expected_number

    q = Question.objects.filter(slug=slug).first()
    if q is None:
        raise SceneError(f"no question {slug!r}")
    poll: dict[str, Any] = {"key": q.slug, "prompt": _TAGS.sub("", q.prompt)[:1000],
                            "kind": q.kind, "revealed": False}
    if q.kind == Question.Kind.CHOICE:
        choices = [str(c.get("text", c) if isinstance(c, dict) else c) for c in q.choices]
        poll["choices"] = choices
        poll["answer"] = _choice_answer(q, choices)
    elif q.kind in (Question.Kind.NUMERIC, Question.Kind.COMPUTED):
        poll["choices"] = None  # a number: the histogram groups equal answers
        poll["answer"] = _fmt(expected_number(q))
    else:  # interview: free text is not a poll; followers say how sure they are
        poll["choices"] = ["I could answer this", "Partly", "Not yet"]
        poll["answer"] = _TAGS.sub("", q.model_answer)[:2000]
    poll["explanation"] = _TAGS.sub("", q.explanation)[:2000]
    poll["demo_preset"] = q.demo_preset or None
    return poll


def _choice_answer(q, choices: list[str]) -> str:
    ans = q.answer
    if isinstance(ans, int) and 0 <= ans < len(choices):
        return choices[ans]
    if isinstance(ans, list) and ans and isinstance(ans[0], int) and ans[0] < len(choices):
        return choices[ans[0]]
    return str(ans)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def normalise_answer(poll: dict, raw: Any) -> str:
    """A follower's answer as the histogram key, or SceneError saying what is expected."""
    if poll.get("choices"):
        if not isinstance(raw, str) or raw not in poll["choices"]:
            raise SceneError("answer with one of the poll's choices")
        return raw
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise SceneError("this poll's answer is a number") from None
    if not math.isfinite(value) or abs(value) > 1e15:
        raise SceneError("this poll's answer is a finite number")
    return _fmt(value)
