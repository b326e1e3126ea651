"""The lab's WebSocket routes: the learner's lab and a lesson's embedded labs."""

from django.urls import re_path

from courseware.lab.consumers import LabConsumer

websocket_urlpatterns = [
    re_path(r"^ws/lab/(?P<slot>main|embed-[a-z0-9][a-z0-9-]{0,60})/$", LabConsumer.as_asgi()),
]
