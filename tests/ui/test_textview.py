"""The scrolled text of the summary: wrapped within its box, all of it reachable, only the lines in view drawn."""

import pygame
import pytest

from sim.ui import screens, style
from sim.ui.textview import TextView, theme_font

WORDS = "the tip at 4.2 mm reaches the superficial temporal artery; bruising of the temple".split()


@pytest.fixture
def window():
    pygame.display.init()
    pygame.font.init()
    return pygame.display.set_mode((800, 600))


def paragraphs(n):
    return [[(f"#{k + 1}: ", style.INK, True), (" ".join(WORDS[: 3 + k % len(WORDS)] * 2), style.MUTED, False)]
            for k in range(n)]


def test_lines_fit_the_box_and_keep_every_word(window):
    paras = paragraphs(40)
    view = TextView(pygame.Rect(10, 10, 300, 200), paras)
    for line in view.lines:
        for x, text, _colour, bold in line:
            assert x + theme_font(15, bold).size(text.rstrip())[0] <= view.body.width
    words = [w for line in view.lines for _x, text, _c, _b in line for w in text.split()]
    assert words == [w for para in paras for text, _c, _b in para for w in text.split()]


def test_wheel_track_and_thumb_scroll_within_the_text(window):
    view = TextView(pygame.Rect(10, 10, 300, 200), paragraphs(60))
    assert view.max_offset > 0
    top = pygame.image.tobytes(_drawn(window, view), "RGB")
    pygame.mouse.set_pos((100, 100))
    view.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=-1))
    assert view.offset == 3 * view.line_h and pygame.image.tobytes(_drawn(window, view), "RGB") != top
    view.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=5))
    assert view.offset == 0 and pygame.image.tobytes(_drawn(window, view), "RGB") == top
    thumb = view._thumb()
    view.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(thumb.centerx, thumb.bottom + 5), button=1))
    assert view.offset == view.body.height - view.line_h  # a page down, less a line
    thumb = view._thumb()
    view.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=thumb.center, button=1))
    view.handle(pygame.event.Event(pygame.MOUSEMOTION, pos=(thumb.centerx, 1000), rel=(0, 0), buttons=(1, 0, 0)))
    view.handle(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(thumb.centerx, 1000), button=1))
    assert view.offset == view.max_offset  # dragged to the end: the last line is in view
    first = view.offset // view.line_h
    assert len(view.lines) - 1 <= first + view.body.height // view.line_h


def test_summary_of_a_long_attempt_lists_every_injection(make_app, tmp_path):
    d = make_app(scenario="face-free")
    d.key(pygame.K_RETURN)
    ws = d.screen
    for k in range(60):
        ws.place(-30 + (k % 12) * 5, 20 + (k // 12) * 6)
    d.submit()
    summary = d.screen
    assert isinstance(summary, screens.SummaryScreen)
    text = ["".join(t for _x, t, _c, _b in line) for line in summary.findings.lines]
    assert sum(line.startswith("[") and "Superficial nappage at" in line for line in text) == 60
    box = summary.findings.rect
    before = pygame.image.tobytes(d.app.window.subsurface(box), "RGB")
    pygame.mouse.set_pos(box.center)
    pygame.event.post(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=-2, flipped=False))
    d.frames(1)
    assert summary.findings.offset > 0 and pygame.image.tobytes(d.app.window.subsurface(box), "RGB") != before


def _drawn(window, view):
    window.fill((0, 0, 0))
    view.draw(window)
    return window.subsurface(view.rect)
