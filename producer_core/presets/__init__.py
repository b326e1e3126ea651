"""Named scenarios shipped with the engine (JSON files beside this module).

A preset is a scenario (see docs/SEAMS.md §2) with an ``id`` and a ``title``; the lab's
menu, the lessons and the CLI (``python -m producer_core --preset incident``) share them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

_DIR = Path(__file__).resolve().parent


def names() -> list[str]:
    """Ids of every preset, sorted."""
    return sorted(p.stem for p in _DIR.glob("*.json"))


@cache
def _load_text(preset_id: str) -> str:
    return (_DIR / f"{preset_id}.json").read_text(encoding="utf-8")


def load(preset_id: str) -> dict:
    """The preset as a fresh dict (callers may modify it). KeyError names the known ids."""
    if preset_id not in names():
        raise KeyError(f"unknown preset {preset_id!r}; known: {', '.join(names())}")
    data = json.loads(_load_text(preset_id))
    data.setdefault("id", preset_id)
    return data
