"""Rooms' services and pages in-process: codes, demos, lesson scenes, the instructors
group and who may open a room."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from courseware.rooms import codes, services
from courseware.rooms.models import Room
from courseware.rooms.scenes import SceneError, load_demo

pytestmark = pytest.mark.django_db


def test_codes_avoid_ambiguous_characters():
    for _ in range(200):
        code = codes.new_code()
        assert codes.looks_like_code(code)
        assert not set(code) & set("0O1IL")
    assert codes.normalise(" a8p-khq ") == "A8PKHQ"


def test_open_room_prints_the_urls_as_json_and_stores_only_the_token_hash(capsys):
    call_command("open_room", "--preset", "kafka-defaults", "--json")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out) == {"code", "follow_url", "presenter_url", "projector_url"}
    room = Room.objects.get(code=out["code"])
    token = out["presenter_url"].split("token=")[1]
    assert token not in room.token_hash and services.is_presenter(room, token)
    assert not services.is_presenter(room, token[:-1] + "x")


def test_a_demo_file_and_a_lesson_become_scenes():
    demo = load_demo("failover")
    assert [s["preset"] for s in demo["scenes"]][-1] == "lesson-failover"
    assert demo["scenes"][-1]["faults"] == [{"op": "stop_broker", "broker": 2}]
    with pytest.raises(SceneError, match="no demo"):
        load_demo("nope")
    call_command("load_courseware")
    room, _ = services.open_room(lesson="batching")
    assert [s["preset"] for s in room.scenes] == ["lesson-linger", "lesson-full-batches"]
    assert room.scenes[-1]["question"] == "batching-light-load"
    assert services.scene_commands(room.scenes[0])[0]["type"] == "preset"


def test_only_instructors_open_rooms_from_the_web(client):
    assert Group.objects.filter(name="instructors").exists()  # the data migration
    user = User.objects.create_user("t", password="pw-pw-pw-123")
    client.force_login(user)
    form = {"preset": "kafka-defaults", "config": json.dumps({"linger.ms": 20})}
    assert client.post("/room/open/", form).status_code == 403
    user.groups.add(Group.objects.get(name="instructors"))
    resp = client.post("/room/open/", form)
    assert resp.status_code == 302 and "/present/?token=" in resp["Location"]
    room = Room.objects.get()
    assert room.commands.get().args == {"set": {"linger.ms": 20}}
    bad = client.post("/room/open/", {"preset": "kafka-defaults",
                                      "config": json.dumps({"linger.ms": "soon"})})
    assert bad.status_code == 400 and Room.objects.count() == 1


def test_join_rate_limit_and_closed_codes(client, settings):
    settings.ROOM_JOIN_RATE, settings.ROOM_JOIN_BURST = 0.0001, 3
    services._join_buckets.clear()
    statuses = [client.get("/room/", {"code": "ZZZZZZ"}).status_code for _ in range(5)]
    assert statuses[:3] == [404, 404, 404] and statuses[3:] == [429, 429]
    services._join_buckets.clear()
    settings.ROOM_JOIN_BURST = 100
    room, _ = services.open_room()
    assert client.get(f"/room/{room.code}/").status_code == 200
    services.close_room(room.pk)
    assert client.get(f"/room/{room.code}/").status_code == 410


def _instructor(client, name="teacher"):
    user = User.objects.create_user(name, password="pw-pw-pw-123")
    user.groups.add(Group.objects.get(name="instructors"))
    client.force_login(user)
    return user


def test_the_lab_page_offers_open_a_room_to_instructors_only(client):
    assert "Open a room" not in client.get("/lab/").content.decode()  # anonymous
    learner = User.objects.create_user("learner", password="pw-pw-pw-123")
    client.force_login(learner)
    assert "Open a room" not in client.get("/lab/").content.decode()
    client.logout()
    _instructor(client)
    page = client.get("/lab/?preset=high-throughput").content.decode()
    assert 'data-room-open="lab"' in page and 'action="/room/open/"' in page
    assert 'name="preset" value="high-throughput"' in page


def test_open_a_room_from_the_lab_state_keeps_preset_config_and_seed(client):
    _instructor(client)
    resp = client.post("/room/open/", {"preset": "high-throughput", "seed": "7",
                                       "config": json.dumps({"linger.ms": 25})})
    assert resp.status_code == 302
    room = Room.objects.get()
    assert (room.preset, room.seed) == ("high-throughput", 7)
    assert room.commands.get().args == {"set": {"linger.ms": 25}}
    assert resp["Location"].startswith(f"/room/{room.code}/present/?token=")
    assert client.get(resp["Location"]).status_code == 200
    bad = client.post("/room/open/", {"preset": "high-throughput", "seed": "soon"})
    assert bad.status_code == 400 and "seed" in bad.content.decode()
    assert Room.objects.count() == 1


def test_present_this_lesson_from_the_lesson_page(client):
    call_command("load_courseware")
    assert "Present this lesson" not in client.get("/lessons/batching/").content.decode()
    _instructor(client)
    page = client.get("/lessons/batching/").content.decode()
    assert "Present this lesson" in page and 'name="lesson" value="batching"' in page
    resp = client.post("/room/open/", {"lesson": "batching"})
    assert resp.status_code == 302
    room = Room.objects.get()
    assert room.lesson_slug == "batching" and len(room.scenes) == 2


def test_polls_from_checkpoints_auto_checked_and_interview_questions():
    from courseware.course.models import Question
    from courseware.course.services.checking import check
    from courseware.rooms.scenes import poll_for, poll_menu

    call_command("load_courseware")
    choice = poll_for("batching-light-load")
    q = Question.objects.get(slug="batching-light-load")
    assert choice["choices"] and choice["answer"] == choice["choices"][q.answer]
    computed = poll_for("quiz-linger-closes")  # the engine computes this answer
    q = Question.objects.get(slug="quiz-linger-closes")
    assert computed["choices"] is None and check(q, computed["answer"]).correct
    assert not check(q, str(float(computed["answer"]) + 1000)).correct  # it could fail
    assert computed["demo_preset"] == "lesson-linger"  # the scene that proves it
    interview = poll_for("interview-batching")
    assert len(interview["choices"]) == 3 and interview["answer"]
    menu = {g["group"]: [x["slug"] for x in g["questions"]] for g in poll_menu("batching")}
    assert "batching-light-load" in menu["This lesson's checkpoints"]
    assert "quiz-linger-closes" in menu["Auto-checked (the engine computes the answer)"]
    assert "interview-batching" in menu["Interview questions"]
    assert "batching-light-load" not in menu.get("Checkpoints", [])


def test_an_expired_code_stops_working(client):
    from datetime import timedelta

    from django.utils import timezone

    room, _ = services.open_room()
    assert client.get(f"/room/{room.code}/").status_code == 200
    Room.objects.filter(pk=room.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for path in ("", "projector/", "qr.svg"):
        resp = client.get(f"/room/{room.code}/{path}")
        assert resp.status_code == 410, path
    assert "expired" in client.get(f"/room/{room.code}/").content.decode()
    with pytest.raises(services.RoomError) as err:
        services.find_open_room(room.code.lower())
    assert err.value.code == "expired"


def test_speaker_notes_are_in_the_presenter_page_only(client):
    call_command("load_courseware")
    room, token = services.open_room(lesson="batching")
    notes = room.scenes[0]["notes"]
    assert notes and "*" not in notes  # plain text, not Markdown
    snippet = notes.split("\n")[0][:40]
    present = client.get(f"/room/{room.code}/present/?token={token}").content.decode()
    assert snippet in present and 'id="scene-notes"' in present
    follow = client.get(f"/room/{room.code}/").content.decode()
    projector = client.get(f"/room/{room.code}/projector/").content.decode()
    assert snippet not in follow and snippet not in projector
    assert client.get(f"/room/{room.code}/present/?token=nope").status_code == 403


def test_open_room_command_refuses_bad_input():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="unknown preset"):
        call_command("open_room", "--preset", "no-such")
    with pytest.raises(CommandError, match="JSON object"):
        call_command("open_room", "--config", "[1]")
    with pytest.raises(CommandError, match="hours"):
        call_command("open_room", "--hours", "0")


def test_the_projector_wraps_its_join_url_after_a_slash(client):
    from courseware.rooms.templatetags.rooms_tags import url_breaks

    room, _ = services.open_room()
    projector = client.get(f"/room/{room.code}/projector/").content.decode()
    assert f"http://testserver/<wbr>room/<wbr>{room.code}/<wbr></b>" in projector
    assert 'data-tl-scale="rem"' in projector  # the timeline's type grows with the screen
    assert url_breaks('http://h/<x>"/') == "http://h/<wbr>&lt;x&gt;&quot;/<wbr>"
