"""Take the screenshots in docs/img/ from real sessions of the trainer.

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshots.py FACE_SCENARIO SCALP_SCENARIO [SCREENING]

Runs in whatever window the environment gives (a real X window under xvfb-run, or SDL_VIDEODRIVER=dummy), at
1280 x 800 (NAME.png) and at the smallest window, 1024 x 700 (NAME-1024x700.png): the picker, a screening
briefing with its reasons, and for each map a session that places the scenario's reference solution through the
event loop, hovers one point and saves the workspace (practice and exam), the cross-section, the question before
submitting, the summary and the saved attempt in the record viewer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pygame

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.core.scoring.injections import read_log  # noqa: E402
from sim.ui import screens  # noqa: E402
from sim.ui.app import App, Options  # noqa: E402
from sim.ui.events import REPLAY_INJECT  # noqa: E402

OUT = ROOT / "docs" / "img"


def frames(app, n=2):
    for _ in range(n):
        app.step(1 / 60)


def hover(app, xy_mm):
    pos = tuple(int(v) for v in app.screen.view.to_px(xy_mm))
    pygame.mouse.set_pos(pos)
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0)))
    frames(app, 3)


def demo(map_id: str) -> list[dict]:
    """A few injections for an exercise without a reference solution: mostly good, some not."""
    def rec(x, y, depth, angle, volume, technique, t):
        return {"x_mm": x, "y_mm": y, "depth_mm": depth, "angle_deg": angle, "volume_ml": volume,
                "technique": technique, "t_s": t, "bevel": "up", "device": "hand"}

    out = []
    if map_id == "face":
        for k, (x, y) in enumerate((x, y) for y in range(36, 60, 6) for x in range(-24, 25, 6)):
            out.append(rec(x, y, 0.5, 45, 0.01, "superficial-nappage", 2.0 * k))
        out += [rec(17, 30, 4.0, 45, 0.01, "medium-papule", 80), rec(-45, -45, 2.5, 45, 0.01, "medium-papule", 84),
                rec(-40, -40, 2.5, 45, 0.01, "medium-papule", 88), rec(52, 2, 0.8, 10, 0.003, "micro-papule", 92),
                rec(45, -40, 2.4, 45, 0.02, "median-nappage", 96)]
    else:
        for k, (x, y) in enumerate((x, y) for x in range(-30, 31, 15) for y in range(-40, 61, 12)):
            out.append(rec(x, y, 2.0, 45, 0.02, "scalp-microinjection", 3.0 * k))
        out.append(rec(62, 40, 4.5, 45, 0.02, "scalp-microinjection", 200))
    return out


SIZES = {"": (1280, 800), "-1024x700": (1024, 700)}


def briefing(ref: str, suffix: str, size) -> None:
    """A screening case with its decision taken and its reason chosen from the list."""
    app = App(Options(scenario=ref, size=size))
    frames(app)
    b = app.screen
    b.decide(b.screening.expected)
    b = app.screen
    k = [i for i, _label in b.reasons.items].index(b.screening.reasons[0])
    b.reasons.choose(k)
    b._reason_changed()
    frames(app, 3)
    app.screenshot(OUT / f"briefing-screening{suffix}.png")
    pygame.display.quit()


def session(ref: str, name: str, mode: str, hover_mm, danger: bool, tmp: Path, suffix: str = "",
            size=(1280, 800)):
    record = tmp / f"{name}-{mode}{suffix}.json"
    app = App(Options(scenario=ref, mode=mode, save=str(record), size=size))
    frames(app)
    if isinstance(app.screen, screens.BriefingScreen):
        if app.screen.screening:
            app.screen.decision, app.screen.reason = "go", app.screen.screening.reasons[0]
        app.screen.proceed()
        frames(app)
    ws = app.screen
    sol = ws.scenario.spec.solutions
    if sol is not None:
        log = Path(ws.scenario.file).parent / sol.reference.log
        recs = read_log(log, app.library.ids, ws.scenario.technique_ids).records()
    else:
        recs = demo(ws.scenario.spec.map)
    for rec in recs:
        pygame.event.post(pygame.event.Event(REPLAY_INJECT, record=rec))
        frames(app, 1)
    if danger:
        ws.toggle("danger")
    frames(app)
    hover(app, hover_mm)
    app.screenshot(OUT / f"{name}-{mode}{suffix}.png")
    if mode == "practice":
        shot = pygame.Surface(ws.xs_rect.size)
        shot.blit(app.window, (0, 0), ws.xs_rect)
        pygame.image.save(shot, str(OUT / f"{name}-cross-section{suffix}.png"))
        ws.ask_submit()
        frames(app)
        app.screenshot(OUT / f"{name}-submit-question{suffix}.png")
        ws.dialog = None
    ws.submit()
    frames(app, 3)
    hover(app, hover_mm)
    app.screenshot(OUT / f"{name}-summary-{mode}{suffix}.png")
    pygame.display.quit()
    if mode == "practice":
        viewer(record, name, suffix, size)


def viewer(record: Path, name: str, suffix: str, size) -> None:
    """The saved attempt in the record viewer (mesosim replay), at its last injection."""
    import json

    app = App(Options(view_record=json.loads(record.read_text()), view_record_path=str(record), size=size))
    frames(app)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_END, mod=0, unicode="", scancode=0))
    frames(app, 3)
    app.screenshot(OUT / f"{name}-viewer{suffix}.png")
    pygame.display.quit()


def main() -> None:
    face, scalp = sys.argv[1], sys.argv[2]
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "mesosim-shots"
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_DATA_HOME", str(tmp))
    screening = sys.argv[3] if len(sys.argv) > 3 else "screening-pregnancy"
    for suffix, size in SIZES.items():
        app = App(Options(picker_default=face, size=size))
        frames(app, 3)
        app.screenshot(OUT / f"picker{suffix}.png")
        pygame.display.quit()
        briefing(screening, suffix, size)
        session(face, "face", "practice", (17, 32), True, tmp, suffix, size)
        session(face, "face", "exam", (17, 32), False, tmp, suffix, size)
        session(scalp, "scalp", "practice", (30, 40), True, tmp, suffix, size)
        session(scalp, "scalp", "exam", (30, 40), False, tmp, suffix, size)
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
