"""Issue 8: bad input to the course's views is a 4xx naming the problem, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from courseware.course.services import content

pytestmark = pytest.mark.django_db

HUGE = "9" * 5000


@pytest.fixture
def client_500s_as_responses():
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("query", [
    f"linger.ms={HUGE}",
    f"text=linger.ms%3D{HUGE}",
    "linger.ms=NaN",
    "batch.size=1e400",
    "a=b&" * 1000,
])
def test_export_refuses_bad_numbers_with_400(client_500s_as_responses, query):
    response = client_500s_as_responses.get(f"/export/?{query}")
    assert response.status_code == 400


@pytest.mark.parametrize("fix", [
    "batch.size=2147483647",
    f"linger.ms={HUGE}",
    "batch.size=1e400",
    "linger.ms=NaN",
    "interceptor.classes=os.system",
])
def test_incident_and_debug_answer_bad_fixes_with_422(client_500s_as_responses, fix):
    client = client_500s_as_responses
    response = client.post("/incident/", {"fix": fix})
    assert response.status_code == 422, response.content[:300]
    slug = content.debug_scenarios()[0].slug
    response = client.post(f"/debug/{slug}/", {"causes": "x", "fix": fix})
    assert response.status_code == 422, response.content[:300]
