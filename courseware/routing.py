"""WebSocket routes (the lab's consumers live in courseware.lab)."""

from courseware.lab.routing import websocket_urlpatterns as lab_ws

websocket_urlpatterns = [*lab_ws]
