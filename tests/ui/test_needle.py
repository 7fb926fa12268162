"""The needle's rules without a window: each step's clamp, the hand-mode advance and the mesoinjector's timing."""

import sys

from sim.ui.needle import Needle, gun_shots, hand_advance


def test_needle_imports_no_pygame():
    import subprocess

    code = "import sys, sim.ui.needle; print('pygame' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_steps_are_clamped_and_rounded():
    n = Needle("t", 1.0, 45.0, 0.01)
    n.adjust("depth", -5.0, 0.1, 20.0)
    assert n.depth_mm == 0.1
    n.adjust("depth", 0.1 + 0.2, 0.1, 20.0)
    assert n.depth_mm == 0.4  # rounded to 0.01 mm, not 0.4000000000000001
    n.adjust("angle", 100.0, 5.0, 90.0)
    assert n.angle_deg == 90.0
    n.adjust("volume", -1.0, 0.001, 0.5)
    assert n.volume_ml == 0.001
    n.adjust("volume", 0.00123, 0.001, 0.5)
    assert n.volume_ml == round(0.001 + 0.00123, 4)


def test_hand_mode_advances_with_time_up_to_its_limit():
    assert hand_advance(0.0, 2.0, 0.25, 20.0) == 0.5
    assert hand_advance(19.9, 2.0, 1.0, 20.0) == 20.0
    assert Needle("t", 1, 45, 0.01, device="hand", control="hand").hand_held
    assert not Needle("t", 1, 45, 0.01, device="gun", control="hand").hand_held


def test_gun_fires_at_its_rate_and_keeps_the_remainder():
    assert gun_shots(0.0, 0.5, 60) == (0, 0.5)
    shots, left = gun_shots(0.5, 2.75, 60)  # 3.25 s at one a second
    assert shots == 3 and abs(left - 0.25) < 1e-12
    total, timer = 0, 0.0
    for _ in range(60):  # one second at 60 frames
        shots, timer = gun_shots(timer, 1 / 60, 120)
        total += shots
    assert total in (1, 2)
