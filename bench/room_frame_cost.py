"""Run: .venv/bin/python bench/room_frame_cost.py [preset]

In-process: 300 followers attach to a room (RoomRunner.handle(lab.attach) each, as the
channel layer delivers them), then 200 frames; CPU of the attach storm and of the frames,
writes the process's relay made (prepared bytes to 300 real-autobahn follower sockets)."""
import asyncio
import functools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseware.settings")
import django

django.setup()

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol

from courseware.lab import pacing
from courseware.lab.session import LabSession
from courseware.rooms import relay
from courseware.rooms import runner as R


class Transport:
    def __init__(self): self.bytes = 0
    def write(self, data): self.bytes += len(data)

def follower(factory):
    p = WebSocketServerProtocol(); p.factory = factory; p.state = p.STATE_OPEN
    p.send_queue = []; p.websocket_extensions_in_use = []; p.transport = Transport()
    async def handle_reply(protocol, message): raise AssertionError("ASGI path")
    c = type("Consumer", (), {})(); c.base_send = functools.partial(handle_reply, p)
    return c

async def main(n, frames):
    preset = sys.argv[1] if len(sys.argv) > 1 else "kafka-defaults"
    s = LabSession("room-BENCH.room", preset=preset)
    clock = [pacing.wall_ms()]
    for _ in range(40):
        clock[0] += 50; s.advance(1000, now=clock[0]); s.delta_frame()
    room = R.RoomRunner(s, 0, [])
    room._checkpoint_ms = float("inf")  # no database here
    factory = WebSocketServerFactory()
    consumers = [follower(factory) for _ in range(n)]
    for c in consumers:
        await relay.join(s.lab_id, c)
    here = relay.local(s.lab_id)
    for c in consumers:
        here.members[c].synced = s.seq
    names = [await room.layer.new_channel() for _ in range(n)]
    c0 = time.thread_time()
    for name in names:
        await room.handle({"type": "lab.attach", "reply_to": name, "role": "follower"})
    await asyncio.sleep(0.3)  # the relay's task writes what the group got
    attach_cpu = time.thread_time() - c0
    writes_attach = dict(here.counts)
    import cProfile
    import pstats
    prof = cProfile.Profile() if os.environ.get("PROF") else None
    if prof: prof.enable()
    frame_cpu = 0.0
    for _ in range(frames):
        clock[0] += 50; s.advance(1000, now=clock[0])
        c0 = time.thread_time()
        text = s.delta_frame()
        if text: await room.publish({"type": "lab.frame", "text": text})
        frame_cpu += time.thread_time() - c0
    if prof:
        prof.disable(); pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    print(f"{preset}: {n} attaches: {1000*attach_cpu:.0f} ms CPU ({1000*attach_cpu/n:.2f} ms each), "
          f"relay writes {writes_attach['fast']}; then {frames} frames: "
          f"{1000*frame_cpu/frames:.3f} ms CPU per frame (build + publish to {n})")
    await relay.leave(s.lab_id, consumers[0])

asyncio.run(main(300, 200))
