"""Structural deltas between two JSON-safe states (one lab frame and the next).

A live lab sends a full state once, then only what changed.  ``diff(old, new)`` returns an
*op* that turns ``old`` into ``new``; ``apply(old, op)`` replays it (the browser has the same
function in ``static/js/lab-delta.js``).  Ops are small JSON objects with a one-letter tag:

``{"=": value}``
    replace the value wholesale.
``{"d": {key: op, ...}, "x": [key, ...]}``
    patch a dict: recurse into changed keys, delete the keys in ``x``.
``{"i": {"3": op, ...}}``
    patch a list of the same length index by index (partitions, brokers).
``{"k": [id, ...], "u": {"17": item, ...}}``
    a list of dicts carrying ``"id"`` (batches): the new order of ids, plus the items that
    are new or changed; the rest are reused from the old list.
``{"s": n, "c": m, "a": [item, ...]}``
    a ring buffer moved on (events, arrivals, recent batches): drop ``n`` items from the
    front, keep the next ``m`` (all of them when ``c`` is absent), then append ``a``.

The encoder tries the ops in that order (cheapest first) and falls back to ``=``.  Keys in the JSON
form are strings, so integer ids and list indexes travel as strings.
"""

from __future__ import annotations

from typing import Any

_UNCHANGED = None  # diff() returns None when nothing changed


def diff(old: Any, new: Any) -> dict | None:
    """The op turning ``old`` into ``new``, or ``None`` when they are equal."""
    if old is new or old == new:
        return _UNCHANGED
    if isinstance(old, dict) and isinstance(new, dict):
        return _diff_dict(old, new)
    if isinstance(old, list) and isinstance(new, list):
        return _diff_list(old, new)
    return {"=": new}


def _diff_dict(old: dict, new: dict) -> dict:
    patch: dict[str, Any] = {}
    for key, value in new.items():
        if key in old:
            op = diff(old[key], value)
            if op is not None:
                patch[key] = op
        else:
            patch[key] = {"=": value}
    removed = [key for key in old if key not in new]
    op: dict[str, Any] = {"d": patch}
    if removed:
        op["x"] = removed
    return op


def _ids(items: list) -> list | None:
    ids = []
    for item in items:
        if not isinstance(item, dict) or "id" not in item:
            return None
        ids.append(item["id"])
    if len(set(map(str, ids))) != len(ids):
        return None
    return ids


def _diff_list(old: list, new: list) -> dict:
    # Cheapest exact op first: a ring that moved on (the timeline's batches, arrivals and
    # events: old items drop off the front, the newest few change, new ones are appended),
    # then keyed items, then per index.  An op that rewrites (nearly) every item is no
    # better than replacing the list.
    if not old or not new:
        return {"=": new}
    ring = _diff_ring(old, new)
    if ring is not None and len(ring["a"]) <= len(new) // 2:
        return ring
    new_ids = _ids(new)
    old_ids = _ids(old) if new_ids is not None else None
    if new_ids is not None and old_ids is not None:
        by_id = {str(i): item for i, item in zip(old_ids, old)}
        changed = {str(i): item for i, item in zip(new_ids, new) if by_id.get(str(i)) != item}
        if len(changed) < len(new) // 2:
            return {"k": new_ids, "u": changed}
    elif len(old) == len(new):
        patch = {}
        for index, (a, b) in enumerate(zip(old, new)):
            if a != b:
                patch[str(index)] = diff(a, b)
                if len(patch) > len(new) // 2:
                    break
        else:
            return {"i": patch}
    if ring is not None and len(ring["a"]) < len(new):
        return ring
    return {"=": new}


def _diff_ring(old: list, new: list) -> dict | None:
    """``new`` is ``old`` with ``s`` items dropped from the front, the next ``c`` kept and
    the rest replaced by ``a`` (the newest items of a ring may still be changing)."""
    if not old or not new:
        return None
    try:
        shift = old.index(new[0])
    except ValueError:
        return None
    limit = min(len(old) - shift, len(new))
    common = 1
    while common < limit and old[shift + common] == new[common]:
        common += 1
    op = {"s": shift, "a": new[common:]}
    if common != len(old) - shift:
        op["c"] = common
    return op


def apply(old: Any, op: dict | None) -> Any:
    """Replay an op made by :func:`diff`; returns the new value (``old`` is not modified)."""
    if op is None:
        return old
    if "=" in op:
        return op["="]
    if "d" in op:
        result = dict(old)
        for key in op.get("x", ()):
            result.pop(key, None)
        for key, sub in op["d"].items():
            result[key] = apply(result.get(key), sub)
        return result
    if "i" in op:
        result = list(old)
        for index, sub in op["i"].items():
            result[int(index)] = apply(result[int(index)], sub)
        return result
    if "k" in op:
        by_id = {str(item["id"]): item for item in old}
        updates = op["u"]
        return [updates[str(i)] if str(i) in updates else by_id[str(i)] for i in op["k"]]
    if "s" in op:
        start = op["s"]
        end = start + op["c"] if "c" in op else len(old)
        return list(old[start:end]) + list(op["a"])
    raise ValueError(f"unknown delta op {sorted(op)!r}")
