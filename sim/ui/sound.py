"""The window's one sound: the alarm tone, made from its settings (assets/ui.yaml `alarm`) rather than a file.

A machine without sound (no device, SDL_AUDIODRIVER=dummy in the tests) keeps the rest of the alarm: the tone is
then simply not heard. `played` counts the tones asked for, heard or not.
"""

from __future__ import annotations

import numpy as np
import pygame

from sim.ui.settings import ui_settings

_tone: pygame.mixer.Sound | None = None
_ready: bool | None = None  # None: not tried yet
played = 0

RATE = 22050  # [Hz] samples per second


def prepare() -> bool:
    """Open the sound device once (when hold mode is first chosen, so that the first alarm is not late)."""
    global _tone, _ready
    if _ready is None:
        try:
            pygame.mixer.init(RATE, -16, 1, 512)
            a = ui_settings().alarm
            t = np.arange(int(RATE * a.duration_s)) / RATE
            fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)  # 10 ms in and out: no click
            wave = np.sin(2 * np.pi * a.tone_hz * t) * fade * a.volume * 32767
            samples = wave.astype(np.int16)
            channels = pygame.mixer.get_init()[2]
            if channels > 1:
                samples = np.repeat(samples[:, None], channels, axis=1)
            _tone = pygame.sndarray.make_sound(np.ascontiguousarray(samples))
            _ready = True
        except (pygame.error, ValueError):
            _ready = False
    return bool(_ready)


def alarm() -> None:
    global played
    played += 1
    if prepare() and _tone is not None:
        _tone.play()
