"""Seeded content: deterministic, multilingual, and every identifier valid."""

from __future__ import annotations

import random
import re

import pytest
from stdnum import iban
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.fi import hetu
from stdnum.no import fodselsnummer
from stdnum.se import personnummer

from service.sandbox.config import SandboxConfig
from service.sandbox.seed import (
    LANGS,
    generate_comment,
    make_cpr,
    make_fodselsnummer,
    make_hetu,
    make_iban,
    make_personnummer,
    make_steuer_id,
    seed_store,
)
from service.sandbox.state import Store


@pytest.mark.parametrize("seed", range(5))
def test_identifiers_are_valid(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        number = make_cpr(rng)
        assert cpr.is_valid(number) and cpr.checksum(cpr.compact(number)) == 0
        assert hetu.is_valid(make_hetu(rng))
        assert personnummer.is_valid(make_personnummer(rng))
        assert fodselsnummer.is_valid(make_fodselsnummer(rng))
        assert idnr.is_valid(make_steuer_id(rng))
        for lang in LANGS:
            assert iban.is_valid(make_iban(rng, lang))


def test_comments_carry_ground_truth_in_every_language() -> None:
    rng = random.Random(3)
    seen: set[str] = set()
    for lang in LANGS:
        innocent, none = generate_comment(rng, lang, personal=False)
        assert innocent and none == ()
        for _ in range(60):
            text, found = generate_comment(rng, lang, personal=True)
            assert found, text
            seen.update(found)
            assert "{" not in text
    assert {"PHONE_NUMBER", "EMAIL_ADDRESS", "IBAN", "CUSTOMER_NUMBER", "POSTAL_ADDRESS"} <= seen
    assert {"DK_CPR", "FI_HETU", "SE_PERSONNUMMER", "NO_FODSELSNUMMER", "DE_TAX_ID"} <= seen


def _snapshot(seed: int) -> list[tuple[str, str, str]]:
    store = Store(SandboxConfig(pages=6))
    seed_store(store, seed, posts_per_page=3, comments_per_post=10)
    return [(n.id, n.from_name, n.message) for n in store.nodes.values()]


def test_seeding_is_deterministic() -> None:
    assert _snapshot(42) == _snapshot(42)
    assert _snapshot(42) != _snapshot(43)


def test_seed_labels_match_the_text() -> None:
    store = Store(SandboxConfig(pages=6))
    summary = seed_store(store, 9, posts_per_page=4, comments_per_post=25)
    assert summary.personal > 0
    emails = [n for n in store.nodes.values() if "EMAIL_ADDRESS" in n.pii]
    assert emails and all(re.search(r"\S+@\S+\.\w+", n.message) for n in emails)
    ibans = [n for n in store.nodes.values() if "IBAN" in n.pii]
    assert ibans and all(re.search(r"[A-Z]{2}\d{2}[ \dA-Z]+", n.message) for n in ibans)


def test_a_benchmark_sized_page() -> None:
    store = Store(SandboxConfig(pages=1, link_instagram=False))
    summary = seed_store(store, 1, posts_per_page=1000, comments_per_post=100, reply_ratio=0)
    assert summary.posts == 1000
    assert summary.comments == 100_000
    post_id = next(iter(store.children[next(iter(store.pages))]))[2]
    assert len(store.live_children(post_id)) == 100
