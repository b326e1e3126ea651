"""Rooms: opening, finding, joining (rate-limited), scenes and poll answers.

Views, the consumer and the ``open_room`` command call these; none of them touch sockets.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from courseware.lab.commands import CommandError
from courseware.rooms import codes
from courseware.rooms.models import PollAnswer, Room, RoomCommand
from courseware.rooms.scenes import (
    SceneError,
    load_demo,
    normalise_answer,
    poll_for,
    scenes_for_lesson,
)

ROOM_HOURS = 12  # a room's code works this long after opening (a long teaching day)
JOIN_RATE = 0.5  # join attempts per second per client, on average
JOIN_BURST = 10


class RoomError(Exception):
    """A room that cannot be joined or changed; ``code`` is a PROTOCOL.md error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def open_room(*, preset: str | None = None, config: dict | None = None,
              lesson: str | None = None, demo: str | None = None, user=None,
              seed: int | None = None, hours: float = ROOM_HOURS) -> tuple[Room, str]:
    """Create a room (from a preset plus config, a lesson or a demo file); returns it with
    its presenter token, which is shown once and stored only as a hash."""
    from producer_core import presets

    title, scenes = "", []
    if lesson:
        demo_data = scenes_for_lesson(lesson)
    elif demo:
        demo_data = load_demo(demo)
    else:
        demo_data = None
    if demo_data is not None:
        title, scenes = demo_data["title"], demo_data["scenes"]
        preset = preset or scenes[0]["preset"]
    preset = preset or "kafka-defaults"
    try:
        scenario = presets.load(preset)
    except KeyError:
        raise SceneError(f"unknown preset {preset!r}") from None
    first_config = dict(config or (scenes[0]["config"] if scenes else {}))
    if first_config:  # refused before anything is created
        _check_config(preset, first_config)
    token = codes.new_token()
    for _ in range(20):
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    code=codes.new_code(), token_hash=codes.hash_token(token),
                    title=title or scenario.get("title", preset), preset=preset,
                    seed=int(seed if seed is not None else scenario.get("seed", 42)),
                    lesson_slug=lesson or "", scenes=scenes,
                    scene_index=0 if scenes else -1,
                    created_by=user if getattr(user, "is_authenticated", False) else None,
                    expires_at=timezone.now() + timedelta(hours=hours))
            break
        except IntegrityError:  # a code already taken: draw another
            continue
    else:  # pragma: no cover - 31^6 codes
        raise RoomError("capacity", "no free room code; try again")
    if first_config:
        RoomCommand.objects.create(room=room, index=0, t_ms=0, steps=0, type="config",
                                   args={"set": first_config})
    return room, token


def _check_config(preset: str, config: dict) -> None:
    """The lab's own validation, then the engine's (on a throwaway session)."""
    import json

    from courseware.lab.commands import parse
    from courseware.lab.session import LabSession

    try:
        cmd = parse(json.dumps({"type": "config", "set": config}))
        LabSession("check.room", preset=preset).apply(cmd)
    except CommandError as exc:
        raise SceneError(f"config: {exc.message}") from None


def urls(room: Room, token: str | None = None) -> dict[str, str]:
    base = getattr(settings, "ROOM_BASE_URL", "").rstrip("/")
    out = {"code": room.code,
           "follow_url": f"{base}/room/{room.code}/",
           "projector_url": f"{base}/room/{room.code}/projector/"}
    if token:
        out["presenter_url"] = f"{base}/room/{room.code}/present/?token={token}"
    return out


INSTRUCTORS = "instructors"


def is_instructor(user) -> bool:
    """Members of the Django group ``instructors`` open rooms."""
    return bool(getattr(user, "is_authenticated", False)) and \
        user.groups.filter(name=INSTRUCTORS).exists()


def find_open_room(raw_code: str) -> Room:
    code = codes.normalise(raw_code)
    if not codes.looks_like_code(code):
        raise RoomError("not_found", f"room codes are {codes.CODE_LENGTH} letters and digits "
                                     "(no 0, O, 1, I or L)")
    room = Room.objects.filter(code=code).first()
    if room is None:
        raise RoomError("not_found", f"no room {code}: check the code on the projector")
    if room.closed_at is not None:
        raise RoomError("closed", f"room {code} was closed by its presenter")
    if room.expires_at <= timezone.now():
        raise RoomError("expired", f"room {code} has expired")
    return room


def is_presenter(room: Room, token: str | None) -> bool:
    return codes.token_matches(token, room.token_hash)


def close_room(room_pk: int) -> None:
    Room.objects.filter(pk=room_pk, closed_at__isnull=True).update(closed_at=timezone.now())


# ---- join rate limit ----------------------------------------------------------------------

_join_buckets: dict[str, tuple[float, float]] = {}


