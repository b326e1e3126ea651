"""WebSocket routes (the lab's consumers live in courseware.lab, the rooms' in
courseware.rooms)."""

from courseware.lab.routing import websocket_urlpatterns as lab_ws
from courseware.rooms.routing import websocket_urlpatterns as room_ws

websocket_urlpatterns = [*lab_ws, *room_ws]
