"""Room fan-out: followers of one room over real WebSockets, on one daphne or two over Redis.

The load clients are separate processes (``multiprocessing`` "spawn", each with its own
asyncio loop and sockets); the servers are real daphne processes started as ``make run``
does.  Each follower is a plain WebSocket client (an ``asyncio.Protocol`` that parses
frames from its buffer: the cheapest client we could write, so that on a small machine the
load generator steals as little CPU from the server as possible).  For each follower count
the presenter sends config changes (``linger.ms`` = a unique marker value, 4 per second)
and every follower notes when the frame carrying that value arrives.

The bar (issue 10): every follower — we take the 5th percentile — receives ≥ 20 frames/s,
and the time from the presenter's command to a follower's frame showing it is ≤ 150 ms at
p99, with no command's frame missing.  Printed per run: frames/s (p5, median), latency
p50/p99, frame size, and the CPU the daphne process(es) and the load clients used
(fractions of one core) — with 2 cores the clients compete with the server.

    python -m bench.room_bench                          # search 1 and 2 processes
    python -m bench.room_bench --processes 1 --search 50:600
    python -m bench.room_bench --processes 1 --steps 100,300   # fixed counts

``--search LO:HI`` is a binary search for the largest follower count that holds the bar
(to ``--resolution``, default 25).  On a shared machine the numbers are noisy: re-measure on
a quiet one with the same command.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

from bench.live_bench import WSClient, new_session_cookie

FPS_BAR, P99_BAR_MS = 20.0, 150.0
MARKER = b'"linger.ms":'
MARKER_VALUE = re.compile(rb'(?:\{"=":)?(\d+)')
MARKER_BASE = 100_000


class Follower(asyncio.Protocol):
    """One follower's socket: handshake, then frames parsed straight from the buffer."""

    def __init__(self, host: str, port: int, path: str, cookie: str, loop) -> None:
        self.request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: "
                        f"{base64.b64encode(os.urandom(16)).decode()}\r\n"
                        f"Sec-WebSocket-Version: 13\r\nOrigin: http://{host}:{port}\r\n"
                        f"Cookie: {cookie}\r\n\r\n").encode()
        self.open = loop.create_future()
        self.buf = bytearray()
        self.upgraded = False
        self.counting = False
        self.frames = 0
        self.frame_bytes = 0
        self.seen: dict[int, float] = {}
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc) -> None:
        if not self.open.done():
            self.open.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in bytes(buf[:end].split(b"\r\n", 1)[0]):
                self.open.set_exception(RuntimeError(f"handshake refused: {bytes(buf[:80])!r}"))
                return
            del buf[:end + 4]
            self.upgraded = True
            self.open.set_result(True)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b1, n = buf[pos], buf[pos + 1] & 0x7F
            head = 2
            if n == 126:
                if size - pos < 4:
                    break
                n, head = struct.unpack_from("!H", buf, pos + 2)[0], 4
            elif n == 127:
                if size - pos < 10:
                    break
                n, head = struct.unpack_from("!Q", buf, pos + 2)[0], 10
            if size - pos < head + n:
                break
            start = pos + head
            pos = start + n
            opcode = b1 & 0x0F
            if opcode == 0x1:
                self._message(buf, start, pos)
            elif opcode == 0x9:  # ping -> pong (masked, as a client must)
                payload = bytes(buf[start:pos])
                mask = os.urandom(4)
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + bytes(
                    b ^ mask[i % 4] for i, b in enumerate(payload)))
        if pos:
            del buf[:pos]

    def _message(self, buf: bytearray, start: int, end: int) -> None:
        now = time.time()
        at = buf.find(MARKER, start, end)
        while at >= 0:
            # a full frame says "linger.ms":100001, a delta "linger.ms":{"=":100001}
            m = MARKER_VALUE.match(buf, at + len(MARKER), min(end, at + 40))
            if m and int(m.group(1)) >= MARKER_BASE:
                self.seen.setdefault(int(m.group(1)), now)
            at = buf.find(MARKER, at + 1, end)
        if self.counting and buf.startswith((b'{"type":"delta"', b'{"type":"frame"'), start):
            self.frames += 1
            self.frame_bytes += end - start


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _worker(ports: list[int], path: str, cookie: str, n: int, seconds: float,
            out: mp.Queue, ready: mp.Event, go: mp.Event) -> None:
    asyncio.run(_follow(ports, path, cookie, n, seconds, out, ready, go))


