"""Room pages: join, follow, present, projector, QR code, open.  Thin: services decide."""

from __future__ import annotations

import io
import json

import segno
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from courseware.rooms import services
from courseware.rooms.scenes import SceneError, poll_menu


def _ensure_session(request: HttpRequest) -> None:
    if not request.session.session_key:
        request.session["room"] = True
        request.session.save()


def _room_or_error(request: HttpRequest, code: str):
    try:
        return services.find_open_room(code), None
    except services.RoomError as exc:
        status = 404 if exc.code == "not_found" else 410
        return None, render(request, "rooms/join.html", {"error": exc.message, "code": code},
                            status=status)


def join(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code") or request.POST.get("code")
    if not code:
        return render(request, "rooms/join.html", {})
    if not services.allow_join(request.META.get("REMOTE_ADDR", "?")):
        return render(request, "rooms/join.html", {"error": "Too many attempts from this "
                      "address: wait a minute and try again.", "code": code}, status=429)
    room, error = _room_or_error(request, code)
    return error or redirect("rooms:follow", code=room.code)


def _context(request: HttpRequest, room, view: str, token: str | None = None) -> dict:
    _ensure_session(request)
    query = f"?token={token}" if token else ""
    links = services.urls(room)
    return {"room": room, "view": view, "ws_path": f"/ws/room/{room.code}/{query}",
            "follow_url": request.build_absolute_uri(links["follow_url"]),
            "scenes": room.scenes}


def follow(request: HttpRequest, code: str) -> HttpResponse:
    room, error = _room_or_error(request, code)
    if error:
        return error
    return render(request, "rooms/follow.html", _context(request, room, "follow"))


def projector(request: HttpRequest, code: str) -> HttpResponse:
    room, error = _room_or_error(request, code)
    if error:
        return error
    return render(request, "rooms/projector.html", _context(request, room, "projector"))


def present(request: HttpRequest, code: str) -> HttpResponse:
    room, error = _room_or_error(request, code)
    if error:
        return error
    token = request.GET.get("token")
    if not services.is_presenter(room, token):
        return HttpResponseForbidden("This is the presenter's view: it needs the presenter "
                                     "link (with its token) printed when the room opened.")
    from courseware.lab.views import lab_context

    context = {**lab_context(request, room.preset, "main"),
               **_context(request, room, "present", token),
               "poll_menu": poll_menu(room.lesson_slug)}
    return render(request, "rooms/present.html", context)


def qr(request: HttpRequest, code: str) -> HttpResponse:
    room, error = _room_or_error(request, code)
    if error:
        return error
    url = request.build_absolute_uri(services.urls(room)["follow_url"])
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=8, dark="#000", light="#fff")
    return HttpResponse(buf.getvalue(), content_type="image/svg+xml")


@login_required
@require_POST
def open_view(request: HttpRequest) -> HttpResponse:
    """An instructor opens a room from a lab state (preset + config + seed) or a lesson."""
    if not services.is_instructor(request.user):
        return HttpResponseForbidden("Only instructors (the `instructors` group) open rooms.")
    try:
        config = json.loads(request.POST.get("config") or "{}")
        if not isinstance(config, dict):
            raise ValueError("config is a JSON object")  # noqa: TRY004 - a 400, like bad JSON
        seed = request.POST.get("seed") or None
        if seed is not None:
            if not seed.strip().lstrip("-").isdigit() or abs(int(seed)) >= 2**53:
                raise ValueError(f"seed is a whole number, got {seed[:30]!r}")
            seed = int(seed)
        room, token = services.open_room(preset=request.POST.get("preset") or None,
                                         config=config or None,
                                         lesson=request.POST.get("lesson") or None,
                                         seed=seed, user=request.user)
    except (SceneError, ValueError) as exc:
        return HttpResponse(f"Cannot open a room: {exc}", status=400, content_type="text/plain")
    return redirect(services.urls(room, token)["presenter_url"])
