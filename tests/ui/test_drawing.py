"""The workspace keeps its pictures between frames (sim.ui.layers): whatever changes what they show must show on the
next frame, and a picture drawn step by step must equal one drawn at once."""

import numpy as np
import pygame

from sim.ui import screens, style

AWAY = (5, 300)  # a point left of the face: the cursor there covers no mark and no probe


def workspace(make_app, **kw):
    d = make_app(scenario="face-free", **kw)
    d.key(pygame.K_RETURN)
    assert isinstance(d.screen, screens.WorkspaceScreen)
    return d


def picture(d, rect) -> bytes:
    return pygame.image.tobytes(d.app.window.subsurface(rect), "RGB")


def below_top_bar(d):
    """Everything but the top bar, whose clock moves on by itself."""
    w, h = d.app.size
    return pygame.Rect(0, screens.TOP_BAR, w, h - screens.TOP_BAR)


def test_a_mark_appears_on_add_and_goes_on_undo(make_app):
    d = workspace(make_app)
    ws = d.screen
    d.click_mm((-5, 45))
    d.move(AWAY)
    d.frames(130)  # no toast left
    before, findings = picture(d, below_top_bar(d)), picture(d, ws.list_rect)
    at = d.px((0, 45))
    d.click_mm((0, 45))
    d.move(AWAY)
    assert d.pixel(at) == style.VERDICT["ok"] and picture(d, ws.list_rect) != findings
    d.key(pygame.K_z, pygame.KMOD_CTRL)
    d.frames(130)  # the "undone" toast is gone
    assert len(ws.attempt) == 1 and d.pixel(at) != style.VERDICT["ok"]
    assert picture(d, below_top_bar(d)) == before  # the map, the marks, the findings and the panel as they were


def test_an_undo_and_a_click_in_the_same_frame(make_app):
    d = workspace(make_app)
    d.click_mm((-5, 45))
    d.click_mm((0, 45))
    d.move(AWAY)
    undone, placed = d.px((0, 45)), d.px((-3, 45))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_z, mod=pygame.KMOD_CTRL, unicode="",
                                         scancode=0))
    for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
        pygame.event.post(pygame.event.Event(kind, pos=placed, button=1))
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=AWAY, rel=(0, 0), buttons=(0, 0, 0)))
    d.frames(1)
    assert list(d.screen.attempt.evaluation.verdict) == [0, 0]  # as many marks, as many verdicts, as before
    assert d.pixel(placed) == style.VERDICT["ok"] and d.pixel(undone) != style.VERDICT["ok"]


def test_an_earlier_mark_takes_the_verdict_a_later_one_gives_it(make_app):
    d = workspace(make_app)
    ws = d.screen
    ws.view.zoom_at(d.px((0, 45)), 4.0)  # 1.5 mm apart is then about 20 px: the two marks do not overlap
    d.click_mm((0, 45))
    d.move(AWAY)
    first = d.px((0, 45))
    assert d.pixel(first) == style.VERDICT["ok"]
    d.click_mm((1.5, 45))  # too close: both are warned about the spacing
    d.move(AWAY)
    assert list(ws.attempt.evaluation.verdict) == [1, 1]
    assert d.pixel(first) == style.VERDICT["warn"] and d.pixel(d.px((1.5, 45))) == style.VERDICT["warn"]


def test_marks_added_one_by_one_equal_marks_drawn_at_once(make_app):
    d = workspace(make_app)
    ws = d.screen
    for k in range(12):
        d.click_mm((-30 + 5 * k, 40 + (k % 3) * 4))
    d.move(AWAY)
    d.frames(130)
    stepwise = picture(d, ws.view.rect)
    ws.marks = type(ws.marks)(ws.view)  # a new layer: every mark painted in one go
    d.frames(1)
    assert picture(d, ws.view.rect) == stepwise


def test_zoom_pan_and_fit_move_the_marks_with_the_map(make_app):
    d = workspace(make_app)
    ws = d.screen
    d.click_mm((0, 45))
    d.move(AWAY)
    fitted = picture(d, ws.view.rect)
    old = d.px((0, 45))
    ws.view.zoom_at(d.px((20, 20)), 2.0)
    d.frames(1)
    new = d.px((0, 45))
    assert new != old and d.pixel(new) == style.VERDICT["ok"] and d.pixel(old) != style.VERDICT["ok"]
    ws.view.pan_px(40, -30)
    d.frames(1)
    assert d.pixel(d.px((0, 45))) == style.VERDICT["ok"] and d.pixel(new) != style.VERDICT["ok"]
    d.key(pygame.K_f)
    d.move(AWAY)
    assert picture(d, ws.view.rect) == fitted