async def _follow(ports, path, cookie, n, seconds, out, ready, go) -> None:
    loop = asyncio.get_running_loop()
    followers = []
    for i in range(n):
        port = ports[i % len(ports)]
        f = Follower("127.0.0.1", port, path, cookie, loop)
        await loop.create_connection(lambda f=f: f, "127.0.0.1", port)
        await f.open
        followers.append(f)
    ready.set()
    while not go.is_set():
        await asyncio.sleep(0.01)
    cpu0, t0 = _cpu_s(), time.perf_counter()
    for f in followers:
        f.counting = True
    await asyncio.sleep(seconds)
    for f in followers:
        f.counting = False
    cpu = (_cpu_s() - cpu0) / (time.perf_counter() - t0)
    await asyncio.sleep(1.0)  # the last markers' frames
    out.put({"frames": [f.frames for f in followers],
             "bytes": sum(f.frame_bytes for f in followers),
             "seen": [f.seen for f in followers], "cpu": cpu})
    for f in followers:
        f.transport.close()


async def _presenter(port: int, path: str, cookie: str, seconds: float, base: int) -> dict:
    ws = await WSClient.connect("127.0.0.1", port, path, cookie)
    sent: dict[int, float] = {}
    acks: dict[int, float] = {}
    reader = asyncio.get_running_loop().create_task(_drain(ws, acks))
    await asyncio.sleep(0.5)
    k, deadline = 0, time.time() + seconds - 0.5
    while time.time() < deadline:
        value = base + k
        sent[value] = time.time()
        await ws.send({"type": "config", "set": {"linger.ms": value}, "ref": k})
        k += 1
        await asyncio.sleep(0.25)
    await asyncio.sleep(1.0)  # the last acks
    reader.cancel()
    ws.close()
    ack_ms = sorted((acks[k] - sent[base + k]) * 1000 for k in acks if base + k in sent)
    return sent, ack_ms


async def _drain(ws: WSClient, acks: dict[int, float]) -> None:
    while True:
        text = await ws.recv()
        if text.startswith('{"type": "ack"'):
            ref = json.loads(text).get("ref")
            if isinstance(ref, int):
                acks.setdefault(ref, time.time())


