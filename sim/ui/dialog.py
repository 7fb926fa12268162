"""A question in a box over the window, with its own buttons: Enter takes the focused choice (the first, until Tab
or the arrows move the focus), Esc the cancelling one.

It draws above every widget (from a screen's draw_overlay) and takes every event while it is open, so that nothing
behind it can be clicked by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pygame

from sim.ui import style

WIDTH = 560  # [px] at most; less in a narrow window
BUTTON_H = 42  # [px]


@dataclass
class Dialog:
    title: str
    lines: list[str]
    choices: list[tuple[str, str]]
    """(key, label); the first is the one Enter takes, drawn as the primary button."""
    cancel: str | None = None
    """The key Esc takes; None: the dialog can only be answered. A click outside the box does nothing."""
    buttons: dict[str, pygame.Rect] = field(default_factory=dict)
    box: pygame.Rect = field(default_factory=lambda: pygame.Rect(0, 0, 0, 0))
    hover: str | None = None
    focus: int = 0
    """The choice Enter takes: Tab, Left and Right move it."""

    def layout(self, size) -> None:
        w, h = size
        width = min(WIDTH, w - 40)
        inner = width - 48
        text_h = 34 + sum(len(style.wrap(line, inner, 19)) * (style.font(19).get_linesize() + 2) + 4
                          for line in self.lines)
        self.box = pygame.Rect(0, 0, width, 24 + text_h + 16 + BUTTON_H + 24)
        self.box.center = (w // 2, h // 2)
        gap = 10
        bw = min(200, (inner - gap * (len(self.choices) - 1)) // len(self.choices))
        x = self.box.right - 24 - bw * len(self.choices) - gap * (len(self.choices) - 1)
        self.buttons = {}
        for key, _label in self.choices:
            self.buttons[key] = pygame.Rect(x, self.box.bottom - 24 - BUTTON_H, bw, BUTTON_H)
            x += bw + gap

    def handle(self, event) -> str | None:
        """The key of the choice this event makes, or None. Every event is the dialog's while it is open."""
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                return self.choices[self.focus][0]
            step = {pygame.K_RIGHT: 1, pygame.K_LEFT: -1, pygame.K_TAB: -1 if event.mod & pygame.KMOD_SHIFT else 1}
            if event.key in step:
                self.focus = (self.focus + step[event.key]) % len(self.choices)
            if event.key == pygame.K_ESCAPE and self.cancel:
                return self.cancel
        elif event.type == pygame.MOUSEMOTION:
            self.hover = next((k for k, r in self.buttons.items() if r.collidepoint(event.pos)), None)
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            return next((k for k, r in self.buttons.items() if r.collidepoint(event.pos)), None)
        return None

    def draw(self, surf: pygame.Surface) -> None:
        if surf.get_size() != getattr(self, "_size", None):
            self._size = surf.get_size()
            self.layout(self._size)
        shade = pygame.Surface(surf.get_size(), pygame.SRCALPHA)
        shade.fill((0, 0, 0, 110))
        surf.blit(shade, (0, 0))
        pygame.draw.rect(surf, (255, 255, 255), self.box, border_radius=8)
        pygame.draw.rect(surf, style.PANEL_EDGE, self.box, 1, border_radius=8)
        inner = self.box.inflate(-48, -48)
        style.text(surf, self.title, inner.topleft, 26, style.INK, True)
        y = inner.top + 34
        for line in self.lines:
            y = style.paragraph(surf, line, pygame.Rect(inner.left, y, inner.width, self.box.bottom - y), 19) + 4
        for k, (key, label) in enumerate(self.choices):
            r = self.buttons[key]
            primary = k == 0
            bg = style.ACCENT if primary else (244, 245, 247)
            if key == self.hover:
                bg = (27, 79, 138) if primary else (226, 232, 240)
            pygame.draw.rect(surf, bg, r, border_radius=4)
            pygame.draw.rect(surf, (27, 79, 138) if primary else (184, 190, 200), r, 1, border_radius=4)
            if k == self.focus:
                pygame.draw.rect(surf, style.ACCENT, r.inflate(6, 6), 2, border_radius=6)
            hint = " (Enter)" if k == self.focus else " (Esc)" if key == self.cancel else ""
            colour = (255, 255, 255) if primary else style.INK
            caption = label + hint if style.font(19).size(label + hint)[0] < r.width - 12 else label
            style.text(surf, caption, r.center, 19, colour, primary, "center")
