"""The lab's WebSocket consumer: thin.  Parse, check, forward — never crash.

One connection watches one lab: ``/ws/lab/main/`` (the learner's lab, ``?preset=<id>`` to
switch preset) or ``/ws/lab/embed-<preset>/`` (a lesson's embedded lab).  The lab is found
from the Django session, so a learner reaches only their own labs.  Every incoming
message is size-checked, rate-limited and validated (``courseware.lab.commands``); anything
wrong gets an ``error`` message and changes nothing.  Valid commands go to the lab's
control group on the channel layer, wherever the lab runs (``courseware.lab.registry``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from courseware.lab.commands import CommandError, parse
from courseware.lab.registry import CapacityError, control_group, frames_group, registry
from courseware.lab.session import LabSession

REPLAY_SESSION_KEY = "lab_replay"

CLOSE_UNAUTHORISED = 4401
CLOSE_BAD_REQUEST = 4400
CLOSE_CAPACITY = 4429


def lab_id_for(session_key: str, slot: str) -> str:
    """A lab id safe for group names that does not reveal the session key."""
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{session_key}".encode()).hexdigest()[:20]
    return f"{digest}.{slot}"


@database_sync_to_async
def session_exists(session) -> bool:
    """Whether a consumer's Django session is a real, saved one (rooms check it too)."""
    return bool(session.session_key) and session.exists(session.session_key)


@database_sync_to_async
def _take_replay(session) -> dict | None:
    replay = session.pop(REPLAY_SESSION_KEY, None)
    if replay is not None:
        session.save()
    return replay if isinstance(replay, dict) else None


def replay_session(lab_id: str, replay: dict, max_rate: int) -> LabSession:
    """A lab built from a graded run's scenario, paused at the moment that mattered."""
    session = LabSession(lab_id, preset="replay", scenario=replay["scenario"],
                         seed=int(replay["seed"]), max_rate=max_rate)
    session.seek(int(replay.get("at_ms") or 0))
    session.notice = replay.get("note")
    return session


def _ref_of(text: str | None):
    """The ``ref`` of a message, if it is cheap to find (a rate-limited message is not parsed
    fully; a small one is)."""
    if not isinstance(text, str) or len(text) > 1024:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    ref = data.get("ref") if isinstance(data, dict) else None
    ok = (isinstance(ref, str) and len(ref) <= 40) or (
        isinstance(ref, int) and not isinstance(ref, bool) and abs(ref) < 2**53)
    return ref if ok else None


class TokenBucket:
    """``rate`` messages per second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class LabConsumer(AsyncWebsocketConsumer):
    """Streams one lab's frames to a browser and forwards its validated commands."""

    lab_id: str | None = None

    async def connect(self) -> None:
        self.lab_id = None
        rate = float(getattr(settings, "LAB_WS_RATE", 20))
        self.bucket = TokenBucket(rate, burst=rate * 2)
        await self.accept()
        slot = self.scope["url_route"]["kwargs"]["slot"]
        session = self.scope.get("session")
        if session is None or not await session_exists(session):
            await self._error("unauthorised", "This lab belongs to a browser session: "
                                              "reload the lab page to get one.")
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        preset = slot[len("embed-"):] if slot.startswith("embed-") else \
            (query.get("preset") or [None])[0]
        lab_id = lab_id_for(session.session_key, slot)
        # ``?replay=1``: the lab page put a graded run's scenario in the session (resolved
        # and checked server-side, never taken from the URL); it is used once.
        replay = await _take_replay(session) if slot == "main" and "replay" in query else None
        try:
            if replay is not None:
                await registry.adopt(lab_id, await asyncio.to_thread(
                    replay_session, lab_id, replay, registry.max_rate))
            else:
                await registry.ensure(lab_id, preset=preset)
        except RuntimeError as exc:
            await self._error("elsewhere", f"{exc}: close your other lab tabs and try again")
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        except CapacityError as exc:
            await self._error("capacity", str(exc))
            await self.close(code=CLOSE_CAPACITY)
            return
        except CommandError as exc:
            await self._error(exc.code, exc.message)
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        self.lab_id = lab_id
        await self.channel_layer.group_add(frames_group(lab_id), self.channel_name)
        await self.channel_layer.group_send(control_group(lab_id), {
            "type": "lab.attach", "reply_to": self.channel_name, "preset": preset})

    async def disconnect(self, code: int) -> None:
        if self.lab_id is None:
            return
        await self.channel_layer.group_discard(frames_group(self.lab_id), self.channel_name)
        await self.channel_layer.group_send(control_group(self.lab_id), {
            "type": "lab.detach", "reply_to": self.channel_name})
        self.lab_id = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.lab_id is None:
            await self._error("unauthorised", "this connection is not attached to a lab")
            return
        if not self.bucket.take():
            # Every message is answered, even a refused one (issue 8): the answer is small and
            # carries the message's ref when it has one, so a client can match it.
            await self._error("rate_limited", "too many messages: at most "
                              f"{self.bucket.rate:g} per second; this one was ignored",
                              _ref_of(text_data))
            return
        try:
            cmd = parse(text_data if text_data is not None else bytes_data)
        except CommandError as exc:
            await self._error(exc.code, exc.message, exc.ref)
            return
        if cmd.type == "ping":
            await self.channel_layer.group_send(control_group(self.lab_id), {
                "type": "lab.keepalive", "reply_to": self.channel_name})
            await self.send(text_data=json.dumps({"type": "pong", "ref": cmd.ref}))
            return
        await self.channel_layer.group_send(control_group(self.lab_id), {
            "type": "lab.command", "reply_to": self.channel_name,
            "cmd": {"type": cmd.type, "args": cmd.args, "ref": cmd.ref}})

    # ---- from the lab (channel layer) ---------------------------------------------------

    async def lab_frame(self, event: dict) -> None:
        await self._forward(event["text"])

    async def lab_reply(self, event: dict) -> None:
        await self._forward(event["text"])

    async def _forward(self, text: str) -> None:
        try:
            await self.send(text_data=text)
        except Exception:  # noqa: BLE001,S110 - the socket closed under us; disconnect() follows
            pass

    async def _error(self, code: str, message: str, ref=None) -> None:
        await self.send(text_data=json.dumps(
            {"type": "error", "code": code, "message": message, "ref": ref}))
