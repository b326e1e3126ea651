"""The lab's WebSocket consumer: thin.  Parse, check, forward — never crash.

One connection watches one lab: ``/ws/lab/main/`` (the learner's lab, ``?preset=<id>`` to
switch preset) or ``/ws/lab/embed-<preset>/`` (a lesson's embedded lab, ``?speed=<x>`` its
starting speed).  The lab is found from the Django session, so a learner reaches only their
own labs.  Every incoming message is size-checked, validated (``courseware.lab.commands``)
and charged to its session's and client address's shared budgets (``courseware.lab.quotas``);
anything wrong gets an ``error`` message and changes nothing.  Valid commands go to the lab's
control group on the channel layer, wherever the lab runs (``courseware.lab.registry``).

Every message is answered exactly once.  The consumer numbers the commands it forwards
(``tag``); the lab's reply carries it back.  At most ``LAB_MAX_PENDING`` commands of a socket
wait for their answers (past that: ``overloaded`` at once), and one still unanswered after
``LAB_COMMAND_TIMEOUT`` seconds gets ``overloaded`` from the consumer (a late reply is then
dropped: one answer per command).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from courseware.lab.commands import (
    MAX_MESSAGE_BYTES,
    SPEEDS_MAX,
    SPEEDS_MIN,
    CommandError,
    parse,
)
from courseware.lab.quotas import QuotaError, TokenBucket, quotas
from courseware.lab.registry import CapacityError, control_group, frames_group, registry
from courseware.lab.session import LabSession

REPLAY_SESSION_KEY = "lab_replay"

__all__ = ["LabConsumer", "TokenBucket", "lab_id_for"]  # TokenBucket: the rooms' consumer

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


_REF = r'"ref"\s*:\s*(-?\d{1,16}|"[^"\\]{0,40}")'
_REF_LAST = re.compile(_REF + r"\s*\}\s*$")
_REF_FIRST = re.compile(r'^\s*\{\s*(?:"type"\s*:\s*"[^"\\]{0,40}"\s*,\s*)?' + _REF + r"\s*[,}]")


def _ref_of(text) -> str | int | None:
    """The ``ref`` of a message that is not parsed fully (rate-limited, too large, not
    valid JSON), so that its error still names it.  Small messages are parsed; larger ones
    are only looked at where clients put ``ref`` (first or last), in O(1)."""
    if not isinstance(text, str):
        return None
    data = None
    if len(text) <= MAX_MESSAGE_BYTES:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
    if isinstance(data, dict):
        ref = data.get("ref")
    else:
        m = _REF_LAST.search(text[-80:]) or _REF_FIRST.search(text[:160])
        if m is None:
            return None
        try:
            ref = json.loads(m.group(1))
        except ValueError:
            return None
    ok = (isinstance(ref, str) and len(ref) <= 40) or (
        isinstance(ref, int) and not isinstance(ref, bool) and abs(ref) < 2**53)
    return ref if ok else None


def _client_address(scope) -> str:
    client = scope.get("client") or ("?", 0)
    return str(client[0])


def _speed_of(query: dict) -> float | None:
    """A lesson embed's starting speed (``?speed=0.05``) if valid, else None (1×)."""
    text = (query.get("speed") or [""])[0][:16]
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and SPEEDS_MIN <= value <= SPEEDS_MAX else None


