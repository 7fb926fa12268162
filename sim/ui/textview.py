"""A long styled text in a box with a scroll bar, of which only the lines in view are ever drawn.

pygame_gui's UITextBox renders its whole text into surfaces at once: the summary of 1,000 injections, every one
with its findings, made a text 72,000 pixels high and took 1.7 GB. A TextView keeps the text as wrapped lines of
styled runs (strings only) and draws the screenful in view, in the font and colours of the UI theme's text box.
"""

from __future__ import annotations

import functools
import re

import pygame

from sim.paths import font_file
from sim.ui import style
from sim.ui.layers import Cached

Run = tuple[str, tuple[int, int, int], bool]
"""A piece of text with its colour and whether it is bold."""

BG = (255, 255, 255)
THUMB = (184, 190, 200)
PAD_X, PAD_Y = 10, 8
BAR = 20
LINE_SPACING = 1.25  # pygame_gui's text box, whose look this keeps
WHEEL_LINES = 3


@functools.lru_cache(maxsize=8)
def theme_font(size: int, bold: bool = False) -> pygame.font.Font:
    """Noto Sans from assets/fonts: the same files as pygame_gui's own, the UI theme's text font."""
    return pygame.font.Font(str(font_file(bold=bold)), size)


class TextView:
    """Paragraphs of runs, wrapped to the box; the wheel (over the box), the thumb and the track scroll it."""

    def __init__(self, rect: pygame.Rect, paragraphs: list[list[Run]], size: int = 15):
        self.rect = pygame.Rect(rect)
        self.size = size
        self.line_h = round(theme_font(size).get_linesize() * LINE_SPACING)
        self.body = pygame.Rect(self.rect.left + PAD_X, self.rect.top + PAD_Y, self.rect.width - 2 * PAD_X - BAR,
                                self.rect.height - 2 * PAD_Y)
        self.lines: list[list[tuple[int, str, tuple[int, int, int], bool]]] = []
        self.para_lines: list[tuple[int, int]] = []  # each paragraph's lines [first, end)
        for runs in paragraphs:
            first = len(self.lines)
            self.lines.extend(self._wrap(runs))
            self.para_lines.append((first, len(self.lines)))
        self.highlight: tuple[int, int] | None = None
        """Paragraphs [first, end) shown tinted (the summary: the injection under the cursor on the map)."""
        self.offset = 0
        self._drag: tuple[int, int] | None = None  # (mouse y, offset) where a drag of the thumb began
        self._page = Cached()

    @property
    def max_offset(self) -> int:
        return max(0, len(self.lines) * self.line_h - self.body.height)

    def _wrap(self, runs: list[Run]) -> list[list[tuple[int, str, tuple[int, int, int], bool]]]:
        """Break a paragraph into lines no wider than the box; a line is [(x, text, colour, bold)]."""
        lines: list[list[tuple[int, str, tuple[int, int, int], bool]]] = [[]]
        x = 0
        for text, colour, bold in runs:
            font = theme_font(self.size, bold)
            for word in re.findall(r"\S+\s*|\s+", text):
                if lines[-1] and x + font.size(word.rstrip())[0] > self.body.width:
                    lines.append([])
                    x = 0
                    word = word.lstrip()
                    if not word:
                        continue
                line = lines[-1]
                if line and line[-1][2:] == (colour, bold):  # the same style goes on in one piece
                    line[-1] = (line[-1][0], line[-1][1] + word, colour, bold)
                else:
                    line.append((x, word, colour, bold))
                x += font.size(word)[0]
        return lines

    def para_at(self, pos) -> int | None:
        """The paragraph under a point of the screen, or None."""
        if not self.body.collidepoint(pos):
            return None
        line = (pos[1] - self.body.top + self.offset) // self.line_h
        return next((k for k, (a, b) in enumerate(self.para_lines) if a <= line < b), None)

    def show_para(self, k: int, end: int | None = None) -> None:
        """Scroll so that paragraphs [k, end) are in view (near the top when they were not)."""
        a = self.para_lines[k][0]
        b = self.para_lines[(end or k + 1) - 1][1]
        if a * self.line_h < self.offset or b * self.line_h > self.offset + self.body.height:
            self.scroll_to(a * self.line_h - self.line_h)

    def scroll_to(self, offset: float) -> None:
        self.offset = int(min(max(0, offset), self.max_offset))

    def _thumb(self) -> pygame.Rect:
        track = pygame.Rect(self.rect.right - BAR - 1, self.rect.top + 1, BAR, self.rect.height - 2)
        total = len(self.lines) * self.line_h
        if total <= self.body.height:
            return pygame.Rect(track.left, track.top, BAR, track.height)
        h = max(24, round(track.height * self.body.height / total))
        top = track.top + round((track.height - h) * self.offset / self.max_offset)
        return pygame.Rect(track.left, top, BAR, h)

    def handle(self, event) -> bool:
        """Scroll on the wheel over the box and on the scroll bar; True when the event was the view's."""
        if event.type == pygame.MOUSEWHEEL and self.rect.collidepoint(pygame.mouse.get_pos()):
            self.scroll_to(self.offset - event.y * WHEEL_LINES * self.line_h)
            return True
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and self.max_offset:
            thumb = self._thumb()
            if thumb.collidepoint(event.pos):
                self._drag = (event.pos[1], self.offset)
                return True
            if thumb.left <= event.pos[0] < thumb.right and self.rect.top <= event.pos[1] < self.rect.bottom:
                page = self.body.height - self.line_h
                self.scroll_to(self.offset + (page if event.pos[1] > thumb.centery else -page))
                return True
        if event.type == pygame.MOUSEMOTION and self._drag is not None:
            y0, offset0 = self._drag
            span = self.rect.height - 2 - self._thumb().height
            self.scroll_to(offset0 + (event.pos[1] - y0) * self.max_offset / max(1, span))
            return True
        if event.type == pygame.MOUSEBUTTONUP and event.button == 1 and self._drag is not None:
            self._drag = None
            return True
        return False

    def _render_page(self) -> pygame.Surface:
        page = pygame.Surface(self.body.size)
        page.fill(BG)
        if self.highlight is not None:
            a, b = self.para_lines[self.highlight[0]][0], self.para_lines[self.highlight[1] - 1][1]
            pygame.draw.rect(page, (226, 236, 250), (0, a * self.line_h - self.offset, self.body.width,
                                                     (b - a) * self.line_h))
        first = self.offset // self.line_h
        for k, line in enumerate(self.lines[first:first + self.body.height // self.line_h + 2]):
            y = (first + k) * self.line_h - self.offset + (self.line_h - theme_font(self.size).get_linesize()) // 2
            for x, text, colour, bold in line:
                page.blit(theme_font(self.size, bold).render(text, True, colour), (x, y))
        return page

    def draw(self, surf: pygame.Surface) -> None:
        pygame.draw.rect(surf, BG, self.rect)
        surf.blit(self._page.get((self.offset, self.highlight), self._render_page), self.body)
        pygame.draw.rect(surf, style.PANEL_EDGE, self.rect, 1)
        if self.max_offset:
            pygame.draw.rect(surf, style.PANEL, (self.rect.right - BAR - 1, self.rect.top + 1, BAR,
                                                 self.rect.height - 2))
            pygame.draw.rect(surf, THUMB, self._thumb().inflate(-4, -2), border_radius=4)
