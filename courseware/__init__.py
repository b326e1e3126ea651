"""Producer Lab's Django project: settings, ASGI entry point, URLs, and the apps
``courseware.lab`` (the live lab, its sessions and WebSocket protocol) and
``courseware.course`` (lessons, exercises, interview questions, progress, export)."""
