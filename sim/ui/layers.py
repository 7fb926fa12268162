"""Pictures kept from frame to frame: the frame loop blits them and draws one again only when what it shows changes.

`Cached` holds one picture under a key (the values it is drawn from); `MarkLayer` holds the map with the injection
marks over it, and when marks are only added (the usual click) draws just the new ones over the last picture.
"""

from __future__ import annotations

from typing import Callable, Hashable

import pygame

from sim.ui.mapview import MapView

_NONE = object()


class Cached:
    """One picture, drawn again only when its key changes. The key must hold every value the picture is drawn
    from, compared with ==."""

    def __init__(self):
        self._key: object = _NONE
        self._surface: pygame.Surface | None = None

    def get(self, key: Hashable, render: Callable[[], pygame.Surface]) -> pygame.Surface:
        if self._surface is None or key != self._key:
            self._surface = render()
            self._key = key
        return self._surface


class MarkLayer:
    """The map of a view with the injection marks drawn over it.

    It is drawn again when the map's picture is (MapView.background: zoom, pan, size, overlays) or when an earlier
    mark changes; when marks were only added, the new ones are painted over the last picture, which gives the same
    pixels as painting them all, since later marks are painted over earlier ones anyway.
    """

    def __init__(self, view: MapView):
        self.view = view
        self._surface: pygame.Surface | None = None
        self._base: pygame.Surface | None = None
        self._marks: tuple = ()
        self._looks: bytes = b""

    def draw(self, target: pygame.Surface, marks: tuple, looks: bytes,
             paint: Callable[[pygame.Surface, int], None]) -> None:
        """Blit the map with its marks at the view's place.

        marks: one object per mark in painting order (the records: compared, never read); looks: what else their
        look depends on, a byte per mark (the verdicts) or b"" when nothing; paint(surface, start) paints
        marks[start:] on the map's own surface (MapView.to_local pixels).
        """
        base = self.view.background()
        done = len(self._marks)
        if (self._surface is None or base is not self._base or marks[:done] != self._marks
                or looks[:len(self._looks)] != self._looks):
            self._surface = base.copy()
            done = 0
        if done < len(marks):
            paint(self._surface, done)
        self._base, self._marks, self._looks = base, marks, looks
        target.blit(self._surface, self.view.rect.topleft)
