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
``{"s": n, "c": m, "p": {"5": op, ...}, "a": [item, ...]}``
    a ring buffer moved on (events, arrivals, recent batches): drop ``n`` items from the
    front, keep the next ``m`` (all of them when ``c`` is absent), patch kept items by
    their new index (``p``, optional: a batch that was closed, sent or acknowledged since),
    then append ``a``.
``{"h": [key, ...], "r": [[value, ...], ...]}``
    a *table*: a list of dicts that all have the keys ``h``, one row of values per dict,
    in ``h``'s order.  Alone it replaces the value (like ``=``); inside a ring op it
    stands for ``a`` (the appended items).  Used for six items or more, where writing the
    keys once pays off (batches, arrival buckets).

The encoder tries the ops in that order (cheapest first) and falls back to ``=``.  Keys in the JSON
form are strings, so integer ids and list indexes travel as strings.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

_UNCHANGED = None  # diff() returns None when nothing changed


TABLE_MIN = 6  # rows from which a table (keys written once) beats a list of dicts


def diff(old: Any, new: Any) -> dict | None:
    """The op turning ``old`` into ``new``, or ``None`` when they are equal."""
    if old is new:
        return _UNCHANGED
    if type(old) is dict and type(new) is dict:
        # No deep ``old == new`` first: that would compare this whole subtree once per
        # level above each leaf.  The patch is empty exactly when the dicts are equal.
        return _diff_dict_or_none(old, new)
    if old == new:
        return _UNCHANGED
    if isinstance(old, dict) and isinstance(new, dict):
        return _diff_dict(old, new)
    if isinstance(old, list) and isinstance(new, list):
        return _diff_list(old, new)
    return {"=": new}


def _table(items: list) -> tuple[list, list] | None:
    """``(keys, rows)`` when ``items`` are at least ``TABLE_MIN`` dicts with the same keys
    (each row in ``keys``' order, the first item's); otherwise None."""
    if len(items) < TABLE_MIN:
        return None
    first = items[0]
    if type(first) is not dict or not first:
        return None
    keys = tuple(first)
    n = len(keys)
    # as many keys as ``keys`` and each of them there: the same keys.  The row reads them
    # in ``keys``' order, in C (an itemgetter), whatever the item's own order.
    row = itemgetter(*keys) if n > 1 else (lambda item, k=keys[0]: (item[k],))
    rows = []
    append = rows.append
    try:
        for item in items:
            if type(item) is not dict or len(item) != n:
                return None
            append(row(item))
    except KeyError:
        return None
    return list(keys), rows


def _replace(new: list) -> dict:
    table = _table(new)
    if table is None:
        return {"=": new}
    return {"h": table[0], "r": table[1]}


def _appended(op: dict, items: list) -> dict:
    """Put ``items`` into ring op ``op`` as ``a``, or as a table when that is smaller."""
    table = _table(items)
    if table is None:
        op["a"] = items
    else:
        op["h"], op["r"] = table
    return op


def _diff_dict_or_none(old: dict, new: dict) -> dict | None:
    """``_diff_dict``, or None when nothing changed (what ``old == new`` would say)."""
    patch: dict[str, Any] = {}
    added = False
    for key, value in new.items():
        if key in old:
            op = diff(old[key], value)
            if op is not None:
                patch[key] = op
        else:
            patch[key] = {"=": value}
            added = True
    # (Every key of ``new`` is in ``old`` and they are as many: none was removed.)
    removed = [key for key in old if key not in new] if added or len(old) != len(new) else []
    if not patch and not removed:
        return _UNCHANGED
    op: dict[str, Any] = {"d": patch}
    if removed:
        op["x"] = removed
    return op


