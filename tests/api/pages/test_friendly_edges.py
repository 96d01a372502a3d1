"""Friendly edges: a styled 413 that states the limit, and the API docs served offline."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from api.limits import JSON_BODY_LIMIT, MAX_EDI_BYTES, size_words

HTML = {"accept": "text/html,application/xhtml+xml"}


def test_size_words() -> None:
    assert size_words(JSON_BODY_LIMIT) == "1 MiB"
    assert size_words(MAX_EDI_BYTES) == "50 MiB"
    assert size_words(80 * 1000 * 1000) == "76.3 MiB"
    assert size_words(512) == "512 bytes"


def test_a_too_large_upload_gets_a_page_that_states_the_limit(as_role: Any) -> None:
    client = as_role("biller")
    response = client.post("/files", content=b"ISA", headers={
        **HTML, "content-type": "multipart/form-data; boundary=x",
        "content-length": str(80 * 1000 * 1000)})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Too large</h1>" in response.text
    assert "larger than the 50.1 MiB this page accepts" in response.text
    assert "76.3 MiB" in response.text  # what was sent
    assert '<link rel="stylesheet" href="/static/app.css">' in response.text
    assert "Content Too Large" not in response.text


def test_a_streamed_body_over_the_limit_gets_the_page_too(as_role: Any) -> None:
    client = as_role("coder")

    def chunks() -> Any:
        for _ in range(3):
            yield b"x" * JSON_BODY_LIMIT

    response = client.post("/work-items/bulk", content=chunks(), headers={
        **HTML, "content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "larger than the 1 MiB accepted here" in response.text


def test_the_api_answers_a_json_problem(anon: TestClient) -> None:
    response = anon.post("/api/v1/claims", content=b"{}", headers={
        "content-type": "application/json", "content-length": str(JSON_BODY_LIMIT + 1)})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 413
    assert body["limit_bytes"] == JSON_BODY_LIMIT
    assert "1 MiB" in body["detail"]

    def chunks() -> Any:
        for _ in range(3):
            yield b" " * JSON_BODY_LIMIT

    streamed = anon.post("/api/v1/claims", content=chunks(),
                         headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json()["title"] == "Content Too Large"




def test_api_docs_are_served_from_our_own_static_files(anon: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        response = anon.get(path)
        assert "img-src 'self' data:" in response.headers["content-security-policy"]
        html = response.text
        assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html), path
        assert "/static/docs/" in html
        assert "cdn" not in html.lower()
        assert "fonts.googleapis" not in html
    assert "/openapi.json" in anon.get("/docs").text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        response = anon.get(f"/static/docs/{asset}")
        assert response.status_code == 200, asset
        assert len(response.content) > 100_000, asset


def test_a_page_address_that_does_not_validate_reads_in_plain_words(as_role: Any) -> None:
    response = as_role("coder").get("/claims?page=abc", headers=HTML)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "Page must be a whole number." in response.text
    assert "valid integer" not in response.text
    api = as_role("coder").get("/api/v1/claims?page=abc")
    assert api.status_code == 422
    assert api.json()["fields"][0]["field"] == "page"  # the API keeps its JSON
