"""WebSocket origin check that compares scheme, host AND port (issue 8).

Channels' ``AllowedHostsOriginValidator`` compares only the host, so a page served from
another port of the same machine could drive a learner's lab.  Here the Origin must name the
same host and port the browser connected to (the ``Host`` header), with an http(s) scheme, and
the host must be in ``ALLOWED_HOSTS``.  A missing Origin (non-browser clients) is refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def origin_allowed(origin: str, host_header: str, allowed_hosts: list[str],
                   secure: bool = False) -> bool:
    """True when ``origin`` is this very site: same scheme family, host and port."""
    try:
        parts = urlsplit(origin)
        origin_port = parts.port
    except ValueError:
        return False
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return False
    if secure and parts.scheme != "https":
        return False
    o_port = str(origin_port) if origin_port is not None else _DEFAULT_PORTS[parts.scheme]
    h_host, h_port = split_domain_port(host_header)
    if not h_host:
        return False
    h_port = h_port or _DEFAULT_PORTS["https" if secure else parts.scheme]
    o_host = parts.hostname.lower()
    if o_host != h_host.strip("[]").lower() and f"[{o_host}]" != h_host.lower():
        return False
    return o_port == h_port and validate_host(h_host, allowed_hosts)


class SameOriginValidator:
    """ASGI middleware: refuse a WebSocket whose Origin is not exactly this site."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1")
        host = headers.get(b"host", b"").decode("latin-1")
        secure = scope.get("scheme") == "wss"
        hosts = settings.ALLOWED_HOSTS
        if settings.DEBUG and not hosts:
            hosts = ["localhost", "127.0.0.1", "[::1]"]
        if origin and host and origin_allowed(origin, host, hosts, secure):
            return await self.application(scope, receive, send)
        denier = WebsocketDenier()
        return await denier(scope, receive, send)
