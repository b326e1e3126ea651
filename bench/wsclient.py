"""What the load and abuse benches use to behave like browsers, with no extra dependency.

* ``WSClient`` — a minimal RFC 6455 client on asyncio streams (masking, ping → pong,
  fragmented messages, the server's close code).
* ``Browser`` — one learner's cookie jar over HTTP: GET a page for a session cookie, the
  CSRF token of its form, the WebSockets and embedded labs the page names; ``open_lab``
  opens a page's socket with that cookie and the page's Origin, as a browser does.
* ``rss_kib`` / ``cpu_seconds`` of a server process (Linux ``/proc``).

Loopback only: every bench points these at 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import html
import http.cookiejar
import json
import os
import re
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


class WSClient:
    """One WebSocket: ``send(obj)``, ``recv() -> str``; ``close_code`` once the server closed."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.close_code: int | None = None

    @classmethod
    async def connect(cls, host: str, port: int, path: str, cookie: str) -> WSClient:
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://{host}:{port}\r\nCookie: {cookie}\r\n\r\n").encode())
        await writer.drain()
        status = await reader.readline()
        if b" 101 " not in status:
            writer.close()
            raise RuntimeError(f"handshake refused: {status!r}")
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        return cls(reader, writer)

    async def send(self, obj) -> None:
        await self.send_text(obj if isinstance(obj, str) else json.dumps(obj))

    async def send_text(self, text: str) -> None:
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x81])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        self.writer.write(head + mask + _mask(data, mask))
        await self.writer.drain()

    async def recv(self) -> str:
        """The next text message (answers pings, skips other control frames); raises
        ConnectionError when the server closes (``close_code`` tells its code)."""
        parts = []
        while True:
            b1, b2 = await self.reader.readexactly(2)
            n = b2 & 0x7F
            if n == 126:
                n = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            payload = await self.reader.readexactly(n)
            opcode = b1 & 0x0F
            if opcode == 0x9:  # ping -> pong
                mask = os.urandom(4)
                self.writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask +
                                  _mask(payload, mask))
                continue
            if opcode == 0x8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 \
                    else 1005
                raise ConnectionError(f"closed by server ({self.close_code})")
            if opcode in (0x1, 0x0):
                parts.append(payload)
                if b1 & 0x80:
                    return b"".join(parts).decode()

    def close(self) -> None:
        self.writer.close()


def _mask(data: bytes, mask: bytes) -> bytes:
    # int XOR over the whole payload: the per-byte generator was the client's hot spot
    if not data:
        return b""
    reps = (mask * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(reps, "big")).to_bytes(len(data), "big")


def new_session_cookie(base: str) -> str:
    """A fresh browser session (``GET /lab/``), as its ``sessionid=...`` cookie."""
    return Browser(base).session_cookie("/lab/")


class Browser:
    """One learner's cookie jar: real sessions, real CSRF tokens, real page loads."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.port = int(base.rsplit(":", 1)[1])

    def get(self, path: str, timeout: float = 30) -> tuple[int, str, float]:
        """(status, body, seconds) of one GET."""
        t0 = time.perf_counter()
        try:
            with self.opener.open(self.base + path, timeout=timeout) as resp:
                return resp.status, resp.read().decode("utf-8", "replace"), \
                    time.perf_counter() - t0
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace"), time.perf_counter() - t0

    def post(self, path: str, data: dict, timeout: float = 30) -> tuple[int, str, str]:
        """(status, final URL, body) of a form POST with the page's CSRF token."""
        _, page, _ = self.get(path)
        m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        token = m.group(1) if m else self.cookie("csrftoken") or ""
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        req = urllib.request.Request(self.base + path, data=body,
                                     headers={"Referer": self.base + path,
                                              "X-CSRFToken": token})
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                return resp.status, resp.geturl(), resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, path, exc.read().decode("utf-8", "replace")

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def session_cookie(self, path: str = "/lab/") -> str:
        if self.cookie("sessionid") is None:
            self.get(path)
        value = self.cookie("sessionid")
        if value is None:
            raise RuntimeError(f"no session cookie from {path}")
        return f"sessionid={value}"

    @staticmethod
    def ws_path(page: str) -> str | None:
        """The socket a lab page names (``data-ws`` on ``#lab``)."""
        m = re.search(r'data-ws="([^"]+)"', page)
        return html.unescape(m.group(1)) if m else None

    @staticmethod
    def embeds(page: str) -> list[str]:
        """The embedded labs' pages (``<iframe src="/lab/embed/...">``) of a course page."""
        return [html.unescape(src) for src in re.findall(r'<iframe src="(/lab/embed/[^"]+)"', page)]

    async def open_lab(self, ws_path: str) -> WSClient:
        return await WSClient.connect("127.0.0.1", self.port, ws_path, self.session_cookie())


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]