class LabConsumer(AsyncWebsocketConsumer):
    """Streams one lab's frames to a browser and forwards its validated commands."""

    lab_id: str | None = None

    async def connect(self) -> None:
        self.lab_id = None
        self._share: tuple[str, str] | None = None
        self._pending: dict[int, tuple] = {}  # tag -> (ref, type, timer)
        self._tag = 0
        await self.accept()
        slot = self.scope["url_route"]["kwargs"]["slot"]
        session = self.scope.get("session")
        if session is None or not await session_exists(session):
            await self._error("unauthorised", "This lab belongs to a browser session: "
                                              "reload the lab page to get one.")
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        address = _client_address(self.scope)
        try:
            quotas.open_socket(session.session_key, address)
        except QuotaError as exc:
            await self._error("capacity", str(exc))
            await self.close(code=CLOSE_CAPACITY)
            return
        self._share = (session.session_key, address)
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        embed = slot.startswith("embed-")
        preset = slot[len("embed-"):] if embed else (query.get("preset") or [None])[0]
        lab_id = lab_id_for(session.session_key, slot)
        # ``?replay=1``: the lab page put a graded run's scenario in the session (resolved
        # and checked server-side, never taken from the URL); it is used once.
        replay = await _take_replay(session) if slot == "main" and "replay" in query else None
        try:
            if replay is not None:
                await registry.replace_with(lab_id, await asyncio.to_thread(
                    replay_session, lab_id, replay, registry.max_rate), address=address)
            else:
                await registry.ensure(lab_id, preset=preset, address=address,
                                      speed=_speed_of(query) if embed else None)
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
        if self._share is not None:
            quotas.close_socket(*self._share)
            self._share = None
        for _, _, timer in self._pending.values():
            timer.cancel()
        self._pending.clear()
        if self.lab_id is None:
            return
        await self.channel_layer.group_discard(frames_group(self.lab_id), self.channel_name)
        await self.channel_layer.group_send(control_group(self.lab_id), {
            "type": "lab.detach", "reply_to": self.channel_name})
        self.lab_id = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.lab_id is None:
            await self._error("unauthorised", "this connection is not attached to a lab",
                              _ref_of(text_data))
            return
        try:
            cmd, refused = parse(text_data if text_data is not None else bytes_data), None
        except CommandError as exc:
            cmd, refused = None, exc
        # Every message counts against the shared budgets, a refused one too (a flood of
        # junk must cost no more than a flood of pings).
        limited = quotas.take(*self._share, cmd.type if cmd else None,
                              cmd.args if cmd else None)
        if limited is not None:
            # Every message is answered, even a dropped one (issue 8): the answer is small and
            # carries the message's ref when it has one, so a client can match it.
            await self._error("rate_limited", limited,
                              cmd.ref if cmd is not None else _ref_of(text_data))
            return
        if refused is not None:
            ref = refused.ref if refused.ref is not None else _ref_of(text_data)
            await self._error(refused.code, refused.message, ref)
            return
        if cmd.type == "ping":
            await self.channel_layer.group_send(control_group(self.lab_id), {
                "type": "lab.keepalive", "reply_to": self.channel_name})
            await self.send(text_data=json.dumps({"type": "pong", "ref": cmd.ref}))
            return
        max_pending = int(getattr(settings, "LAB_MAX_PENDING", 8))
        if len(self._pending) >= max_pending:
            await self._error("overloaded", f"{len(self._pending)} earlier commands of this "
                              f"tab are still being applied; this {cmd.type} was ignored — "
                              f"try again in a moment", cmd.ref)
            return
        self._tag += 1
        tag = self._tag
        timer = asyncio.get_running_loop().call_later(self._timeout(), self._expire, tag)
        self._pending[tag] = (cmd.ref, cmd.type, timer)
        await self.channel_layer.group_send(control_group(self.lab_id), {
            "type": "lab.command", "reply_to": self.channel_name, "tag": tag,
            "cmd": {"type": cmd.type, "args": cmd.args, "ref": cmd.ref}})

    @staticmethod
    def _timeout() -> float:
        return float(getattr(settings, "LAB_COMMAND_TIMEOUT", 10))

    def _expire(self, tag: int) -> None:
        entry = self._pending.pop(tag, None)
        if entry is None:
            return
        ref, kind, _ = entry
        asyncio.ensure_future(self._error(
            "overloaded", f"the lab did not answer this {kind} within {self._timeout():g} s "
                          f"(the server is busy); it may not have been applied — the lab's "
                          f"next frames show its state", ref))

    # ---- from the lab (channel layer) ---------------------------------------------------

    async def lab_frame(self, event: dict) -> None:
        if event.get("tag") is not None and not self._answered(event["tag"]):
            return
        await self._forward(event["text"])

    async def lab_reply(self, event: dict) -> None:
        if event.get("tag") is not None and not self._answered(event["tag"]):
            return  # already answered "overloaded" by the timeout: one answer per command
        await self._forward(event["text"])

    def _answered(self, tag) -> bool:
        entry = self._pending.pop(tag, None)
        if entry is None:
            return False
        entry[2].cancel()
        return True

    async def _forward(self, text: str) -> None:
        try:
            await self.send(text_data=text)
        except Exception:  # noqa: BLE001,S110 - the socket closed under us; disconnect() follows
            pass

    async def _error(self, code: str, message: str, ref=None) -> None:
        try:
            await self.send(text_data=json.dumps(
                {"type": "error", "code": code, "message": message, "ref": ref}))
        except Exception:  # noqa: BLE001,S110 - the socket closed under us
            pass
