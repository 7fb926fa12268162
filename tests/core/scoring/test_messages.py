"""assets/messages.yaml is checked when it is read: a sentence the engine needs that is missing (a key renamed
in an edit) is a FILE:LINE:COL problem and exit status 2, not a KeyError when a trainee first needs it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_a_renamed_message_key_is_named_with_its_line(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "assets", data / "assets")
    shutil.copytree(ROOT / "scenarios", data / "scenarios")
    messages = data / "assets" / "messages.yaml"
    lines = messages.read_text().splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if line.startswith("  too_deep:"))
    lines[n] = lines[n].replace("too_deep:", "too_deeep:")
    messages.write_text("".join(lines))
    log = tmp_path / "log.csv"
    log.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique\n10,45,3,45,0.01,superficial-nappage\n")
    env = dict(os.environ, MESOSIM_DATA=str(data), XDG_CACHE_HOME=str(tmp_path / "cache"))
    run = subprocess.run([sys.executable, "-m", "sim", "score", "face-free", str(log)], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert f"{messages}:{n + 1}:3: depth.too_deeep: " in run.stderr, run.stderr
    assert any(f"{messages}:" in line and "depth.too_deep" in line and "missing" in line for line in lines)
