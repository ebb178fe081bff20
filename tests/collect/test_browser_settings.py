"""The settings document analytics.js fetches at start-up, served by empreinte itself."""

from __future__ import annotations

import httpx

from conftest import Keys, ServerProcess


def test_settings_point_analytics_js_back_at_this_server(
    shared_server: ServerProcess, shared_keys: Keys
) -> None:
    url = f"{shared_server.url}/v1/projects/{shared_keys.write_key}/settings"
    response = httpx.get(url, headers={"Origin": "https://shop.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    segment = response.json()["integrations"]["Segment.io"]
    host = shared_server.url.removeprefix("http://")
    assert segment["apiHost"] == f"{host}/v1"
    assert segment["protocol"] == "http"
    assert segment["apiKey"] == shared_keys.write_key
    # The destination it names accepts what analytics.js sends: text/plain, key in the body.
    sent = httpx.post(
        f"http://{segment['apiHost']}/t",
        content=b'{"type":"track","event":"Viewed","anonymousId":"a-1","writeKey":"'
        + shared_keys.write_key.encode()
        + b'"}',
        headers={"Content-Type": "text/plain"},
    )
    assert sent.status_code == 200, sent.text


def test_settings_for_an_unknown_key_are_not_found(shared_server: ServerProcess) -> None:
    response = httpx.get(f"{shared_server.url}/v1/projects/wk_nope/settings")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