def _proc_cpu_s(pid: int) -> float:
    """utime + stime of a process (Linux /proc), seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(ports: list[int], pids: list[int], code: str, token: str, cookie: str, n: int,
            seconds: float, base: int, client_procs: int) -> dict:
    ctx = mp.get_context("spawn")
    out, go = ctx.Queue(), ctx.Event()
    procs, readies = [], []
    for w in range(client_procs):
        share = n // client_procs + (1 if w < n % client_procs else 0)
        ready = ctx.Event()
        readies.append(ready)
        procs.append(ctx.Process(target=_worker, args=(ports, f"/ws/room/{code}/", cookie,
                                                       share, seconds, out, ready, go)))
    for p in procs:
        p.start()
    for r in readies:
        if not r.wait(180):
            raise RuntimeError("load clients did not connect in 180 s")
    time.sleep(1.0)  # everyone has its first frame
    server0 = [_proc_cpu_s(pid) for pid in pids]
    t0 = time.perf_counter()
    go.set()
    sent, ack_ms = asyncio.run(_presenter(ports[0], f"/ws/room/{code}/?token={token}",
                                          cookie, seconds, base))
    results = [out.get(timeout=120) for _ in procs]
    server_cpu = [(_proc_cpu_s(pid) - c0) / (time.perf_counter() - t0 - 1.0)
                  for pid, c0 in zip(pids, server0)]
    for p in procs:
        p.join(30)
    fps = sorted(c / seconds for r in results for c in r["frames"])
    frames = sum(sum(r["frames"]) for r in results)
    lat = sorted((s[v] - t) * 1000 for r in results for s in r["seen"]
                 for v, t in sent.items() if v in s)
    missing = len(sent) * n - len(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("inf")
    fps_p5 = fps[len(fps) // 20]
    return {"followers": n, "fps_p5": fps_p5, "fps_median": fps[len(fps) // 2],
            "p50_ms": lat[len(lat) // 2] if lat else float("inf"), "p99_ms": p99,
            "missed": missing, "commands": len(sent),
            "ack_p50_ms": ack_ms[len(ack_ms) // 2] if ack_ms else float("inf"),
            "frame_bytes_avg": round(sum(r["bytes"] for r in results) / max(1, frames)),
            "server_cpu": [round(c, 2) for c in server_cpu],
            # machine-load independent: CPU time, all of the server's work included
            "server_us_per_follower_frame": round(sum(server_cpu) * 1e6 / max(
                1.0, n * fps[len(fps) // 2]), 1),
            "client_cpu": round(sum(r["cpu"] for r in results), 2),
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "holds": fps_p5 >= FPS_BAR and p99 <= P99_BAR_MS and missing == 0}


class Servers:
    """daphne process(es) (+ redis-server for more than one) on a fresh database."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.dir = tempfile.TemporaryDirectory()
        self.tmp = Path(self.dir.name)
        self.procs: list = []
        self.ports: list[int] = []
        self.pids: list[int] = []
        # every load client comes from 127.0.0.1: lift the per-address join limit
        self.extra = {"LAB_WS_RATE": "1000", "ROOM_JOIN_RATE": "10000",
                      "ROOM_JOIN_BURST": "10000"}

    def __enter__(self) -> Self:
        from tests.conftest import free_port, start_daphne

        if self.processes > 1:
            port = free_port()
            self.procs.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(0.3)
            self.extra["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        for i in range(self.processes):
            proc, url = start_daphne(self.tmp, extra_env=self.extra, migrate=i == 0)
            self.procs.append(proc)
            self.pids.append(proc.pid)
            self.ports.append(int(url.rsplit(":", 1)[1]))
        self.cookie = new_session_cookie(f"http://127.0.0.1:{self.ports[0]}")
        self.runs = 0
        return self

    def __exit__(self, *exc) -> None:
        from tests.conftest import stop_process

        for p in reversed(self.procs):
            stop_process(p)
        self.dir.cleanup()

    def probe(self, n: int, seconds: float, client_procs: int) -> dict:
        from tests.rooms.helpers import open_room

        room = open_room(self.tmp, extra_env=self.extra)  # a fresh room per probe
        token = room["presenter_url"].split("token=")[1]
        self.runs += 1
        row = measure(self.ports, self.pids, room["code"], token, self.cookie, n, seconds,
                      MARKER_BASE + 1000 * self.runs, client_procs)
        row["processes"] = self.processes
        print(json.dumps({k: round(v, 1) if isinstance(v, float) else v
                          for k, v in row.items()}), flush=True)
        return row


def search(servers: Servers, lo: int, hi: int, resolution: int, seconds: float,
           client_procs: int) -> int | None:
    """The largest follower count in [lo, hi] that holds the bar (binary search, assuming
    that holding is monotonic in the count); None if even ``lo`` does not."""
    if not servers.probe(lo, seconds, client_procs)["holds"]:
        return None
    if servers.probe(hi, seconds, client_procs)["holds"]:
        return hi
    good, bad = lo, hi
    while bad - good > resolution:
        mid = (good + bad) // 2
        if servers.probe(mid, seconds, client_procs)["holds"]:
            good = mid
        else:
            bad = mid
    return good


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 and 100 followers, 3 s each")
    parser.add_argument("--steps", help="fixed follower counts, e.g. 100,200,300")
    parser.add_argument("--search", default="50:600",
                        help="LO:HI — binary search for the largest count holding the bar")
    parser.add_argument("--resolution", type=int, default=25)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--clients", type=int, default=2, help="load client processes")
    parser.add_argument("--processes", default="1,2", help="daphne process counts to run")
    args = parser.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 6.0)
    steps = [int(s) for s in args.steps.split(",")] if args.steps else \
        ([50, 100] if args.quick else None)
    print(f"bar: every follower (p5 over followers) >= {FPS_BAR:g} frames/s and "
          f"presenter command -> follower frame p99 <= {P99_BAR_MS:g} ms, none missed; "
          f"{seconds:g} s per probe, {args.clients} load client processes, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    for processes in [int(p) for p in args.processes.split(",")]:
        if processes > 1 and shutil.which("redis-server") is None:
            print("redis-server not installed: skipping the two-process run")
            continue
        with Servers(processes) as servers:
            if steps:
                rows = [servers.probe(n, seconds, args.clients) for n in steps]
                good = [r["followers"] for r in rows if r["holds"]]
                best = max(good) if good else None
                how = f"of {steps}"
            else:
                lo, hi = (int(x) for x in args.search.split(":"))
                best = search(servers, lo, hi, args.resolution, seconds, args.clients)
                how = f"searched {lo}..{hi} to ±{args.resolution}"
        print(f"RESULT {processes} daphne process(es): largest follower count holding the "
              f"bar ({how}): {best if best is not None else 'none'} "
              f"(load average now {os.getloadavg()[0]:.2f}; on a shared machine re-measure "
              f"quietly with: python -m bench.room_bench --processes {processes} "
              f"--search {args.search})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
