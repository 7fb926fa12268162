"""A list to choose one item from, with a scroll bar, the wheel and the keys, drawn inside its box.

pygame_gui's drop-down menu opens below its button and runs off the bottom of the window when the list is long
(the screening reasons: the last eight could never be chosen). A ChoiceList stays in its box whatever the window's
size: rows wrap to its width, the rest scrolls; the wheel and the scroll bar move it, a click chooses, and Up /
Down, Page Up / Page Down, Home / End move the choice and scroll it into view.
"""

from __future__ import annotations

import pygame

from sim.ui import style
from sim.ui.layers import Cached

BAR = 16  # [px] the scroll bar's width
PAD_X, PAD_Y = 8, 4  # [px] around a row's text
SIZE = 18  # the rows' text size (style.text sizes)
WHEEL_PX = 3 * 22  # [px] one wheel notch


class ScrollBar:
    """The track and thumb beside a view of `content` pixels of which `view` show, scrolled by `offset` [px]."""

    def __init__(self, rect: pygame.Rect):
        self.rect = pygame.Rect(rect)
        self.content = 0
        self.view = rect.height
        self.offset = 0
        self._drag: tuple[int, int] | None = None

    @property
    def max_offset(self) -> int:
        return max(0, self.content - self.view)

    def scroll_to(self, offset: float) -> None:
        self.offset = int(min(max(0, offset), self.max_offset))

    def thumb(self) -> pygame.Rect:
        track = self.rect
        if self.content <= self.view:
            return pygame.Rect(track)
        h = max(24, round(track.height * self.view / self.content))
        top = track.top + round((track.height - h) * self.offset / self.max_offset)
        return pygame.Rect(track.left, top, track.width, h)

    def handle(self, event) -> bool:
        """A press on the thumb drags it, a press on the track pages; True when the event was the bar's."""
        if not self.max_offset:
            return False
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and self.rect.collidepoint(event.pos):
            thumb = self.thumb()
            if thumb.collidepoint(event.pos):
                self._drag = (event.pos[1], self.offset)
            else:
                page = max(1, self.view - 24)
                self.scroll_to(self.offset + (page if event.pos[1] > thumb.centery else -page))
            return True
        if event.type == pygame.MOUSEMOTION and self._drag is not None:
            y0, offset0 = self._drag
            span = max(1, self.rect.height - self.thumb().height)
            self.scroll_to(offset0 + (event.pos[1] - y0) * self.max_offset / span)
            return True
        if event.type == pygame.MOUSEBUTTONUP and event.button == 1 and self._drag is not None:
            self._drag = None
            return True
        return False

    def draw(self, surf: pygame.Surface) -> None:
        if not self.max_offset:
            return
        pygame.draw.rect(surf, (236, 238, 241), self.rect)
        pygame.draw.rect(surf, (150, 158, 170), self.thumb().inflate(-4, -2), border_radius=4)


