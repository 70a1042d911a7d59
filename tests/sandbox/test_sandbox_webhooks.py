"""Webhook payload building, without HTTP."""

from __future__ import annotations

import json

from service.sandbox.state import WebhookEvent
from service.sandbox.webhooks import build_payloads, encode_payload


def event(page: str, n: int) -> WebhookEvent:
    return WebhookEvent(due=0, page_id=page, value={"item": "comment", "comment_id": str(n)})


def test_payloads_group_per_page_and_respect_the_batch_size() -> None:
    events = [event("A", 1), event("B", 2), event("A", 3), event("A", 4)]
    payloads = build_payloads(events, max_batch=3, now=1700000000)
    assert len(payloads) == 2
    first = payloads[0]
    assert first["object"] == "page"
    assert [(e["id"], len(e["changes"])) for e in first["entry"]] == [("A", 2), ("B", 1)]
    assert all(e["time"] == 1700000000 for e in first["entry"])
    assert first["entry"][0]["changes"][0] == {"field": "feed", "value": events[0].value}
    assert [e["id"] for e in payloads[1]["entry"]] == ["A"]


def test_encoded_bodies_escape_non_ascii() -> None:
    body = encode_payload({"message": "Hälsningar från Malmö"})
    assert body.isascii()
    assert b"\\u00e4" in body
    assert json.loads(body) == {"message": "Hälsningar från Malmö"}
