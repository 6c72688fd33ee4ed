"""The country of a location's time zone (IANA ``zone.tab``): the region a phone number
written without ``+country`` is read in — a clinic in Europe/Athens takes Greek numbers."""

from __future__ import annotations

import zoneinfo
from contextlib import suppress
from functools import lru_cache
from importlib import resources
from pathlib import Path


def country_of_zone(zone: str) -> str | None:
    """ISO 3166 code of the country ``zone`` is in (``Europe/Athens`` → ``GR``), if known."""
    return _zone_countries().get(zone)


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    for text in _zone_tables():
        countries: dict[str, str] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                fields = line.split("\t")
                if len(fields) >= 3:
                    countries[fields[2]] = fields[0]
        if countries:
            return countries
    return {}


def _zone_tables() -> list[str]:
    """``zone.tab`` from the system's time zone database, else the ``tzdata`` package."""
    tables = [
        (Path(directory) / "zone.tab").read_text()
        for directory in zoneinfo.TZPATH
        if (Path(directory) / "zone.tab").is_file()
    ]
    with suppress(ModuleNotFoundError, FileNotFoundError):
        tables.append(resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text())
    return tables
