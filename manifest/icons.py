"""Waypoint's two Teams icons, drawn from geometry so they can be regenerated exactly.

Teams wants a 192x192 colour icon and a 32x32 outline icon that is white on a
transparent background. Both show a map pin (a waypoint) with a dot in its head.
Each pixel's coverage comes from a signed distance to the shape at the pixel's
centre, so edges are anti-aliased without a drawing library, and the result is
the same on every machine (only +, *, / and sqrt, which IEEE 754 rounds exactly).

`python -m manifest.icons` rewrites manifest/color.png and manifest/outline.png;
tests/test_manifest.py checks that the committed files are what this draws.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

COLOR_SIZE = 192
OUTLINE_SIZE = 32
# The colour icon's background, and the manifest's accentColor.
ACCENT = (0x16, 0x69, 0x7A)
WHITE = (255, 255, 255)
HERE = Path(__file__).parent

Pixel = tuple[int, int, int, int]
Rgba = list[list[Pixel]]
Distance = Callable[[float, float], float]


def _pin(cx: float, cy: float, radius: float, tip_y: float) -> Distance:
    """Signed distance to a map pin: a circle and the triangle its tangents make with the tip.

    Negative inside. Exact outside; near the edge inside too, which is all the
    anti-aliasing and the outline's stroke need.
    """
    depth = tip_y - cy
    # Where the tangents from the tip touch the circle.
    touch_dy = radius * radius / depth
    touch_dx = math.sqrt(radius * radius - touch_dy * touch_dy)
    triangle = [(cx, tip_y), (cx - touch_dx, cy + touch_dy), (cx + touch_dx, cy + touch_dy)]

    def distance(x: float, y: float) -> float:
        circle = math.sqrt((x - cx) ** 2 + (y - cy) ** 2) - radius
        return min(circle, _convex_polygon(triangle, x, y))

    return distance


def _convex_polygon(points: Sequence[tuple[float, float]], x: float, y: float) -> float:
    nearest = math.inf
    inside = True
    count = len(points)
    for index in range(count):
        ax, ay = points[index]
        bx, by = points[(index + 1) % count]
        ex, ey = bx - ax, by - ay
        wx, wy = x - ax, y - ay
        t = max(0.0, min(1.0, (wx * ex + wy * ey) / (ex * ex + ey * ey)))
        dx, dy = wx - ex * t, wy - ey * t
        nearest = min(nearest, dx * dx + dy * dy)
        # The triangle is listed so that, with y pointing down, inside is where every
        # edge's cross product is non-negative.
        if ex * wy - ey * wx < 0:
            inside = False
    return -math.sqrt(nearest) if inside else math.sqrt(nearest)


def _coverage(distance: float) -> float:
    """How much of a one-pixel square centred at this distance lies inside the shape."""
    return max(0.0, min(1.0, 0.5 - distance))


def _circle(cx: float, cy: float, radius: float) -> Distance:
    return lambda x, y: math.sqrt((x - cx) ** 2 + (y - cy) ** 2) - radius


def color_pixels() -> Rgba:
    """192x192: a white pin with a hole on the accent colour, filling the square."""
    size = COLOR_SIZE
    pin = _pin(size / 2, 80.0, 44.0, 158.0)
    hole = _circle(size / 2, 80.0, 17.0)
    rows: Rgba = []
    for row in range(size):
        line: list[Pixel] = []
        for column in range(size):
            x, y = column + 0.5, row + 0.5
            white = _coverage(pin(x, y)) * (1.0 - _coverage(hole(x, y)))
            line.append((*_blend(ACCENT, WHITE, white), 255))
        rows.append(line)
    return rows


def outline_pixels() -> Rgba:
    """32x32: the pin's outline and its dot, white on transparent."""
    size = OUTLINE_SIZE
    pin = _pin(size / 2, 12.5, 9.0, 29.0)
    dot = _circle(size / 2, 12.5, 3.0)
    half_stroke = 1.0
    rows: Rgba = []
    for row in range(size):
        line: list[Pixel] = []
        for column in range(size):
            x, y = column + 0.5, row + 0.5
            stroke = _coverage(abs(pin(x, y)) - half_stroke)
            alpha = max(stroke, _coverage(dot(x, y)))
            line.append((*WHITE, round(alpha * 255)))
        rows.append(line)
    return rows


def _blend(
    under: tuple[int, int, int], over: tuple[int, int, int], amount: float
) -> tuple[int, int, int]:
    r, g, b = (round(u + (o - u) * amount) for u, o in zip(under, over, strict=True))
    return (r, g, b)


def png_bytes(pixels: Rgba) -> bytes:
    """An 8-bit RGBA PNG, unfiltered: small icons need nothing cleverer."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(
        b"\x00" + bytes(channel for pixel in line for channel in pixel) for line in pixels
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def write_icons(directory: Path = HERE) -> list[Path]:
    written = []
    for name, pixels in (("color.png", color_pixels()), ("outline.png", outline_pixels())):
        path = directory / name
        path.write_bytes(png_bytes(pixels))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_icons():
        print(f"wrote {path}")
