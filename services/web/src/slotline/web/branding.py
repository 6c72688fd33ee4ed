"""Each business's look: its name, colour and logo, from ``<tenant>.json`` files
(built-in ones, then ``SLOTLINE_WEB_BRANDS_DIR``). A tenant without a file gets a
plain Slotline look under its own id. Colours are made WCAG-safe on load."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from slotline.web.domain.colours import readable_on_white, text_on

BUILT_IN = Path(__file__).parent / "brands"
DEFAULT_COLOUR = "#1f5fbf"


@dataclass(frozen=True)
class Brand:
    tenant_id: str
    name: str
    colour: str  # buttons and links; readable on white
    on_colour: str  # text on the colour
    logo: Path | None = None
    phone: str | None = None  # shown when something fails: "or call us"

    @property
    def style(self) -> str:
        """CSS custom properties for the page's root element."""
        return f"--brand:{self.colour};--on-brand:{self.on_colour}"


def _load(path: Path) -> Brand:
    data = json.loads(path.read_text(encoding="utf-8"))
    colour = readable_on_white(str(data.get("colour", DEFAULT_COLOUR)))
    logo = path.parent / data["logo"] if data.get("logo") else None
    return Brand(
        tenant_id=path.stem,
        name=str(data.get("name") or path.stem),
        colour=colour,
        on_colour=text_on(colour),
        logo=logo if logo and logo.is_file() else None,
        phone=data.get("phone"),
    )


class Brands:
    def __init__(self, extra_dir: Path | None = None) -> None:
        self._brands: dict[str, Brand] = {}
        for folder in (BUILT_IN, extra_dir):
            if folder is not None and folder.is_dir():
                for path in sorted(folder.glob("*.json")):
                    self._brands[path.stem] = _load(path)

    def of(self, tenant_id: str) -> Brand:
        found = self._brands.get(tenant_id)
        if found is not None:
            return found
        return Brand(tenant_id, tenant_id, DEFAULT_COLOUR, text_on(DEFAULT_COLOUR))
