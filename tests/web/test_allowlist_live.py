"""Issue 8: no configuration value arriving over HTTP or a WebSocket names a callable outside
the plugin allow-list — against a real daphne, over real sockets.

The server runs with a canary module on its ``PYTHONPATH`` whose import writes a file: every
dotted name tried here includes it, so "nothing imported" is checked in the server process
itself, not only in ours.  ``shutil.rmtree``, ``os.system``, ``subprocess.Popen`` and
``builtins.exec`` are refused with an error naming the allowed choices, and the issue's attack
(``value.serializer=shutil.rmtree`` then a workload whose topic is a directory) deletes nothing.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from bench.live_bench import WSClient
from tests.conftest import ROOT, in_thread, start_daphne, stop_process

DANGEROUS = ["shutil.rmtree", "os.system", "subprocess.Popen", "builtins.exec",
             "plcanary.boom"]
KEYS = ["value.serializer", "key.serializer", "partitioner.class", "interceptor.classes"]
ALLOWED_HINT = {"value.serializer": "org.apache.kafka.common.serialization.StringSerializer",
                "key.serializer": "org.apache.kafka.common.serialization.StringSerializer",
                "partitioner.class": "org.apache.kafka.clients.producer.RoundRobinPartitioner",
                "interceptor.classes": "CountingInterceptor"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("allowlist")
    plugins = tmp / "plugins"
    plugins.mkdir()
    marker = tmp / "canary-imported"
    (plugins / "plcanary.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(marker)!r}).write_text('imported')\n"
        "def boom(*a, **k):\n"
        f"    Path({str(marker)!r}).write_text('called')\n")
    victim = ROOT / "allowlist-victim-dir"
    victim.mkdir(exist_ok=True)
    (victim / "keep.txt").write_text("must survive")
    proc, url = start_daphne(tmp, extra_env={"PYTHONPATH": f"{plugins}:{ROOT}"}, worker=False)
    try:
        yield url, marker, victim
    finally:
        stop_process(proc)
        if victim.exists():
            for f in victim.iterdir():
                f.unlink()
            victim.rmdir()


class Browser:
    """One learner: a cookie jar, CSRF token from a GET, form posts."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def post(self, path: str, data: dict) -> tuple[int, str]:
        if not any(c.name == "csrftoken" for c in self.jar):
            self.get(path)
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.cookie("csrftoken")})
        req = urllib.request.Request(self.base + path, data=body.encode(), headers={
            "Referer": self.base + path, "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


def _unescape(html: str) -> str:
    return (html.replace("&#x27;", "'").replace("&quot;", '"').replace("&lt;", "<")
            .replace("&gt;", ">").replace("&amp;", "&"))


def _assert_refused(text: str, key: str, name: str) -> None:
    text = _unescape(text)
    assert name in text
    assert "not one of the allowed" in text, text[:2000]
    assert ALLOWED_HINT[key] in text


@pytest.mark.parametrize("name", DANGEROUS)
def test_http_forms_refuse_names_outside_the_allow_list(server, name):
    url, marker, _ = server
    b = Browser(url)
    _, debug_list = b.get("/debug/")
    slug = re.search(r'href="/debug/([\w-]+)/"', debug_list).group(1)
    _, page = b.get(f"/debug/{slug}/")
    cause = re.search(r'name="causes" value="([^"]+)"', page).group(1)
    for key in KEYS:
        fix = f"{key}={name}"
        status, body = b.post("/incident/", {"fix": fix})
        assert status == 422
        _assert_refused(body, key, name)
        status, body = b.post(f"/debug/{slug}/", {"causes": cause, "fix": fix})
        assert status == 422
        _assert_refused(body, key, name)
        status, body = b.get("/export/?" + urllib.parse.urlencode({key: name}))
        assert status == 400
        _assert_refused(body, key, name)
        status, body = b.get("/export/?" + urllib.parse.urlencode({"text": fix}))
        assert status == 400
        status, body = b.post("/lab/validate/", {key: name})
        assert status == 200 and "field-error" in body
        _assert_refused(body, key, name)
    assert not marker.exists(), "the server imported a module named by a visitor"


async def _ws_session(url: str, messages: list[dict]) -> list[dict]:
    b = Browser(url)
    b.get("/lab/")
    cookie = f"sessionid={b.cookie('sessionid')}"
    host, port = urllib.parse.urlparse(url).hostname, urllib.parse.urlparse(url).port
    ws = await WSClient.connect(host, port, "/ws/lab/main/", cookie)
    replies = []
    try:
        for i, msg in enumerate(messages, 1):
            await ws.send({**msg, "ref": i})
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if m.get("ref") == i and m.get("type") in ("ack", "error"):
                    replies.append(m)
                    break
    finally:
        ws.close()
    return replies


def test_websocket_config_refuses_them_and_the_attack_deletes_nothing(server):
    url, marker, victim = server
    msgs = [{"type": "config", "set": {key: name}} for key in KEYS for name in DANGEROUS]
    # The two messages: a serializer naming rmtree, then a workload whose topic is
    # a directory of the server's working tree.
    msgs += [{"type": "config", "set": {"value.serializer": "shutil.rmtree"}},
             {"type": "workload", "topic": victim.name, "rate": 10}]
    replies = in_thread(asyncio.run, _ws_session(url, msgs))
    for msg, reply in zip(msgs, replies):
        if msg["type"] != "config":
            continue
        ((key, name),) = msg["set"].items()
        assert reply["type"] == "error", (msg, reply)
        _assert_refused(reply["message"], key, name)
    time.sleep(1.0)  # let the lab run its workload a while
    assert (victim / "keep.txt").read_text() == "must survive"
    assert not marker.exists(), "the server imported a module named by a visitor"


def test_an_allowed_kafka_name_is_accepted_over_the_websocket(server):
    url, _, _ = server
    (reply,) = in_thread(asyncio.run, _ws_session(url, [{"type": "config", "set": {
        "value.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer",
        "linger.msec": "50"}}]))
    assert reply["type"] == "ack", reply
    # an unknown key is accepted as Kafka accepts it, with the warning in the reply
    assert reply["result"]["warnings"] == [
        "Kafka would ignore `linger.msec` — did you mean `linger.ms`?"]
