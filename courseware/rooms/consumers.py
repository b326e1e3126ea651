"""A room's WebSocket consumer: thin.  Who you are, what you may send, where it goes.

``/ws/room/<code>/`` follows a room; ``?token=<presenter token>`` makes the connection the
presenter's.  The presenter's lab commands are the lab's own (``courseware.lab.commands``)
and go to the room's simulation wherever it runs; followers may only ``ping``, ``resync``,
``answer`` a poll and ``fork``.  Everything else gets an ``error`` and changes nothing.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from courseware.lab.commands import CommandError, parse
from courseware.lab.consumers import (
    CLOSE_BAD_REQUEST,
    CLOSE_UNAUTHORISED,
    TokenBucket,
    lab_id_for,
    session_exists,
)
from courseware.lab.registry import control_group, frames_group
from courseware.rooms import relay, services
from courseware.rooms.replay import Entry, rebuild
from courseware.rooms.runner import adopt_lab, ensure_room

CLOSE_NOT_FOUND = 4404
CLOSE_RATE_LIMITED = 4429
PRESENTER_TYPES = {"scene", "poll", "reveal", "prove", "close", "relay_stats"}
FOLLOWER_TYPES = {"answer", "fork"}
ATTACH_RETRY_S = (0.5, 1.0, 2.0, 4.0, 8.0)


def _client(scope) -> str:
    client = scope.get("client") or ("?", 0)
    return str(client[0])


class RoomConsumer(AsyncWebsocketConsumer):
    room = None

    async def connect(self) -> None:
        self.room = None
        self.role = "follower"
        rate = float(getattr(settings, "LAB_WS_RATE", 20))
        self.bucket = TokenBucket(rate, burst=rate * 2)
        self._fork_waiters: dict = {}
        self._tasks: set = set()
        await self.accept()
        if not services.allow_join(_client(self.scope)):
            await self._error("rate_limited", "too many join attempts from this address; "
                                              "wait a minute and try again")
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        session = self.scope.get("session")
        if session is None or not await session_exists(session):
            await self._error("unauthorised", "Rooms are followed from a browser session: "
                                              "reload the room page to get one.")
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        try:
            room = await database_sync_to_async(services.find_open_room)(
                self.scope["url_route"]["kwargs"]["code"])
        except services.RoomError as exc:
            await self._error(exc.code, exc.message)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if services.is_presenter(room, (query.get("token") or [None])[0]):
            self.role = "presenter"
        try:
            runner = await ensure_room(room)
        except Exception as exc:  # noqa: BLE001 - a room that cannot start says why
            await self._error("internal", f"the room could not start: {type(exc).__name__}")
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        self.room = room
        self.lab_id = room.lab_id
        self._relayed = relay.relay_needed()
        if self._relayed:
            await relay.join(self.lab_id, self)
        else:
            await self.channel_layer.group_add(frames_group(self.lab_id), self.channel_name)
        self._synced = False
        if runner is not None and not runner.stopped:  # the room runs in this process
            full, meta = await runner.attach_local(self.channel_name, self.role)
            await self.lab_frame({"text": full})
            await self.lab_frame({"text": meta})
        else:
            await self._to_room({"type": "lab.attach", "role": self.role})
            # until its full frame comes: an attach can be lost (sent while the owner was
            # still building the room, or dropped by a channel layer past its capacity)
            self._spawn(self._attach_until_synced())
        if self.role == "presenter":
            await self._publish_meta()

    async def disconnect(self, code: int) -> None:
        for task in list(getattr(self, "_tasks", ())):
            task.cancel()
        if self.room is None:
            return
        if self._relayed:
            await relay.leave(self.lab_id, self)
        else:
            await self.channel_layer.group_discard(frames_group(self.lab_id), self.channel_name)
        await self._to_room({"type": "lab.detach"})
        self.room = None

    async def _to_room(self, message: dict) -> None:
        message["reply_to"] = self.channel_name
        await self.channel_layer.group_send(control_group(self.lab_id), message)

    # ---- from the browser ----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.room is None:
            await self._error("unauthorised", "this connection is not attached to a room")
            return
        if not self.bucket.take():
            await self._error("rate_limited", f"too many messages: at most "
                              f"{self.bucket.rate:g} per second; this one was ignored")
            return
        kind, data = _peek(text_data)
        if kind in PRESENTER_TYPES or kind in FOLLOWER_TYPES:
            await self._room_message(kind, data)
            return
        try:
            cmd = parse(text_data if text_data is not None else bytes_data)
        except CommandError as exc:
            await self._error(exc.code, exc.message, exc.ref)
            return
        if cmd.type == "ping":
            await self._to_room({"type": "lab.keepalive"})
            await self.send(text_data=json.dumps({"type": "pong", "ref": cmd.ref}))
            return
        if cmd.type != "resync" and self.role != "presenter":
            await self._error("forbidden", "only the presenter controls this room; fork it "
                                           "to get a lab of your own", cmd.ref)
            return
        await self._to_room({"type": "lab.command",
                             "cmd": {"type": cmd.type, "args": cmd.args, "ref": cmd.ref}})

    async def _room_message(self, kind: str, data: dict) -> None:
        ref = data.get("ref") if isinstance(data.get("ref"), (str, int)) else None
        if kind in PRESENTER_TYPES and self.role != "presenter":
            await self._error("forbidden", f"only the presenter may send {kind!r}", ref)
            return
        pk = self.room.pk
        try:
            if kind == "scene":
                scene, cmds = await database_sync_to_async(services.set_scene)(
                    pk, data.get("index"))
                for i, c in enumerate(cmds):
                    await self._to_room({"type": "lab.command",
                                         "cmd": {**c, "ref": f"{ref}.{i}" if ref else None}})
                await self._publish_meta()
                result = {"scene": scene}
            elif kind == "poll":
                result = {"poll": await database_sync_to_async(services.open_poll)(
                    pk, data.get("question"))}
                await self._publish_meta()
            elif kind == "reveal":
                result = {"poll": await database_sync_to_async(services.reveal_poll)(pk)}
                await self._publish_meta()
            elif kind == "prove":
                for c in await database_sync_to_async(services.proving_scene)(pk):
                    await self._to_room({"type": "lab.command", "cmd": {**c, "ref": None}})
                result = {}
            elif kind == "close":
                await database_sync_to_async(services.close_room)(pk)
                await self._to_room({"type": "room.update", "meta": {"closed": True}})
                result = {"closed": True}
            elif kind == "relay_stats":
                result = {"relay": relay.stats(self.lab_id)}
            elif kind == "answer":
                poll = await database_sync_to_async(services.answer_poll)(
                    pk, self.scope["session"].session_key, data.get("choice"))
                await self._to_room({"type": "room.update", "meta": {"poll": poll}})
                result = {"counted": True}
            else:  # fork: its own task, so this consumer can receive the room's answer
                self._spawn(self._fork(ref))
                return
        except services.RoomError as exc:
            await self._error(exc.code, exc.message, ref)
            return
        await self.send(text_data=json.dumps({"type": "ack", "ref": ref, "cmd": kind,
                                              "result": result}, default=str))

    async def _publish_meta(self) -> None:
        meta = await database_sync_to_async(_meta)(self.room.pk)
        await self._to_room({"type": "room.update", "meta": meta})

    # ---- fork ---------------------------------------------------------------------------

    async def _fork(self, ref) -> None:
        """Ask the room for its log and instant; replay them into this follower's own lab."""
        future = asyncio.get_running_loop().create_future()
        self._fork_waiters[str(ref)] = future
        await self._to_room({"type": "room.forkpoint", "ref": str(ref)})
        try:
            point = await asyncio.wait_for(future, 10)
        except TimeoutError:
            await self._error("internal", "the room did not answer the fork; try again", ref)
            return
        finally:
            self._fork_waiters.pop(str(ref), None)
        lab_id = lab_id_for(self.scope["session"].session_key, "main")
        entries = [Entry(**e) for e in point["entries"]]
        session = await asyncio.to_thread(rebuild, lab_id, self.room.preset, self.room.seed,
                                          entries, (point["t_ms"], point["steps"]))
        try:
            await adopt_lab(lab_id, session)
        except RuntimeError as exc:
            await self._error("elsewhere", f"{exc}: close your lab tab and fork again", ref)
            return
        await self.send(text_data=json.dumps({
            "type": "forked", "ref": ref, "lab_url": "/lab/", "t_ms": point["t_ms"],
            "steps": point["steps"]}))

    async def room_forkpoint(self, event: dict) -> None:
        future = self._fork_waiters.get(str(event.get("ref")))
        if future is not None and not future.done():
            future.set_result(event)

    # ---- from the room (channel layer) ---------------------------------------------------

    async def _attach_until_synced(self) -> None:
        """Attach again until the room's full frame came: an attach sent while the owning
        process was still building the room reached nobody (its runner had not joined the
        control group yet), and a channel layer past its capacity drops messages (the
        attach, or the full frame answering it) without a word."""
        for delay in ATTACH_RETRY_S:
            await asyncio.sleep(delay)
            if self._synced or self.room is None:
                return
            await self._to_room({"type": "lab.attach", "role": self.role})

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def lab_frame(self, event: dict) -> None:
        text = event["text"]
        if text.startswith('{"type":"frame"'):
            self._synced = True
        if self._relayed and text.startswith('{"type":"frame"'):
            # a full frame (attach, resync): in seq order with the relay's deltas
            await relay.deliver_full(self.lab_id, self, text)
            return
        await self._forward(text)

    async def lab_reply(self, event: dict) -> None:
        await self._forward(event["text"])

    async def _forward(self, text: str) -> None:
        try:
            await self.send(text_data=text)
        except Exception:  # noqa: BLE001,S110 - the socket closed under us; disconnect() follows
            pass

    async def _error(self, code: str, message: str, ref=None) -> None:
        try:
            await self.send(text_data=json.dumps(
                {"type": "error", "code": code, "message": message, "ref": ref}))
        except Exception:  # noqa: BLE001,S110 - closed already
            pass


def _peek(text: str | None) -> tuple[str | None, dict]:
    """The type of a room message (parsed here); lab commands go to the lab's parser."""
    if not isinstance(text, str) or len(text) > 4096:
        return None, {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, {}
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return None, {}
    return data["type"], data


def _meta(room_pk: int) -> dict:
    from courseware.rooms.models import Room

    room = Room.objects.get(pk=room_pk)
    return {"code": room.code, "title": room.title, "scene": services.public_scene(room),
            "poll": services.public_poll(room), "closed": room.closed_at is not None}
