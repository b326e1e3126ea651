"""WebSocket routes (the lab's consumers live in courseware.lab, the rooms' in
courseware.rooms).

The last route catches every other path so an unknown path is refused cleanly with close
code 4404 instead of an exception in the router (issue 8).
"""

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path

from courseware.lab.routing import websocket_urlpatterns as lab_ws
from courseware.rooms.routing import websocket_urlpatterns as room_ws

CLOSE_NOT_FOUND = 4404


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Accepts, says why, and closes with 4404: no such WebSocket endpoint."""

    async def connect(self) -> None:
        await self.accept()
        await self.send(text_data='{"type": "error", "code": "not_found", "message": '
                                  '"no WebSocket endpoint at this path", "ref": null}')
        await self.close(code=CLOSE_NOT_FOUND)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        return


websocket_urlpatterns = [*lab_ws, *room_ws, re_path(r"", UnknownPathConsumer.as_asgi())]
