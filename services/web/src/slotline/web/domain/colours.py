"""A tenant's brand colour made safe to use: text on it and it on white keep the
WCAG AA contrast of 4.5:1, whatever the business picked."""

from __future__ import annotations

AA = 4.5


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    text = hex_colour.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise ValueError(f"not a #rrggbb colour: {hex_colour!r}")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def luminance(hex_colour: str) -> float:
    r, g, b = (_channel(v) for v in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    return (
        "#000000"
        if contrast(background, "#000000") >= contrast(background, "#ffffff")
        else "#ffffff"
    )


def readable_on_white(hex_colour: str) -> str:
    """``hex_colour`` darkened just enough to be text (and buttons) on white."""
    r, g, b = _rgb(hex_colour)
    for _ in range(100):
        candidate = f"#{r:02x}{g:02x}{b:02x}"
        if contrast(candidate, "#ffffff") >= AA:
            return candidate
        r, g, b = int(r * 0.92), int(g * 0.92), int(b * 0.92)
    return "#000000"
