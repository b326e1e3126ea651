"""ASGI entry point: HTTP to Django, WebSockets to the lab's consumers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseware.settings")

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
