from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import MakeTenant


async def test_detect_finds_masks_and_scopes(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    key = (
        await client.post(
            "/v1/api-keys", json={"name": "agents", "scopes": ["detect"]}, headers=t.headers
        )
    ).json()["secret"]
    h = {"Authorization": f"Bearer {key}"}
    text = "Hej, mit nummer er 20 12 34 56 og min mail er anna.jensen@gmail.com"
    r = await client.post(
        "/v1/detect", json={"text": text, "lang": "da", "region": "DK"}, headers=h
    )
    assert r.status_code == 200, r.text
    findings = r.json()["findings"]
    types = {f["type"] for f in findings}
    assert {"PHONE_NUMBER", "EMAIL_ADDRESS"} <= types
    for f in findings:
        assert text[f["start"] : f["end"]].strip()
        assert set(f) == {"type", "start", "end", "score", "masked"}
        assert text[f["start"] : f["end"]] not in f["masked"]
        assert 0 <= f["score"] <= 1
    assert (await client.post("/v1/detect", json={"text": ""}, headers=h)).json() == {
        "findings": []
    }
    clean = await client.post("/v1/detect", json={"text": "Prisen er 299 kr. kl. 14.30"}, headers=h)
    assert clean.json()["findings"] == []
    # Scope: a read key may not call detect; the detect key may not read the tenant.
    read = (
        await client.post("/v1/api-keys", json={"name": "r", "scopes": ["read"]}, headers=t.headers)
    ).json()["secret"]
    assert (
        await client.post(
            "/v1/detect", json={"text": "x"}, headers={"Authorization": f"Bearer {read}"}
        )
    ).status_code == 403


async def test_detect_bad_input(client: AsyncTestClient[Litestar], make_tenant: MakeTenant) -> None:
    t = await make_tenant()
    r = await client.post("/v1/detect", json={"text": "a" * 100_001}, headers=t.headers)
    assert r.status_code == 413
    assert "100000" in r.json()["detail"].replace(",", "")
    for body in (
        {"text": 5},
        {"text": "x", "lang": "xx"},
        {"text": "x", "region": "Denmark"},
        {"txt": "x"},
        {},
    ):
        r = await client.post("/v1/detect", json=body, headers=t.headers)
        assert r.status_code == 422, (body, r.text)
    r = await client.post(
        "/v1/detect", content=b"\xff\xfe", headers=t.headers | {"content-type": "application/json"}
    )
    assert r.status_code == 400
