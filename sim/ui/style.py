"""Colours, fonts and the marks that show a verdict by colour and by shape (for colour-blind users too)."""

from __future__ import annotations

import functools
import math

import pygame

from sim.paths import font_file

BG = (236, 238, 241)
PANEL = (250, 250, 252)
PANEL_EDGE = (200, 204, 212)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (36, 99, 171)
SKIN = (245, 218, 196)
SKIN_EDGE = (150, 110, 90)
HAIR = (92, 70, 52)
HAIR_SCALP = (124, 98, 74)
BROW = (110, 84, 62)
LIP = (214, 130, 130)
EYE_WHITE = (252, 252, 250)
IRIS = (96, 128, 150)
TARGET = (46, 160, 120)
REGION_EDGE = (205, 170, 150)
# Colours told apart with any colour vision (Okabe and Ito's palette): blue-green, orange, vermilion and a dark
# purple for the verdicts, which also differ in shape; for the danger structures purple, vermilion, amber and
# blue, which also carry their names on the map.
SEVERITY = {"critical": (170, 40, 130), "high": (213, 94, 0), "moderate": (190, 140, 0), "low": (0, 114, 178)}
VERDICT = {"ok": (0, 158, 115), "warn": (230, 159, 0), "fail": (213, 94, 0), "critical": (110, 20, 110)}
NEUTRAL_MARK = (60, 70, 90)
LAYER_COLOURS = {"epidermis": (240, 200, 175), "dermis": (232, 170, 150), "fat": (250, 226, 140),
                 "below": (190, 120, 120)}
VERDICT_WORDS = {"ok": "ok", "warn": "warning", "fail": "fail", "critical": "CRITICAL"}


# `size` is the size the layout was drawn for under pygame's built-in font, which renders at 0.6875 of it; the
# shipped font at that point size keeps every text's width and cap height.
POINTS_PER_SIZE = 0.6875


@functools.lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> pygame.font.Font:
    """Noto Sans (assets/fonts) for a text `size` of the layout; bold is the shipped bold face."""
    return pygame.font.Font(str(font_file(bold=bold)), max(1, int(size * POINTS_PER_SIZE)))


def text(surface: pygame.Surface, s: str, pos, size: int = 20, colour=INK, bold: bool = False,
         anchor: str = "topleft") -> pygame.Rect:
    img = font(size, bold).render(s, True, colour)
    rect = img.get_rect(**{anchor: pos})
    surface.blit(img, rect)
    return rect


def wrap(s: str, width: int, size: int = 20, bold: bool = False) -> list[str]:
    """Break `s` into lines no wider than `width` pixels."""
    f = font(size, bold)
    lines: list[str] = []
    for para in s.split("\n"):
        line = ""
        for word in para.split(" "):
            trial = word if not line else f"{line} {word}"
            if f.size(trial)[0] <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def fit(s: str, width: int, size: int = 20, bold: bool = False) -> str:
    """`s`, cut at a word with an ellipsis when it is wider than `width` pixels."""
    f = font(size, bold)
    if f.size(s)[0] <= width:
        return s
    words = s.split(" ")
    while len(words) > 1 and f.size(" ".join(words) + " ...")[0] > width:
        words.pop()
    return " ".join(words).rstrip(" ,;:-") + " ..."


def paragraph(surface: pygame.Surface, s: str, rect: pygame.Rect, size: int = 20, colour=INK, bold: bool = False,
              line_gap: int = 2) -> int:
    """Draw wrapped text inside rect; returns the y below the last line drawn."""
    y = rect.top
    h = font(size, bold).get_linesize() + line_gap
    for line in wrap(s, rect.width, size, bold):
        if y + h > rect.bottom:
            break
        text(surface, line, (rect.left, y), size, colour, bold)
        y += h
    return y


def text_colour(verdict: str) -> tuple[int, int, int]:
    """A verdict's colour for text on white: the warning's own is too light to read."""
    return VERDICT[verdict] if verdict != "warn" else (150, 100, 0)


def mark_radius(scale_px_per_mm: float) -> float:
    """A mark's size on the map [px]: 1.2 mm, so that it grows with the zoom, from 5 to 12 px (at 5 px a disc and
    a square look alike)."""
    return float(min(12.0, max(5.0, scale_px_per_mm * 1.2)))


def mark(surface: pygame.Surface, verdict: str | None, centre, r: float, number: int | None = None,
         pending: bool = False) -> None:
    """An injection mark. ok: filled circle; warn: triangle; fail: square; critical: X in a ring;
    None (exam mode): a neutral dot. pending: a dashed ring around it (a spacing gap judged at submit)."""
    x, y = centre
    r = max(3.0, r)
    if pending:
        ring = r * 1.9
        for k in range(0, 12, 2):
            a0, a1 = k * math.pi / 6, (k + 1) * math.pi / 6
            pygame.draw.line(surface, NEUTRAL_MARK, (x + ring * math.cos(a0), y + ring * math.sin(a0)),
                             (x + ring * math.cos(a1), y + ring * math.sin(a1)), 2)
    if verdict is None:
        pygame.draw.circle(surface, NEUTRAL_MARK, (x, y), r)
        pygame.draw.circle(surface, (255, 255, 255), (x, y), r, 1)
    elif verdict == "ok":
        pygame.draw.circle(surface, VERDICT["ok"], (x, y), r)
        pygame.draw.circle(surface, (255, 255, 255), (x, y), r, 1)
    elif verdict == "warn":
        pts = [(x, y - r * 1.2), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)]
        pygame.draw.polygon(surface, VERDICT["warn"], pts)
        pygame.draw.polygon(surface, INK, pts, 1)
    elif verdict == "fail":
        rect = pygame.Rect(0, 0, 2 * r, 2 * r)
        rect.center = (round(x), round(y))
        pygame.draw.rect(surface, VERDICT["fail"], rect)
        pygame.draw.rect(surface, INK, rect, 1)
    else:
        c = VERDICT["critical"]
        pygame.draw.circle(surface, (255, 255, 255), (x, y), r * 1.3)
        pygame.draw.circle(surface, c, (x, y), r * 1.3, 2)
        d = r * 0.8
        pygame.draw.line(surface, c, (x - d, y - d), (x + d, y + d), 3)
        pygame.draw.line(surface, c, (x - d, y + d), (x + d, y - d), 3)
    if number is not None:
        text(surface, str(number), (x + r + 2, y - r - 2), 16, INK, True, "bottomleft")


def dashed(surface, colour, a, b, dash: float = 6, width: int = 1) -> None:
    (x0, y0), (x1, y1) = a, b
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return
    n = int(length // dash)
    for i in range(0, n, 2):
        t0, t1 = i * dash / length, min(1.0, (i + 1) * dash / length)
        pygame.draw.line(surface, colour, (x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0),
                         (x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1), width)
