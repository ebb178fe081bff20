"""Who may open which dashboard page and post which form: the intended matrix, written out
here (not read from the pages), checked against the pages' declarations and over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from dashboard_support import Dashboard, csrf_of
from empreinte.web.dashboard.pages import ACTIONS, PAGES

ALL = {"admin", "analyst", "viewer"}
STAFF = {"admin", "analyst"}
ADMIN = {"admin"}

# Aggregates are for every role; what follows people (journeys, customers, segments,
# detractors) for analysts and admins, as the API says; keys and privacy actions for admins.
GET = {
    "/overview": ALL,
    "/customers": STAFF,
    "/customers/{profile_id}": STAFF,
    "/journeys": STAFF,
    "/journeys/paths": STAFF,
    "/journeys/channels": STAFF,
    "/journeys/ropo": STAFF,
    "/journeys/calls": STAFF,
    "/journeys/attribution": STAFF,
    "/experience": ALL,
    "/experience/drivers": ALL,
    "/experience/detractors": STAFF,
    "/experience/kano": ALL,
    "/experience/experiments": ALL,
    "/voc/calls": STAFF,
    "/segments": STAFF,
    "/segments/-/size": STAFF,
    "/segments/{name}": STAFF,
    "/personas": STAFF,
    "/personas/card": STAFF,
    "/offers": STAFF,
    "/year-in-review": STAFF,
    "/loyalty": STAFF,
    "/destinations": STAFF,
    "/voc": ALL,
    "/voc/conversations": STAFF,
    "/partners": STAFF,
    "/privacy": STAFF,
    "/sources": ADMIN,
    "/sources/live": ADMIN,
}
POST = {
    "/segments": STAFF,
    "/segments/{name}/refresh": STAFF,
    "/segments/{name}/update": STAFF,
    "/segments/{name}/delete": STAFF,
    "/year-in-review/share": STAFF,
    "/loyalty/run": ADMIN,
    "/destinations": ADMIN,
    "/destinations/retry": ADMIN,
    "/destinations/sync": ADMIN,
    "/destinations/remove": ADMIN,
    "/privacy/reviews/accept": ADMIN,
    "/privacy/reviews/reject": ADMIN,
    "/privacy/erase": ADMIN,
    "/sources/keys": ADMIN,
    "/sources/keys/revoke": ADMIN,
    "/voc/topics": STAFF,
}


def test_every_page_and_form_is_in_the_matrix_with_its_roles() -> None:
    declared = {p.path: {r.value for r in p.roles} for p in PAGES}
    assert declared == GET
    posted = {a.path: {r.value for r in a.roles} for a in ACTIONS}
    assert posted == POST


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "no-such-thing", path)


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_opens_what_it_may_and_is_refused_the_rest(
    client_as: Callable[[str], httpx.Client], role: str
) -> None:
    client = client_as(role)
    nav = client.get("/overview").text
    for path, roles in GET.items():
        answer = client.get(concrete(path))
        if role in roles:
            # A page with a path parameter may not find "no-such-thing": 404, never 403.
            assert answer.status_code in ((200, 404) if "{" in path else (200,)), path
        else:
            assert answer.status_code == 403, (path, answer.status_code)
            assert f'href="{path}"' not in nav
    token = csrf_of(nav)
    for path, roles in POST.items():
        if role not in roles:
            answer = client.post(concrete(path), data={"csrf": token})
            assert answer.status_code == 403, (path, answer.status_code)


def test_nobody_logged_in_is_sent_to_the_login(dashboard: Dashboard) -> None:
    with httpx.Client(base_url=dashboard.url) as client:
        for path in GET:
            answer = client.get(concrete(path))
            assert answer.status_code == 303 and answer.headers["location"].startswith(
                "/login?next="
            ), path
        for path in POST:
            assert client.post(concrete(path), data={}).status_code == 303, path


def test_the_navigation_links_each_section_once(client_as: Callable[[str], httpx.Client]) -> None:
    nav = client_as("admin").get("/overview").text
    links = re.findall(r'<li><a href="([^"]+)"', nav)
    assert links == [
        "/overview",
        "/customers",
        "/journeys",
        "/experience",
        "/voc",
        "/segments",
        "/offers",
        "/loyalty",
        "/year-in-review",
        "/destinations",
        "/partners",
        "/privacy",
        "/sources",
    ]
