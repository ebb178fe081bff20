"""A story as a 1080×1920 PNG (a phone's story format), drawn with Pillow.

Deterministic: the same story gives the same bytes (fonts are the DejaVu files matplotlib
ships, not the machine's; no timestamp in the file)."""

from __future__ import annotations

import importlib.util
import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from empreinte.activate.stories.texts import Slide, Story

WIDTH, HEIGHT = 1080, 1920
MARGIN = 84
TOP, BOTTOM = (12, 52, 40), (20, 96, 74)
INK, SOFT, ACCENT, PANEL = (255, 255, 255), (190, 228, 212), (206, 242, 112), (255, 255, 255, 26)


@lru_cache(maxsize=1)
def _font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:  # a dependency of empreinte: never absent
        raise RuntimeError("matplotlib (its fonts) is not installed")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(_font_dir() / name), size)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}".strip()
            if draw.textlength(candidate, font=font) <= width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
    return lines


def _background() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):
        mix = y / (HEIGHT - 1)
        draw.line(
            [(0, y), (WIDTH, y)],
            fill=tuple(round(a + (b - a) * mix) for a, b in zip(TOP, BOTTOM, strict=True)),
        )
    glow = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    shapes = ImageDraw.Draw(glow)
    shapes.ellipse([WIDTH - 420, -260, WIDTH + 260, 420], fill=(206, 242, 112, 38))
    shapes.ellipse([-300, HEIGHT - 520, 380, HEIGHT + 160], fill=(120, 220, 190, 30))
    return Image.alpha_composite(image.convert("RGBA"), glow)


_Row = tuple[str, ImageFont.FreeTypeFont, tuple[int, int, int], int]


def _rows(draw: ImageDraw.ImageDraw, slide: Slide, scale: float) -> list[_Row]:
    """The lines of one slide: (text, font, colour, line height)."""
    width = WIDTH - 2 * MARGIN - 48
    title, big = _font(round(34 * scale)), _font(round(84 * scale), bold=True)
    body, note = _font(round(33 * scale)), _font(round(29 * scale))
    colour = ACCENT if slide.key == "impact" else INK
    return [
        (slide.title.upper(), title, SOFT, round(50 * scale)),
        *[(line, big, colour, round(100 * scale)) for line in _wrap(draw, slide.big, big, width)],
        *[(line, body, INK, round(44 * scale)) for line in _wrap(draw, slide.detail, body, width)],
        *[(line, note, SOFT, round(40 * scale)) for line in _wrap(draw, slide.note, note, width)],
    ]


def _height(rows: list[_Row], scale: float) -> int:
    return round(38 * scale) + sum(row[3] for row in rows)


def render_png(story: Story) -> bytes:
    """The story as PNG bytes, 1080×1920: the year, the title, a panel per slide (scaled
    down together until they fit), the method's note at the foot."""
    image = _background()
    draw = ImageDraw.Draw(image)
    heading = _font(64, bold=True)
    draw.text((MARGIN, 110), str(story.year), font=_font(150, bold=True), fill=ACCENT)
    y = 300
    for line in _wrap(draw, story.intro.title, heading, WIDTH - 2 * MARGIN):
        draw.text((MARGIN, y), line, font=heading, fill=INK)
        y += 78
    y += 36
    small = _font(24)
    footer = _wrap(draw, story.footer, small, WIDTH - 2 * MARGIN)
    foot_y = HEIGHT - 60 - 32 * len(footer)
    room = foot_y - 30 - y
    scale, gap = 1.0, 24
    while True:
        laid = [_rows(draw, slide, scale) for slide in story.slides]
        total = sum(_height(rows, scale) + round(gap * scale) for rows in laid)
        if total <= room or scale <= 0.5:
            break
        scale = round(scale - 0.05, 2)
    overlay = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    panels = ImageDraw.Draw(overlay)
    tops = []
    for rows in laid:
        bottom = y + _height(rows, scale)
        panels.rounded_rectangle([MARGIN, y, WIDTH - MARGIN, bottom], radius=28, fill=PANEL)
        tops.append(y)
        y = bottom + round(gap * scale)
    image = Image.alpha_composite(image, overlay)
    draw = ImageDraw.Draw(image)
    for top, rows in zip(tops, laid, strict=True):
        line_y = top + round(22 * scale)
        for text, font, fill, height in rows:
            if text:
                draw.text((MARGIN + 24, line_y), text, font=font, fill=fill)
            line_y += height
    for line in footer:
        draw.text((MARGIN, foot_y), line, font=small, fill=SOFT)
        foot_y += 32
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return out.getvalue()
