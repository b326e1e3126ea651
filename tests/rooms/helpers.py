"""Test helpers: open a room against a live server's database, and a room client over a
real WebSocket (bench.live_bench.WSClient) that applies frames and deltas."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from bench.live_bench import WSClient, new_session_cookie
from courseware.lab.delta import apply
from tests.conftest import ROOT, _server_env


def open_room(tmp: Path, *args: str, extra_env: dict | None = None) -> dict:
    env = _server_env(tmp / "db.sqlite3")
    env.update(extra_env or {})
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), "open_room", "--json",
                           *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


class RoomClient:
    """One browser of a room: its socket, the lab state it holds, the last room message."""

    def __init__(self, ws: WSClient) -> None:
        self.ws = ws
        self.state: dict | None = None
        self.seq = -1
        self.room: dict = {}
        self.messages: list[dict] = []

    @classmethod
    async def join(cls, url: str, path: str, cookie: str | None = None) -> RoomClient:
        port = int(url.rsplit(":", 1)[1])
        cookie = cookie or new_session_cookie(url)
        client = cls(await WSClient.connect("127.0.0.1", port, path, cookie))
        client.cookie = cookie
        await client.until(lambda c, m: c.state is not None)
        return client

    async def until(self, pred, limit: int = 2000, timeout: float = 20.0) -> dict:
        # frames (relayed) and replies (direct) take different paths: a frame may come
        # before the ack of the command it shows, so the state already held counts
        if self.state is not None and pred(self, {"type": None}):
            return {"type": None}
        for _ in range(limit):
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            self.messages.append(msg)
            if msg["type"] == "frame":
                self.state, self.seq = msg["state"], msg["seq"]
            elif msg["type"] == "delta" and self.state is not None:
                if msg["seq"] == self.seq + 1:
                    self.state, self.seq = apply(self.state, msg["op"]), msg["seq"]
                elif msg["seq"] > self.seq + 1:
                    await self.ws.send({"type": "resync", "have": self.seq})
            elif msg["type"] == "room":
                self.room = msg
            if pred(self, msg):
                return msg
        raise AssertionError("condition never met")

    async def send(self, obj: dict) -> None:
        await self.ws.send(obj)

    async def reply(self, obj: dict) -> dict:
        """Send and wait for the ack or error that carries its ref."""
        await self.ws.send(obj)
        return await self.until(lambda c, m: m.get("type") in ("ack", "error")
                                and m.get("ref") == obj.get("ref"))

    def close(self) -> None:
        self.ws.close()


def broker_up(state: dict, broker: int) -> bool:
    return next(b for b in state["cluster"]["brokers"] if int(b["id"]) == broker)["up"]


def comparable(state: dict) -> dict:
    """A frame's simulation part: what a fork or a rebuilt room must reproduce exactly
    (the ``lab`` section carries wall-clock measures such as fps)."""
    out = {k: v for k, v in state.items() if k not in ("lab", "timeline")}
    lab = state["lab"]
    out["lab"] = {k: lab[k] for k in ("preset", "seed", "paused", "overrides", "speed")}
    return out
