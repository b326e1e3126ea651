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


NOT_DAPHNE = object()  # a consumer served some other way: the ASGI path for good


def daphne_protocol(consumer):
    """The daphne (autobahn) WebSocket protocol behind a consumer, in whatever state it is;
    ``NOT_DAPHNE`` when the consumer is not served by daphne.

    Daphne hands each application ``send=partial(server.handle_reply, protocol)``;
    Channels' session middleware wraps it (``InstanceSessionWrapper.real_send``).  Anything
    else (another server, the test communicator) is ``NOT_DAPHNE``, and the relay uses the
    consumer's own ``send``.  The protocol is found even before its handshake completed
    (autobahn sets ``websocket_extensions_in_use`` only then); ``Relay._write`` looks at
    its ``state`` on every write.
    """
    send = getattr(consumer, "base_send", None)
    for _ in range(8):
        if isinstance(send, functools.partial):
            protocol = send.args[0] if send.args else None
            ok = all(hasattr(protocol, name) for name in
                     ("sendPreparedMessage", "factory", "state", "STATE_OPEN",
                      "STATE_CLOSING", "STATE_CLOSED"))
            return protocol if ok else NOT_DAPHNE
        send = getattr(getattr(send, "__self__", None), "real_send", None)
        if send is None:
            return NOT_DAPHNE
    return NOT_DAPHNE


def websocket_protocol(consumer):
    """The daphne protocol behind a consumer once its handshake completed, else None."""
    protocol = daphne_protocol(consumer)
    if protocol is NOT_DAPHNE or protocol.state != protocol.STATE_OPEN:
        return None
    return protocol


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
    waits for its full frame).

    Its daphne protocol is looked up at its first write, not when it joins, and again at
    every write until found (``fast`` False: not served by daphne, or a direct write
    failed — the ASGI path for good)."""

    __slots__ = ("fast", "protocol", "synced")

    def __init__(self) -> None:
        self.protocol = None
        self.fast = True
        self.synced: int | None = None


class Relay:
    """The room's frames for this process's followers, in ``seq`` order for each of them.

    A follower's full frame (on attach and on ``resync``) comes from the room's runner on
    the follower's own channel, the deltas through this relay, so the two could overtake
    each other: a delta written before the full frame it follows is a gap the browser must
    resync from, again and again under load.  So the relay writes nothing to a follower
    until its full frame came (``deliver_full``), and then the deltas after it that it
    keeps (the last ``RECENT_FRAMES``).

    ``counts`` says how each write went: ``fast`` (the prepared bytes to the connection),
    ``asgi`` (the consumer's ``send``: not daphne, or a socket whose handshake is not
    written yet) and ``skipped`` (a closing or closed socket; its ``disconnect`` removes it).
    The presenter reads them with ``relay_stats`` (docs/PROTOCOL.md, "Rooms").
    """

    def __init__(self, lab_id: str) -> None:
        self.lab_id = lab_id
        self.layer = get_channel_layer()
        self.members: dict = {}  # consumer -> Member
        self.recent: deque = deque(maxlen=RECENT_FRAMES)  # [seq, text, prepared]
        self.channel: str | None = None
        self.task: asyncio.Task | None = None
        self.counts = {"fast": 0, "asgi": 0, "skipped": 0}

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
        if protocol is None and member.fast:
            protocol = daphne_protocol(consumer)
            if protocol is NOT_DAPHNE:
                member.fast, protocol = False, None
            else:
                member.protocol = protocol
        if protocol is not None:
            state = protocol.state
            if state == protocol.STATE_OPEN:
                if entry[2] is None:
                    entry[2] = protocol.factory.prepareMessage(entry[1].encode())
                try:
                    if protocol.send_queue or protocol.websocket_extensions_in_use:
                        protocol.sendPreparedMessage(entry[2])  # queued data or compression
                    else:
                        # the framed bytes straight to the transport: what
                        # sendPreparedMessage does, less its debug-log arguments, formatted
                        # on every call (~10 µs)
                        protocol.transport.write(entry[2].payloadHybi)
                    self.counts["fast"] += 1
                    return
                except Exception:  # fall back to the ASGI path for good
                    log.debug("relay %s: direct write failed", self.lab_id, exc_info=True)
                    member.protocol, member.fast = None, False
            elif state in (protocol.STATE_CLOSING, protocol.STATE_CLOSED):
                self.counts["skipped"] += 1
                return  # closing: its consumer's disconnect() removes it
            # else still connecting: never dropped here — the consumer's own send goes
            # through the server, which owns the handshake (daphne completes it as it
            # handles the consumer's accept, so a room socket, accepted before it joins,
            # is open by its first write; the counts say so)
        self.counts["asgi"] += 1
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
    relay.members[consumer] = Member()  # its protocol is resolved at its first write


def stats(lab_id: str) -> dict:
    """How this process's relay of a room wrote its frames (``Relay.counts``) and to how
    many local sockets; zeros when no socket of the room is here."""
    relay = local(lab_id)
    if relay is None:
        return {"members": 0, "fast": 0, "asgi": 0, "skipped": 0}
    return {"members": len(relay.members), **relay.counts}


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