def allow_join(client: str) -> bool:
    """One token bucket per client address (per process): ``ROOM_JOIN_RATE``/s, bursts of
    ``ROOM_JOIN_BURST`` (settings).  Guessing codes at that pace would take centuries."""
    rate = float(getattr(settings, "ROOM_JOIN_RATE", JOIN_RATE))
    burst = float(getattr(settings, "ROOM_JOIN_BURST", JOIN_BURST))
    now = time.monotonic()
    tokens, stamp = _join_buckets.get(client, (burst, now))
    tokens = min(burst, tokens + (now - stamp) * rate)
    if len(_join_buckets) > 10_000:
        _join_buckets.clear()
    if tokens < 1.0:
        _join_buckets[client] = (tokens, now)
        return False
    _join_buckets[client] = (tokens - 1.0, now)
    return True


# ---- scenes and polls ---------------------------------------------------------------------

def scene_commands(scene: dict) -> list[dict]:
    """The lab commands that put the room's simulation in a scene's state."""
    cmds: list[dict] = [{"type": "preset", "args": {"id": scene["preset"]}}]
    if scene.get("config"):
        cmds.append({"type": "config", "args": {"set": scene["config"]}})
    cmds += [{"type": "fault", "args": f} for f in scene.get("faults") or []]
    cmds.append({"type": "speed", "args": {"value": scene.get("speed", 1.0)}})
    return cmds


def public_scene(room: Room) -> dict | None:
    if not room.scenes or not 0 <= room.scene_index < len(room.scenes):
        return None
    scene = room.scenes[room.scene_index]
    return {"index": room.scene_index, "count": len(room.scenes), "title": scene["title"],
            "question": scene.get("question")}


def set_scene(room_pk: int, index: int) -> tuple[dict, list[dict]]:
    room = Room.objects.get(pk=room_pk)
    if not room.scenes:
        raise RoomError("invalid", "this room has no scenes (open it from a lesson or demo)")
    if not isinstance(index, int) or not 0 <= index < len(room.scenes):
        raise RoomError("invalid", f"scene index is 0…{len(room.scenes) - 1}")
    room.scene_index = index
    room.save(update_fields=["scene_index"])
    return public_scene(room), scene_commands(room.scenes[index])


def open_poll(room_pk: int, question: str | None) -> dict:
    room = Room.objects.get(pk=room_pk)
    if not question:
        scene = public_scene(room)
        question = scene and scene.get("question")
    if not question:
        raise RoomError("invalid", "poll needs a question slug (this scene has none)")
    try:
        room.poll = poll_for(str(question)[:120])
    except SceneError as exc:
        raise RoomError("invalid", str(exc)) from None
    room.save(update_fields=["poll"])
    return public_poll(room)


def reveal_poll(room_pk: int) -> dict:
    room = Room.objects.get(pk=room_pk)
    if not room.poll:
        raise RoomError("invalid", "no poll is open")
    room.poll["revealed"] = True
    room.save(update_fields=["poll"])
    return public_poll(room)


def public_poll(room: Room) -> dict | None:
    """The poll as everyone sees it: no answer until revealed; the live histogram."""
    poll = room.poll
    if not poll:
        return None
    counts: dict[str, int] = {}
    for choice in PollAnswer.objects.filter(room=room, poll_key=poll["key"]) \
            .values_list("choice", flat=True):
        counts[choice] = counts.get(choice, 0) + 1
    out = {k: poll.get(k) for k in ("key", "prompt", "kind", "choices", "revealed")}
    out["counts"] = counts
    out["total"] = sum(counts.values())
    if poll.get("revealed"):
        out.update(answer=poll.get("answer"), explanation=poll.get("explanation"),
                   demo_preset=poll.get("demo_preset"))
    return out


def follower_key(session_key: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:room:{session_key}".encode()).hexdigest()


def answer_poll(room_pk: int, session_key: str, raw: Any) -> dict:
    """Count one follower's answer once; a second answer is refused and changes nothing."""
    room = Room.objects.get(pk=room_pk)
    if not room.poll:
        raise RoomError("invalid", "no poll is open")
    if room.poll.get("revealed"):
        raise RoomError("invalid", "the answer was revealed: this poll is closed")
    try:
        choice = normalise_answer(room.poll, raw)
    except SceneError as exc:
        raise RoomError("invalid", str(exc)) from None
    try:
        with transaction.atomic():
            PollAnswer.objects.create(room=room, poll_key=room.poll["key"],
                                      follower=follower_key(session_key), choice=choice)
    except IntegrityError:
        raise RoomError("already_answered", "you already answered this poll") from None
    return public_poll(room)


def proving_scene(room_pk: int) -> list[dict]:
    room = Room.objects.get(pk=room_pk)
    preset = (room.poll or {}).get("demo_preset")
    if not preset:
        raise RoomError("invalid", "this poll has no scene that proves it")
    return scene_commands({"preset": preset})
