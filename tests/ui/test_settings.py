"""assets/ui.yaml is validated on load: a renamed key stops `mesosim run` with exit 2 and ui.yaml's line."""

import shutil

from sim.cli import main
from sim.paths import assets_dir, scenarios_dir
from sim.ui.settings import UiSettings, ui_settings


def test_shipped_settings_are_valid():
    ui_settings.cache_clear()
    assert isinstance(ui_settings(), UiSettings) and ui_settings().needle.depth_step_mm > 0


def test_renamed_key_is_reported_with_file_line_and_field(tmp_path, monkeypatch, capsys):
    root = tmp_path / "data"
    shutil.copytree(assets_dir(), root / "assets")
    shutil.copytree(scenarios_dir(), root / "scenarios")
    ui = root / "assets" / "ui.yaml"
    text = ui.read_text().replace("  depth_step_mm:", "  depth_stepmm:", 1)
    ui.write_text(text)
    line = next(k for k, row in enumerate(text.splitlines(), 1) if row.startswith("  depth_stepmm:"))
    log = tmp_path / "a.csv"
    log.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s,bevel,device\n"
                   "0,40,0.5,45,0.01,superficial-nappage,1,up,hand\n")
    monkeypatch.setenv("MESOSIM_DATA", str(root))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user"))
    ui_settings.cache_clear()
    try:
        assert main(["run", "face-free", "--replay", str(log)]) == 2
    finally:
        ui_settings.cache_clear()
    err = capsys.readouterr().err
    assert f"{ui}:{line}:" in err
    assert "depth_stepmm" in err  # the unknown key, with its near miss
    assert "depth_step_mm" in err  # the missing one


def test_a_range_out_of_order_is_refused(tmp_path):
    import pytest

    from sim.core.files.model import validate
    from sim.core.files.yamlio import load_yaml_file
    from sim.errors import InputError

    ui = tmp_path / "ui.yaml"
    ui.write_text((assets_dir() / "ui.yaml").read_text().replace("angle_range_deg: [5, 90]", "angle_range_deg: [90, 5]"))
    with pytest.raises(InputError) as info:
        validate(UiSettings, load_yaml_file(ui))
    assert "angle_range_deg" in str(info.value.problems[0])
