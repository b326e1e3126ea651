"""ASGI entry point: HTTP to Django, WebSockets to the lab's consumers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseware.settings")

if os.environ.get("PRODUCER_LAB_MEMTRACE"):  # development only: courseware/memtrace.py
    from courseware import memtrace

    memtrace.install()

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter

from courseware.routing import websocket_urlpatterns
from courseware.ws_origin import SameOriginValidator

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)


def _answer_long_request_lines() -> None:
    """daphne speaks HTTP through Twisted, which drops a connection whose request line passes
    16 KiB without a word (a 60 KB query string got no answer at all, issue 8).  Allow request
    lines and headers up to 128 KiB (Django then answers), and answer anything longer with
    400 instead of silence."""
    try:
        from twisted.web import http as twisted_http
    except ImportError:  # not under daphne
        return
    channel = twisted_http.HTTPChannel
    channel.MAX_LENGTH = max(channel.MAX_LENGTH, 128 * 1024)
    channel.totalHeadersSize = max(channel.totalHeadersSize, 128 * 1024)
    channel.lineLengthExceeded = lambda self, line: self._respondToBadRequestAndDisconnect()


_answer_long_request_lines()


from courseware import collector  # imported last: it freezes what was loaded before it

collector.tune()  # see courseware/collector.py: the 100,000 records/s labs' 50-150 ms stalls
