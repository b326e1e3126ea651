"""The room's WebSocket route."""

from django.urls import re_path

from courseware.rooms.consumers import RoomConsumer

websocket_urlpatterns = [
    re_path(r"^ws/room/(?P<code>[A-Za-z0-9]{1,12})/$", RoomConsumer.as_asgi()),
]
