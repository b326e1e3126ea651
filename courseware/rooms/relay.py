"""One subscription per process and room: frames cross Redis once per process, not once
per follower, and are framed for WebSocket once per process, not once per follower.

With ``channels_redis`` every message to a consumer's channel is a Redis round trip, even
for a consumer in the owner's own process.  So instead of each follower joining the room's
frames group, each process joins it once with a relay channel, and the relay hands the
same pre-encoded text to every local follower's socket.  The room's runner publishes to
that group with either layer (``courseware.rooms.runner.RoomRunner.publish``).

Under daphne the relay goes one step further: it frames the text as a WebSocket message
once (autobahn's ``prepareMessage``: UTF-8 bytes plus the frame header) and writes the same
bytes to each follower's connection (``sendPreparedMessage``), skipping, per follower,
the ASGI ``send`` chain, the UTF-8 encoding and the framing.  A consumer served some other
way (Channels' test communicator) gets ``consumer.send`` as before.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque

from channels.layers import get_channel_layer

from courseware.lab.registry import frames_group

log = logging.getLogger(__name__)


def websocket_protocol(consumer):
    """The daphne (autobahn) WebSocket protocol behind a consumer, or None.

    Daphne hands each application ``send=partial(server.handle_reply, protocol)``;
    Channels' session middleware wraps it (``InstanceSessionWrapper.real_send``).  Anything
    else (another server, the test communicator) is None, and the relay uses the
    consumer's own ``send``.
    """
    send = getattr(consumer, "base_send", None)
    for _ in range(8):
        if isinstance(send, functools.partial):
            protocol = send.args[0] if send.args else None
            ok = all(hasattr(protocol, name) for name in
                     ("sendPreparedMessage", "factory", "state", "STATE_OPEN", "transport",
                      "send_queue", "websocket_extensions_in_use"))
            return protocol if ok else None
        send = getattr(getattr(send, "__self__", None), "real_send", None)
        if send is None:
            return None
    return None


def relay_needed() -> bool:
    """Always: the room's runner publishes each frame once to its group (both layers)."""
    return True


RECENT_FRAMES = 64  # deltas a relay keeps to bring a (re)synced follower up to date


def frame_seq(text: str) -> int | None:
    """The ``seq`` of an encoded frame or delta (``{"type":"delta","seq":N,...}``)."""
    for prefix in ('{"type":"delta","seq":', '{"type":"frame","seq":'):
        if text.startswith(prefix):
            end = text.find(",", len(prefix))
            digits = text[len(prefix):end]
            return int(digits) if digits.isdigit() else None
    return None


class Member:
    """A follower socket in this process, and the last ``seq`` written to it (None: it
    waits for its full frame)."""

    __slots__ = ("protocol", "synced")

    def __init__(self, protocol) -> None:
        self.protocol = protocol
        self.synced: int | None = None


class Relay:
    """The room's frames for this process's followers, in ``seq`` order for each of them.

    A follower's full frame (on attach and on ``resync``) comes from the room's runner on
    the follower's own channel, the deltas through this relay, so the two could overtake
    each other: a delta written before the full frame it follows is a gap the browser must
    resync from, again and again under load.  So the relay writes nothing to a follower
    until its full frame came (``deliver_full``), and then the deltas after it that it
    keeps (the last ``RECENT_FRAMES``).
    """

    def __init__(self, lab_id: str) -> None:
        self.lab_id = lab_id
        self.layer = get_channel_layer()
        self.members: dict = {}  # consumer -> Member
        self.recent: deque = deque(maxlen=RECENT_FRAMES)  # [seq, text, prepared]
        self.channel: str | None = None
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(frames_group(self.lab_id), self.channel)
        self.task = asyncio.get_running_loop().create_task(self._run(),
                                                           name=f"room-relay-{self.lab_id}")

    async def _run(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            text = message.get("text")
            # the owner's process fanned this frame out itself (RoomRunner.publish)
            if text and message.get("skip") != self.channel:
                await self.fan_out(text)

    async def fan_out(self, text: str) -> None:
        """The same frame to every local member: prepared once, written to each socket."""
        seq = frame_seq(text)
        entry = [seq, text, None]
        full = text.startswith('{"type":"frame"')
        if seq is not None and not full:
            self.recent.append(entry)
        for consumer, member in list(self.members.items()):
            if seq is not None:
                if member.synced is None:
                    continue  # its full frame is on the way; deliver_full catches it up
                if not full and seq <= member.synced:
                    continue  # it has this one already
                member.synced = seq  # (a full frame with a lower seq: a restarted room)
            await self._write(consumer, member, entry)

    async def deliver_full(self, consumer, text: str) -> None:
        """A follower's own full frame, then the deltas after it, in order."""
        member = self.members.get(consumer)
        if member is None:
            await _send(consumer, text)
            return
        seq = frame_seq(text)
        await self._write(consumer, member, [seq, text, None])
        if seq is None:
            return
        member.synced = seq
        for entry in list(self.recent):
            if entry[0] > member.synced:
                member.synced = entry[0]
                await self._write(consumer, member, entry)

    async def _write(self, consumer, member: Member, entry: list) -> None:
        protocol = member.protocol
        if protocol is not None:
            if protocol.state != protocol.STATE_OPEN:
                return  # closing: its consumer's disconnect() removes it
            if entry[2] is None:
                entry[2] = protocol.factory.prepareMessage(entry[1].encode())
            try:
                if protocol.send_queue or protocol.websocket_extensions_in_use:
                    protocol.sendPreparedMessage(entry[2])  # queued data or compression
                else:
                    # the framed bytes straight to the transport: what sendPreparedMessage
                    # does, less its debug-log arguments, formatted on every call (~10 µs)
                    protocol.transport.write(entry[2].payloadHybi)
                return
            except Exception:  # noqa: BLE001 - fall back to the ASGI path
                member.protocol = None
        await _send(consumer, entry[1])

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        try:
            await self.layer.group_discard(frames_group(self.lab_id), self.channel)
        except Exception:  # noqa: BLE001 - the layer may be gone at shutdown
            log.debug("relay %s: discard failed", self.lab_id)


async def _send(consumer, text: str) -> None:
    try:
        await consumer.send(text_data=text)
    except Exception:  # noqa: BLE001,S110 - that socket closed; disconnect() follows
        pass


_relays: dict[tuple[int, str], Relay] = {}


def local(lab_id: str) -> Relay | None:
    """This process's relay of a room (on the running loop), if any follower is here."""
    return _relays.get((id(asyncio.get_running_loop()), lab_id))


async def join(lab_id: str, consumer) -> None:
    key = (id(asyncio.get_running_loop()), lab_id)
    relay = _relays.get(key)
    if relay is None:
        relay = _relays[key] = Relay(lab_id)
        await relay.start()
    relay.members[consumer] = Member(websocket_protocol(consumer))


async def deliver_full(lab_id: str, consumer, text: str) -> None:
    """A full frame for one follower, through its process's relay (see ``Relay``)."""
    relay = local(lab_id)
    if relay is None:
        await _send(consumer, text)
    else:
        await relay.deliver_full(consumer, text)


async def leave(lab_id: str, consumer) -> None:
    key = (id(asyncio.get_running_loop()), lab_id)
    relay = _relays.get(key)
    if relay is None:
        return
    relay.members.pop(consumer, None)
    if not relay.members:
        _relays.pop(key, None)
        await relay.stop()
