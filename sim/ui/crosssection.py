"""The side view under the cursor: the skin layers of that region to scale, the needle at its angle and depth,
and the danger structures that lie beneath."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pygame

from sim.core.anatomy.atlas import Atlas
from sim.ui import style


@dataclass
class Beneath:
    name: str
    depth_mm: float
    distance_mm: float
    margin_mm: float
    severity: str


def structures_beneath(atlas: Atlas, x_mm: float, y_mm: float, extra=()) -> list[Beneath]:
    """Danger structures whose lateral margin covers this point, shallowest first."""
    out = []
    xy = np.array([[x_mm, y_mm]])
    for s in list(atlas.structures) + list(extra):
        x0, y0, x1, y1 = s.bbox
        if not (x0 <= x_mm <= x1 and y0 <= y_mm <= y1):  # Structure.hits's own first test, without the arrays
            continue
        hit, dist, depth = s.hits(xy, np.array([np.inf]))
        if hit[0]:
            seg_margin = float(max(s.margin_a.max(), s.margin_b.max()))
            out.append(Beneath(s.name, float(depth[0]), float(dist[0]), seg_margin, s.severity))
    return sorted(out, key=lambda b: b.depth_mm)


def draw(surface: pygame.Surface, rect: pygame.Rect, region_name: str | None, skin: tuple[float, float, float] | None,
         depth_mm: float, angle_deg: float, beneath: list[Beneath], advancing: bool = False,
         target_depth_mm: float | None = None) -> list[pygame.Rect]:
    """Draw the cross-section into rect. skin = (epidermis, dermis, fat) in mm, or None off the map. Returns
    where its labels went (no two overlap)."""
    pygame.draw.rect(surface, style.PANEL, rect)
    pygame.draw.rect(surface, style.PANEL_EDGE, rect, 1)
    title = f"Cross-section: {region_name}" if region_name else "Cross-section: off the map"
    style.text(surface, title, (rect.left + 8, rect.top + 6), 20, style.INK, True)
    body = pygame.Rect(rect.left + 8, rect.top + 28, rect.width - 16, rect.height - 36)
    if skin is None:
        style.text(surface, "Move the cursor over the map.", body.topleft, 18, style.MUTED)
        return []
    clip = surface.get_clip()
    surface.set_clip(rect)
    try:
        return _draw_body(surface, body, skin, depth_mm, angle_deg, beneath, advancing, target_depth_mm)
    finally:
        surface.set_clip(clip)


def draw_eye(surface: pygame.Surface, rect: pygame.Rect, name: str, consequence: str) -> None:
    """The cross-section over the eye: no skin to inject, the globe right under the lid, and why no needle goes
    there."""
    pygame.draw.rect(surface, style.PANEL, rect)
    pygame.draw.rect(surface, style.PANEL_EDGE, rect, 1)
    style.text(surface, f"Cross-section: {name}", (rect.left + 8, rect.top + 6), 20, style.INK, True)
    body = pygame.Rect(rect.left + 8, rect.top + 30, rect.width - 16, rect.height - 38)
    y = style.paragraph(surface, "No needle here, at any depth.", body, 19, style.SEVERITY["critical"], True)
    y = style.paragraph(surface, consequence, pygame.Rect(body.left, y + 2, body.width, body.bottom - y), 17)
    pic = pygame.Rect(body.left, y + 8, body.width, body.bottom - y - 8)
    if pic.height < 30:
        return
    clip = surface.get_clip()
    surface.set_clip(pic)
    lid_y = pic.top + 6
    r = pic.height * 1.2
    pygame.draw.circle(surface, style.EYE_WHITE, (pic.centerx, lid_y + 4 + r), r)
    pygame.draw.circle(surface, style.SEVERITY["critical"], (pic.centerx, lid_y + 4 + r), r, 2)
    pygame.draw.line(surface, style.LAYER_COLOURS["dermis"], (pic.left, lid_y), (pic.right, lid_y), 4)
    style.text(surface, "the lid", (pic.right - 6, lid_y + 4), 15, style.MUTED, anchor="topright")
    style.text(surface, "the globe", (pic.centerx, lid_y + 4 + r * 0.35), 17, style.SEVERITY["critical"], True,
               "center")
    surface.set_clip(clip)


def _draw_body(surface, body, skin, depth_mm, angle_deg, beneath, advancing, target_depth_mm) -> list[pygame.Rect]:
    epi, derm, fat = skin
    deepest = max(epi + derm + fat + 1.5, depth_mm + 1.0, *(b.depth_mm + 1.0 for b in beneath[:2]), 3.0)
    deepest = min(deepest, 30.0)
    air = 22  # room above the skin for the needle's shaft
    scale_y = (body.height - air) / deepest
    top = body.top + air
    layers = (("epidermis", epi), ("dermis", derm), ("subcutaneous fat", fat), ("below", deepest - epi - derm - fat))
    y = float(top)
    taken: list[pygame.Rect] = []  # where the layers' labels go; a structure's label may take a layer's place
    layer_labels: list[tuple[pygame.Surface, pygame.Rect]] = []
    for (name, thick), colour in zip(layers, style.LAYER_COLOURS.values()):
        h = max(0.0, thick) * scale_y
        pygame.draw.rect(surface, colour, pygame.Rect(body.left, round(y), body.width, max(1, round(h + 0.5))))
        if name != "below":
            label = f"{name} {thick:.2f} mm"
        else:
            label = "muscle / fascia"
        if h >= 14:
            img = style.font(16).render(label, True, style.INK)
            taken.append(img.get_rect(topright=(body.right - 6, y + 2)))
            layer_labels.append((img, taken[-1]))
        y += h
    pygame.draw.line(surface, style.INK, (body.left, top), (body.right, top), 2)
    # depth ruler
    for mm in range(0, int(deepest) + 1):
        yy = top + mm * scale_y
        pygame.draw.line(surface, style.MUTED, (body.left, yy), (body.left + (8 if mm % 5 == 0 else 4), yy), 1)
        if mm % 2 == 0 and mm:
            style.text(surface, f"{mm}", (body.left + 10, yy), 14, style.MUTED, anchor="midleft")
    # structures beneath, each labelled below its line, else above it, else further down: never over another
    # structure's label; over a layer's label only when there is no other room (that layer's label then goes)
    placed: list[tuple[pygame.Surface, pygame.Rect]] = []
    for b in beneath:
        yy = top + b.depth_mm * scale_y
        if yy > body.bottom:
            continue
        c = style.SEVERITY[b.severity]
        cx = body.left + body.width // 3
        pygame.draw.circle(surface, c, (cx, yy + 5), 6)
        style.dashed(surface, c, (body.left + 30, yy), (body.right - 6, yy), 5, 1)
        text = style.fit(f"{b.name}, {b.depth_mm:.1f} mm deep", body.width - 40, 15)
        label = style.font(15).render(text, True, c)
        box = label.get_rect(topleft=(body.left + 30, yy + 3))
        trials = [t for t in (box, box.move(0, -box.height - 6), box.move(0, box.height + 2)) if body.contains(t)]
        free = [t for t in trials if not any(t.inflate(6, 2).colliderect(r) for _i, r in placed)]
        clear = [t for t in free if not any(t.inflate(6, 2).colliderect(r) for r in taken)]
        if clear or free:
            placed.append((label, (clear or free)[0].inflate(6, 2)))
    labels = [r for _i, r in placed]
    for img, rect in layer_labels:
        if not any(rect.colliderect(r) for _i, r in placed):
            surface.blit(img, rect)
            labels.append(rect)
    for img, rect in placed:
        pygame.draw.rect(surface, (255, 255, 255), rect)
        surface.blit(img, img.get_rect(center=rect.center))
    # the needle: enters at the surface and reaches depth_mm at the set angle (depth = sin(angle) x length)
    a = math.radians(max(1.0, min(90.0, angle_deg)))
    tip = (body.left + body.width // 3, top + depth_mm * scale_y)
    length_px = depth_mm * scale_y / math.sin(a) if depth_mm > 0 else 0
    # horizontal run on screen uses the same mm scale as the vertical
    dx = math.cos(a) * length_px
    entry = (tip[0] - dx, top)
    shaft_end = (entry[0] - math.cos(a) * air / math.sin(a), top - air)
    pygame.draw.line(surface, (120, 124, 130), shaft_end, entry, 3)
    pygame.draw.line(surface, (60, 64, 70), entry, tip, 3)
    pygame.draw.circle(surface, (200, 30, 45) if advancing else style.ACCENT, tip, 4)
    if target_depth_mm is not None:
        yy = top + target_depth_mm * scale_y
        style.dashed(surface, style.ACCENT, (body.left + 30, yy), (body.right - 6, yy), 3, 1)
    style.text(surface, f"tip {depth_mm:.2f} mm at {angle_deg:.0f} deg", (body.right - 6, body.top), 18,
               style.INK, True, anchor="topright")
    reached = [b for b in beneath if advancing and depth_mm >= b.depth_mm]
    if reached:  # hold mode: the tip is at a structure's depth
        red = style.SEVERITY["critical"]
        pygame.draw.rect(surface, red, body.inflate(6, 6), 4)
        label = style.font(18, True).render(f"STOP: at the {reached[0].name[:1].lower()}{reached[0].name[1:]}",
                                            True, (255, 255, 255))
        box = label.get_rect(midbottom=(body.centerx, body.bottom - 6))
        pygame.draw.rect(surface, red, box.inflate(12, 6), border_radius=4)
        surface.blit(label, box)
    return labels