def test_overlays_toggle_under_the_marks(make_app):
    d = workspace(make_app)
    ws = d.screen
    d.click_mm((0, 45))
    probe = d.px((17, 40))  # on the left supratrochlear artery
    d.move(AWAY)
    plain = d.pixel(probe)
    d.key(pygame.K_v)
    d.move(AWAY)
    assert ws.view.show_danger and d.pixel(probe) != plain and d.pixel(d.px((0, 45))) == style.VERDICT["ok"]
    d.key(pygame.K_v)
    d.move(AWAY)
    assert d.pixel(probe) == plain and d.pixel(d.px((0, 45))) == style.VERDICT["ok"]


def test_resize_redraws_the_map_and_its_marks(make_app):
    d = workspace(make_app)
    d.click_mm((0, 45))
    pygame.display.set_mode((1600, 900), pygame.RESIZABLE)
    pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, size=(1600, 900), w=1600, h=900))
    d.frames(2)
    d.move(AWAY)
    ws = d.screen
    assert ws.view.rect.width == 1600 - screens.SIDE
    assert d.pixel(d.px((0, 45))) == style.VERDICT["ok"]


def test_needle_settings_redraw_the_panel_and_the_cross_section(make_app):
    d = workspace(make_app)
    ws = d.screen
    d.move(d.px((0, 45)))
    panel, xs = picture(d, ws.panel_rect), picture(d, ws.xs_rect)
    d.key(pygame.K_UP, pygame.KMOD_SHIFT)  # 1 mm deeper
    assert picture(d, ws.panel_rect) != panel and picture(d, ws.xs_rect) != xs
    d.key(pygame.K_DOWN, pygame.KMOD_SHIFT)
    assert picture(d, ws.panel_rect) == panel and picture(d, ws.xs_rect) == xs
    d.move(d.px((17, 40)))  # over the artery in practice: it is drawn beneath
    assert picture(d, ws.xs_rect) != xs


def test_the_tooltip_follows_the_hovered_mark_and_its_findings(make_app):
    d = workspace(make_app)
    ws = d.screen
    d.click_mm((0, 45))
    d.move(AWAY)
    box = ws.view.rect.copy()
    away = picture(d, box)
    at = d.px((0, 45))
    d.move(at)
    hovered = picture(d, box)
    inside = (at[0] + 100, at[1] + 19)  # in the tooltip's box, above its first line
    assert hovered != away and d.pixel(inside) == (255, 255, 255)
    d.key(pygame.K_z, pygame.KMOD_CTRL)
    d.frames(130)
    d.move(at)
    assert not len(ws.attempt) and d.pixel(inside) != (255, 255, 255)


def test_target_shading_stops_at_the_lid_margin(make_app):
    """The lower lid is a target, but no needle goes within 2 mm of the lid margin: the shading says so."""
    d = make_app(scenario="periorbital-micro-papules")
    d.key(pygame.K_RETURN)
    d.move(AWAY)
    ws = d.screen
    ws.view.zoom_at(d.px((31, -5)), 4.0)
    d.frames(1)
    assert ws.scenario.target_index.exact(np.array([[31.0, -5.3], [31.0, -7.5]])).min() >= 0
    assert d.pixel(d.px((31, -5.3))) == style.SKIN  # 1 mm below the fissure: a target, but not shaded
    assert d.pixel(d.px((31, -7.5))) != style.SKIN  # 3.2 mm below it: shaded


def test_cross_section_labels_never_overlap(make_app):
    """'Angular artery' was drawn over 'subcutaneous fat', and two vessels at 4.6 and 5.0 mm over each other."""
    from sim.ui import crosssection

    make_app(scenario="face-free")
    surf = pygame.Surface((360, 200))
    beneath = [crosssection.Beneath(name, depth, 0.0, 5.0, "high") for name, depth in
               (("Angular artery", 2.38), ("Facial nerve, frontal branch (left)", 4.6),
                ("Zygomaticotemporal foramen (left)", 5.0), ("A very long name of a structure that would run past the "
                                                             "edge of the panel", 3.0))]
    for skin in ((0.1, 1.1, 1.2), (0.1, 2.0, 0.5), (0.2, 1.0, 6.0)):
        rects = crosssection.draw(surf, surf.get_rect(), "Cheek", skin, 1.0, 45, beneath)
        assert rects
        for k, a in enumerate(rects):
            assert surf.get_rect().contains(a)
            assert not any(a.colliderect(b) for b in rects[k + 1:])


def test_the_legend_keeps_to_its_width():
    from sim.ui.legend import legend

    pygame.font.init()
    wide = legend(True, True, True, True, True, max_width=2000)
    narrow = legend(True, True, True, True, True, max_width=400)
    assert narrow.get_width() <= 400 and narrow.get_height() > wide.get_height()


def test_a_pan_cannot_lose_the_map(make_app):
    d = workspace(make_app)
    view = d.screen.view
    for _ in range(50):
        view.pan_px(-5000, 5000)
    x0, y0, x1, y1 = view.atlas.bounds_mm
    assert x0 <= view.centre[0] <= x1 and y0 <= view.centre[1] <= y1
    d.frames(1)  # and it still draws at once
