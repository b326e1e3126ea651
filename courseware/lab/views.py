"""Lab pages: the full lab, the compact embed for lessons, and inline config validation.

Views only render; the lab itself runs behind the WebSocket (``courseware.lab.consumers``).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from courseware.lab.commands import FAULT_OPS, KAFKA_ERRORS, WORKLOAD_DATA
from courseware.lab.consumers import REPLAY_SESSION_KEY
from courseware.lab.forms import control_groups, validate_field
from courseware.lab.session import DEFAULT_PRESET, SPEED_STEPS
from producer_core import presets
from producer_core.metrics import METRIC_HELP

LAB_PRESETS = ("kafka-defaults", "high-throughput", "low-latency", "incident", "compression")


def _ensure_session(request: HttpRequest) -> None:
    """A lab belongs to a browser session: make sure this browser has one."""
    if not request.session.session_key:
        request.session["lab"] = True
        request.session.save()


def _preset_menu() -> list[dict]:
    known = presets.names()
    ordered = [p for p in LAB_PRESETS if p in known] + [p for p in known if p not in LAB_PRESETS]
    menu = []
    for preset_id in ordered:
        data = presets.load(preset_id)
        menu.append({"id": preset_id, "title": data.get("title", preset_id),
                     "summary": data.get("summary", ""), "lab": preset_id in LAB_PRESETS})
    return menu


def _context(request: HttpRequest, preset: str | None, slot: str) -> dict:
    query = f"?preset={preset}" if preset and slot == "main" else ""
    speed = request.GET.get("speed")
    if slot != "main" and speed and _speed_ok(speed):
        query = f"?speed={speed}"  # an embed's starting speed (a lesson's ```lab speed=```)
    return {
        "presets": _preset_menu(),
        "preset": preset or DEFAULT_PRESET,
        "ws_path": f"/ws/lab/{slot}/{query}",
        "groups": control_groups(),
        "speeds": SPEED_STEPS,
        "kafka_errors": KAFKA_ERRORS,
        "fault_ops": FAULT_OPS,
        "workload_data": WORKLOAD_DATA,
        "metric_help": METRIC_HELP,
    }


def lab_context(request: HttpRequest, preset: str | None, slot: str = "main") -> dict:
    """What a page drawing a live lab needs (presets, socket path, controls): public, the
    room presenter's page draws the same lab."""
    return _context(request, preset, slot)


def _speed_ok(text: str) -> bool:
    try:
        return float(text) in SPEED_STEPS
    except ValueError:
        return False


@require_GET
def lab(request: HttpRequest) -> HttpResponse:
    """The full lab; ``?preset=<id>`` switches the learner's lab to that preset;
    ``?replay=<submission id>`` opens that graded run (the learner's own, or any for an
    instructor), paused at the moment that mattered."""
    if "replay" in request.GET:
        return _replay(request, request.GET["replay"])
    preset = request.GET.get("preset") or None
    if preset is not None and preset not in presets.names():
        raise Http404(f"unknown preset {preset!r}")
    _ensure_session(request)
    return render(request, "lab/lab.html", _context(request, preset, "main"))


def _replay(request: HttpRequest, submission_id: str) -> HttpResponse:
    from courseware.exercises.services import replay

    data = replay.resolve(request, submission_id)
    if data is None:
        return render(request, "exercises/not_found.html", {
            "message": "No graded submission of yours with that number to replay."}, status=404)
    _ensure_session(request)
    dashboard = data.pop("dashboard", None)  # for the page only; the socket needs the run
    request.session[REPLAY_SESSION_KEY] = data
    ctx = _context(request, None, "main")
    ctx.update(ws_path="/ws/lab/main/?replay=1", replay=data, dashboard=dashboard)
    return render(request, "lab/lab.html", ctx)


@require_GET
def embed(request: HttpRequest, preset_id: str) -> HttpResponse:
    """A compact live lab for an iframe inside a lesson (queues, pool, timeline, controls)."""
    if preset_id not in presets.names():
        raise Http404(f"unknown preset {preset_id!r}")
    _ensure_session(request)
    return render(request, "lab/embed.html", _context(request, preset_id, f"embed-{preset_id}"))


@require_POST
def validate(request: HttpRequest) -> HttpResponse:
    """Inline validation of one setting (htmx posts the field as it changes)."""
    # htmx posts the whole form and names the field that changed (HX-Trigger-Name).
    name = getattr(request, "htmx", None) and request.htmx.trigger_name
    if not name:
        fields = [k for k in request.POST if k != "csrfmiddlewaretoken"]
        name = fields[0] if len(fields) == 1 else None
    if not name or name not in request.POST:
        return render(request, "lab/_field_error.html",
                      {"error": "name the one setting to validate", "name": ""}, status=400)
    error, value = validate_field(name, request.POST[name])
    return render(request, "lab/_field_error.html", {"error": error, "name": name,
                                                     "value": value})