class ChoiceList:
    """Items (id, label) in a box; `selected` is the chosen id or None. handle() returns True for an event that
    was the list's; `changed` is set when the choice changed (the caller clears it)."""

    def __init__(self, rect: pygame.Rect, items: list[tuple[str, str]], selected: str | None = None,
                 offset: int = 0):
        self.rect = pygame.Rect(rect)
        self.items = items
        self.selected = selected
        self.changed = False
        self.hover: int | None = None
        self.body = pygame.Rect(self.rect.left + 1, self.rect.top + 1, self.rect.width - BAR - 2,
                                self.rect.height - 2)
        line_h = style.font(SIZE).get_linesize()
        self.rows: list[tuple[int, int, list[str]]] = []  # (top, height, lines) in the content [px]
        y = 0
        for _id, label in items:
            lines = style.wrap(label, self.body.width - 2 * PAD_X, SIZE)
            h = len(lines) * line_h + 2 * PAD_Y
            self.rows.append((y, h, lines))
            y += h
        self.bar = ScrollBar(pygame.Rect(self.rect.right - BAR - 1, self.rect.top + 1, BAR, self.rect.height - 2))
        self.bar.content, self.bar.view = y, self.body.height
        self.bar.scroll_to(offset)
        self._pic = Cached()

    @property
    def offset(self) -> int:
        return self.bar.offset

    @property
    def index(self) -> int | None:
        return next((k for k, (i, _l) in enumerate(self.items) if i == self.selected), None)

    def row_rect(self, k: int) -> pygame.Rect:
        """Where row k is on the screen now (it may be outside the box: scrolled away)."""
        top, h, _lines = self.rows[k]
        return pygame.Rect(self.body.left, self.body.top + top - self.offset, self.body.width, h)

    def visible(self, k: int) -> bool:
        return self.body.contains(self.row_rect(k))

    def row_at(self, pos) -> int | None:
        if not self.body.collidepoint(pos):
            return None
        y = pos[1] - self.body.top + self.offset
        return next((k for k, (top, h, _l) in enumerate(self.rows) if top <= y < top + h), None)

    def choose(self, k: int) -> None:
        k = min(max(0, k), len(self.items) - 1)
        if self.items[k][0] != self.selected:
            self.selected = self.items[k][0]
            self.changed = True
        top, h, _lines = self.rows[k]
        if top < self.offset:
            self.bar.scroll_to(top)
        elif top + h > self.offset + self.body.height:
            self.bar.scroll_to(top + h - self.body.height)

    def page_rows(self) -> int:
        """How many rows of the usual height a page holds."""
        line = self.rows[0][1] if self.rows else 1
        return max(1, self.body.height // line - 1)

    def key(self, key: int) -> bool:
        """Up / Down, Page Up / Page Down, Home / End move the choice; True when the key was one of them."""
        k = self.index
        moves = {pygame.K_DOWN: 1, pygame.K_UP: -1, pygame.K_PAGEDOWN: self.page_rows(),
                 pygame.K_PAGEUP: -self.page_rows()}
        if key in moves:
            self.choose(0 if k is None else k + moves[key])
        elif key == pygame.K_HOME:
            self.choose(0)
        elif key == pygame.K_END:
            self.choose(len(self.items) - 1)
        else:
            return False
        return True

    def handle(self, event) -> bool:
        if self.bar.handle(event):
            return True
        if event.type == pygame.MOUSEWHEEL:
            if self.rect.collidepoint(pygame.mouse.get_pos()):
                self.bar.scroll_to(self.offset - event.y * WHEEL_PX)
                return True
        elif event.type == pygame.MOUSEMOTION:
            self.hover = self.row_at(event.pos)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            k = self.row_at(event.pos)
            if k is not None:
                self.choose(k)
                return True
        return False

    def _render(self) -> pygame.Surface:
        pic = pygame.Surface(self.body.size)
        pic.fill((255, 255, 255))
        line_h = style.font(SIZE).get_linesize()
        for k, (top, h, lines) in enumerate(self.rows):
            y = top - self.offset
            if y + h < 0 or y > self.body.height:
                continue
            row = pygame.Rect(0, y, self.body.width, h)
            chosen = self.items[k][0] == self.selected
            if chosen:
                pygame.draw.rect(pic, style.ACCENT, row)
            elif k == self.hover:
                pygame.draw.rect(pic, (226, 232, 240), row)
            for n, line in enumerate(lines):
                style.text(pic, line, (PAD_X, y + PAD_Y + n * line_h), SIZE,
                           (255, 255, 255) if chosen else style.INK, chosen)
            pygame.draw.line(pic, (232, 234, 238), (0, y + h - 1), (self.body.width, y + h - 1), 1)
        return pic

    def draw(self, surf: pygame.Surface) -> None:
        pygame.draw.rect(surf, (255, 255, 255), self.rect)
        surf.blit(self._pic.get((self.offset, self.selected, self.hover), self._render), self.body)
        self.bar.draw(surf)
        pygame.draw.rect(surf, style.PANEL_EDGE, self.rect, 1)
