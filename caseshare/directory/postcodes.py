"""UK postcodes for directory search: a full postcode ("DE1 2FS") or a district ("DE1") to its
district (the outward code) and area (the letters, "DE"). Pure."""

from __future__ import annotations

import re

_FULL = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_AREA = re.compile(r"^[A-Z]{1,2}$")


def _clean(value: str) -> str:
    return " ".join(value.upper().split())


def district(value: str) -> str | None:
    """The district of a full postcode or a district; None if it is neither."""
    cleaned = _clean(value)
    full = _FULL.match(cleaned)
    if full:
        return full.group(1)
    return cleaned if _DISTRICT.match(cleaned) else None


def normalise(postcode: str) -> str | None:
    """A full postcode written the standard way ("de12fs" -> "DE1 2FS"); None if not one."""
    full = _FULL.match(_clean(postcode))
    return f"{full.group(1)} {full.group(2)}" if full else None


def area(district_code: str) -> str:
    """The postcode area of a district ("DE21" -> "DE", "SA31" -> "SA")."""
    letters = re.match(r"^[A-Z]*", district_code)
    return letters.group(0) if letters else ""


def is_district_or_area(value: str) -> bool:
    """A service area may name districts ("DE1") or whole areas ("DE")."""
    cleaned = _clean(value)
    return bool(_DISTRICT.match(cleaned) or _AREA.match(cleaned))