def _diff_dict(old: dict, new: dict) -> dict:
    """The patch of two dicts known to differ."""
    return _diff_dict_or_none(old, new) or {"d": {}}


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
    # events: old items drop off the front, some kept ones change, new ones are appended),
    # then keyed items, then per index.  An op that rewrites (nearly) every item is no
    # better than replacing the list.
    if not old or not new:
        return _replace(new)
    ring = _diff_ring(old, new)
    if ring is not None and ring[1] <= len(new) // 2:
        return ring[0]
    if ring is not None and ring[0]["s"] > 0:
        # A ring that moved on by more than half (arrival buckets at a high rate): the
        # items kept sit at other indexes now, so patching by index or id would diff
        # every item for nothing.  Carry the new part, or the list if that is smaller.
        return ring[0] if ring[1] < len(new) else _replace(new)
    new_ids = _ids(new)
    old_ids = _ids(old) if new_ids is not None else None
    if new_ids is not None and old_ids is not None:
        by_id = {str(i): item for i, item in zip(old_ids, old)}
        changed = {str(i): item for i, item in zip(new_ids, new) if by_id.get(str(i)) != item}
        if len(changed) < len(new) // 2:
            return {"k": new_ids, "u": changed}
    elif len(old) == len(new):
        # Same length (partitions, brokers, in-flight per broker): patch by index.  Dicts
        # are patched key by key, which is smaller than resending them even when every
        # item changed a little (each partition's queue moves every frame).
        dicts = isinstance(new[0], dict)
        patch = {}
        for index, (a, b) in enumerate(zip(old, new)):
            # diff() itself says "equal" (None): comparing first would walk a changed
            # item twice
            op = diff(a, b)
            if op is not None:
                patch[str(index)] = op
                if not dicts and len(patch) > len(new) // 2:
                    break
        else:
            return {"i": patch}
    if ring is not None and ring[1] < len(new):
        return ring[0]
    return _replace(new)


def _common_prefix(old: list, shift: int, new: list, limit: int) -> int:
    """How many items ``new`` shares with ``old[shift:]`` from the front (at least 1: the
    caller found ``new[0]`` there).  Slice comparisons run in C and stop at the first
    difference, so a binary search over them beats a Python loop over 200 batches."""
    if old[shift:shift + limit] == new[:limit]:
        return limit
    lo, hi = 1, limit - 1  # the prefix has lo items for sure, at most hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[shift:shift + mid] == new[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _diff_ring(old: list, new: list) -> tuple[dict, int] | None:
    """``new`` is ``old`` with ``s`` items dropped from the front, the next ``c`` kept
    (some patched in place) and the rest appended.  Returns the op and how many items it
    carries (patched + appended), or None when ``new[0]`` is not in ``old``."""
    if not old or not new:
        return None
    try:
        shift = old.index(new[0])
    except ValueError:
        return None
    limit = min(len(old) - shift, len(new))
    common = _common_prefix(old, shift, new, limit)
    tail = len(new) - common  # items the plain ring op would append
    # The newest items of a ring may still be changing (a batch gets closed, sent,
    # acknowledged): patching the few that changed beats resending everything after the
    # first change.  Only worth it when many kept items are unchanged.
    if limit - common > 1:
        patch = {}
        for index in range(common, limit):
            a, b = old[shift + index], new[index]
            if a is b:
                continue
            if type(a) is not dict or type(b) is not dict \
                    or a.get("id", index) != b.get("id", index):
                if a == b:
                    continue
                patch = None
                break
            op = _diff_dict_or_none(a, b)
            if op is not None:
                patch[str(index)] = op
        if patch is not None and 2 * (len(patch) + len(new) - limit) < tail:
            op: dict[str, Any] = {"s": shift}
            if limit != len(old) - shift:
                op["c"] = limit
            if patch:
                op["p"] = patch
            return _appended(op, new[limit:]), len(patch) + len(new) - limit
    op = {"s": shift}
    if common != len(old) - shift:
        op["c"] = common
    return _appended(op, new[common:]), tail


def _rows(op: dict) -> list[dict]:
    keys = op["h"]
    return [dict(zip(keys, row)) for row in op["r"]]


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
        kept = list(old[start:end])
        for index, sub in op.get("p", {}).items():
            kept[int(index)] = apply(kept[int(index)], sub)
        return kept + (_rows(op) if "h" in op else list(op["a"]))
    if "h" in op:
        return _rows(op)
    raise ValueError(f"unknown delta op {sorted(op)!r}")
