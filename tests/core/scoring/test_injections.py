"""The injection-log CSV: parsing, defaults, and every kind of bad row named by FILE:ROW:COL."""

import math

import numpy as np
import pytest

from sim.errors import InputError
from sim.core.scoring.injections import Injections, parse_log, write_log

IDS = ("superficial-nappage", "median-nappage", "micro-papule")


def bad(text, allowed=IDS):
    with pytest.raises(InputError) as info:
        parse_log(text, "log.csv", IDS, allowed)
    return [str(p) for p in info.value.problems]


def test_parses_columns_and_defaults():
    text = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,bevel,device,t_s\n"
            "1,2,0.5,45,0.01,median-nappage,down,gun,3.5\n"
            "3,4,1.5,10,0.003,micro-papule,,,\n")
    inj = parse_log(text, "log.csv", IDS, IDS)
    assert len(inj) == 2
    assert inj.xy.tolist() == [[1, 2], [3, 4]]
    assert inj.technique.tolist() == [1, 2]
    assert inj.bevel_down.tolist() == [True, False]
    assert inj.gun.tolist() == [True, False]
    assert inj.t_s[0] == 3.5 and math.isnan(inj.t_s[1])


def test_technique_column_may_be_left_out_when_one_is_allowed():
    inj = parse_log("x_mm,y_mm,depth_mm,angle_deg,volume_ml\n1,2,0.5,45,0.01\n", "log.csv", IDS,
                    ("median-nappage",))
    assert inj.technique.tolist() == [1]


def test_technique_column_is_required_when_several_are_allowed():
    assert bad("x_mm,y_mm,depth_mm,angle_deg,volume_ml\n1,2,0.5,45,0.01\n") == [
        "log.csv:1:1: technique: the column is required: this scenario allows 3 techniques "
        "(superficial-nappage, median-nappage, micro-papule)"]


def test_unknown_and_missing_columns():
    assert bad("x_mm,y_mm,depth,angle_deg,volume_ml,technique\n") == [
        'log.csv:1:1: depth_mm: required column is missing',
        'log.csv:1:3: depth: unknown column "depth" (did you mean "depth_mm"?); columns: x_mm, y_mm, depth_mm, '
        'angle_deg, volume_ml, technique, t_s, bevel, device']


def test_bad_cells_are_all_reported_with_row_and_column():
    text = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique\n"
            "1,2,abc,45,0.01,median-nappage\n"
            "1,2,0.5,95,0.01,median-nappage\n"
            "1,2,0.5,45,nan,median-nappage\n"
            "1,2,0.5,45,0.01,median-nappag\n"
            "1,2,0.5,45\n")
    assert bad(text) == [
        "log.csv:2:3: depth_mm: not a number: 'abc'",
        "log.csv:3:4: angle_deg: 95 is out of range; expected 1 to 90",
        "log.csv:4:5: volume_ml: not a number: 'nan'",
        'log.csv:5:6: technique: unknown technique "median-nappag" (did you mean "median-nappage"?)',
        "log.csv:6:5: 4 cells where the header has 6",
    ]


def test_bad_choice():
    text = "x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,bevel\n1,2,0.5,45,0.01,median-nappage,sideways\n"
    assert bad(text) == ["log.csv:2:7: bevel: 'sideways' is not one of up, down"]


def test_empty_and_nul():
    assert bad("") == ["log.csv:1:1: the file is empty; it needs a header row: x_mm,y_mm,depth_mm,angle_deg,volume_ml"]
    assert bad("x_mm\0,y\n") == ["log.csv:1:1: contains NUL bytes: not a CSV text file"]


def test_header_only_is_an_empty_attempt():
    inj = parse_log("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique\n", "log.csv", IDS, IDS)
    assert len(inj) == 0 and inj.xy.shape == (0, 2)


def test_write_then_read_round_trips():
    inj = Injections.from_records([
        {"x_mm": 1.25, "y_mm": -2, "depth_mm": 0.5, "angle_deg": 45, "volume_ml": 0.01,
         "technique": "micro-papule", "bevel": "down", "device": "gun", "t_s": 2.0},
        {"x_mm": 3, "y_mm": 4, "depth_mm": 1.5, "angle_deg": 10, "volume_ml": 0.003,
         "technique": "superficial-nappage", "t_s": 4.5},
    ], IDS)
    back = parse_log(write_log(inj), "log.csv", IDS, IDS)
    for name in ("xy", "depth_mm", "angle_deg", "volume_ml", "technique", "t_s", "bevel_down", "gun"):
        assert np.array_equal(getattr(back, name), getattr(inj, name)), name


def test_row_and_size_limits_are_stated(tmp_path, monkeypatch):
    import sim.core.scoring.injections as injlog

    small = injlog.log_spec().model_copy(update={"max_rows": 3, "max_bytes": 400})
    monkeypatch.setattr(injlog, "log_spec", lambda: small)
    path = tmp_path / "big.csv"
    path.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique\n"
                    + "0,40,0.5,45,0.01,superficial-nappage\n" * 4)
    with pytest.raises(InputError) as info:
        injlog.read_log(path, ["superficial-nappage"], ["superficial-nappage"])
    assert str(info.value) == f"{path}:5:1: more than 3 rows; the limit is 3"
    path.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique\n" + "0,40,0.5,45,0.01,superficial-nappage\n" * 20)
    with pytest.raises(InputError) as info:
        injlog.read_log(path, ["superficial-nappage"], ["superficial-nappage"])
    assert "the limit for an injection log is 400 bytes (3 rows)" in str(info.value)


@pytest.mark.parametrize("cell", ["1_0", "\u0661\u0660", "\uff11\uff10", "nan", "inf", "0x10", " 1 2"])
def test_a_log_takes_numbers_in_ascii_digits_only(tmp_path, library, cell):
    # float() reads "1_0", Arabic-Indic and full-width digits as 10: a log does not
    from sim.core.scoring.injections import read_log
    from sim.errors import InputError

    path = tmp_path / "log.csv"
    path.write_text(f"x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique\n{cell},45,0.5,45,0.01,superficial-nappage\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_log(path, library.ids, ["superficial-nappage"])
    assert "x_mm" in str(err.value) and (":2:1:" in str(err.value))
