"""Masked forms of found values: enough left to recognise the kind, nothing to identify."""

from __future__ import annotations

from .types import EntityType

MASK = "\u2022"  # •


def _mask_alnum(value: str, keep_last: int = 0, keep_first: int = 0) -> str:
    """Replace letters and digits by ``•``, keeping separators and the given ends."""
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    keep = set(positions[:keep_first]) | set(positions[len(positions) - keep_last :])
    return "".join(MASK if ch.isalnum() and i not in keep else ch for i, ch in enumerate(value))


def mask(kind: EntityType, raw: str, normalized: str) -> str:
    """The masked form of ``raw`` (the value as written) for a finding of ``kind``."""
    if kind is EntityType.EMAIL_ADDRESS:
        local, _, domain = normalized.partition("@")
        return f"{local[:1]}{MASK * 3}@{domain}"
    if kind is EntityType.PHONE_NUMBER:
        return _mask_phone(raw)
    if kind is EntityType.PAYMENT_CARD:
        return _mask_alnum(raw, keep_last=4)
    if kind is EntityType.IBAN:
        return _mask_alnum(raw, keep_first=2, keep_last=2)
    if kind in (EntityType.BANK_ACCOUNT, EntityType.CUSTOMER_NUMBER):
        return _mask_alnum(raw, keep_last=2)
    if kind is EntityType.POSTAL_ADDRESS:
        street, comma, rest = raw.partition(",")
        return _mask_alnum(street, keep_first=1) + comma + rest
    # National identity numbers: nothing of the value is kept, only its shape.
    return _mask_alnum(raw)


def _mask_phone(raw: str) -> str:
    """``+45 40 52 37 46`` -> ``+45 •• •• •• 46``: country code and last two digits stay."""
    keep_first = 0
    stripped = raw.lstrip("(")
    if stripped.startswith("+") or stripped.startswith("00"):
        prefix = stripped[1:] if stripped.startswith("+") else stripped[2:]
        code = ""
        for ch in prefix:
            if not ch.isdigit():
                break
            code += ch
        # A country code has 1-3 digits; "+4540523746" keeps only what is surely the code.
        keep_first = min(len(code), 3) if code != prefix else 2
        if stripped.startswith("00"):
            keep_first += 2
    return _mask_alnum(raw, keep_first=keep_first, keep_last=2)
