"""Everything is reachable from / by following links, and no link is broken."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "iframe" and a.get("src"):
            self.links.append(a["src"])


SKIP_PREFIXES = ("/static/", "/admin/")


def crawl(client, start: str = "/", limit: int = 400) -> dict[str, int]:
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        r = client.get(url)
        seen[url] = r.status_code
        if r.status_code in (301, 302):
            queue.append(r["Location"])
            continue
        if "text/html" not in r.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(r.content.decode())
        for href in parser.links:
            absolute = urldefrag(urljoin(url, href))[0]
            parts = urlparse(absolute)
            if parts.scheme in ("http", "https") and parts.netloc not in ("", "testserver"):
                continue  # external
            if parts.scheme in ("mailto", "javascript"):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith(SKIP_PREFIXES) or path in seen:
                continue
            queue.append(path)
    return seen


def test_every_link_from_home_works(client, course):
    seen = crawl(client)
    broken = {u: s for u, s in seen.items() if s >= 400}
    assert not broken, broken
    # The whole course is reachable from the home page.
    for lesson in course:
        assert f"/lessons/{lesson.slug}/" in seen
    for must in ("/incident/", "/mistakes/blocking-send/", "/mistakes/wrong-codec/",
                 "/debug/throughput-drop/", "/interview/interview-500k/", "/quiz/",
                 "/compression/measure/", "/signup/", "/accounts/login/",
                 "/lab/embed/lesson-linger/?speed=0.05", "/lab/embed/incident-fixed/"):
        assert must in seen, must
    assert any(u.startswith("/export/?") for u in seen)
    assert any(u.startswith("/lab/?preset=mistake-") for u in seen)
