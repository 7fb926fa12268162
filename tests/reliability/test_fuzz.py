"""Property-based tests: thousands of generated scenario files, injection logs and attempt records. Each is
accepted (exit 0) or refused with `FILE:LINE:COL: ...` lines and exit 2; none raises, none hangs.

The number of examples comes from the hypothesis profile (tests/conftest.py): `quick` (the default) runs 100 of
each kind; `long` (MESOSIM_TESTS=long, as CI runs) 3,400 of each, over 10,000 in all; `nightly`
(HYPOTHESIS_PROFILE=nightly) 100,000 of each.
"""

import contextlib
import copy
import io
import json
import math
import re
import signal
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from sim.cli import EXIT_INPUT, EXIT_OK, main

WORK = Path(tempfile.mkdtemp(prefix="mesosim-fuzz-"))
LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): .+")
SUMMARY = re.compile(r"^\d+ of \d+ scenario file\(s\) have problems$")


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: int):
    def _raise(*_):
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run(args: list[str], path: Path, ok_codes=(EXIT_OK, EXIT_INPUT)) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with time_limit(20), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    text = err.getvalue()
    assert code in ok_codes, (code, text)
    if code == EXIT_INPUT:
        lines = [ln for ln in text.splitlines() if not SUMMARY.match(ln)]
        assert lines, "exit 2 without a problem line"
        for ln in lines:
            m = LINE.match(ln)
            assert m and m["file"] == str(path), ln
    return code, text


# ------------------------------------------------------------------ values a user might write

SCALARS = st.one_of(
    st.integers(min_value=-10**15, max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e308, -1e308, 1e-320, 0.5, 100, 10**6]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    st.sampled_from(["forehead", "forhead", "temples", "cheek-left", "superficial-nappage", "median-napage",
                     "all", "hand", "gun", "exam", "liquid", "gel", "no-go", "pregnancy", ""]),
    st.booleans(),
    st.none(),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)
POINTS = st.lists(st.tuples(st.floats(-400, 400), st.floats(-400, 400)), min_size=0, max_size=7)

BASE_SCENARIO = {
    "id": "fuzzed", "title": "Fuzzed", "objective": "Survive.", "instructions": "None.", "map": "face",
    "techniques": ["superficial-nappage", "median-nappage"],
    "targets": [{"region": "forehead"}, {"name": "own", "polygon_mm": [[-10, 30], [10, 30], [10, 50], [-10, 50]]}],
    "product": {"name": "cocktail", "form": "liquid"}, "devices": ["hand", "gun"], "mode": "practice",
    "count": {"min": 10, "max": 40}, "time_limit_s": 600, "pass_mark": 80, "weights": {"danger": 5},
    "coverage": {"ok": 0.9, "warn": 0.7}, "total_volume_ml": {"min_ml": 0.1, "max_ml": 1.0},
    "patient": {"name": "P", "age_years": 40, "sex": "female", "complaint": "lines", "history": ["none"],
                "medications": [], "skin_overrides": {"forehead": {"epidermis_mm": 0.2, "dermis_mm": 1.2,
                                                                   "fat_mm": 2}},
                "screening": {"expected": "go", "reasons": ["no-contraindication"], "explanation": "x",
                              "source": "y"}},
    "no_go": [{"name": "mole", "at_mm": [20, 40], "radius_mm": 3, "severity": "high"}],
    "partings": [{"name": "p", "points_mm": [[0, 60], [0, 20]]}],
    "variation": {"seed": 3},
}


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _set(obj, path, value):
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


def _delete(obj, path):
    for p in path[:-1]:
        obj = obj[p]
    del obj[path[-1]]


@st.composite
def mutated(draw, base):
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, 4))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["set", "set", "delete", "add", "points"]))
        try:
            if op == "set":
                _set(data, path, draw(VALUES))
            elif op == "delete":
                _delete(data, path)
            elif op == "add" and isinstance(data, dict):
                data[draw(st.text(min_size=1, max_size=10))] = draw(VALUES)
            elif op == "points":
                _set(data, path, [list(p) for p in draw(POINTS)])
        except (KeyError, IndexError, TypeError):
            pass
    return data


def _yaml_text(data) -> str:
    yaml = YAML(typ="safe", pure=True)
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


@st.composite
def corrupted(draw, text: str) -> bytes:
    raw = text.encode("utf-8")
    op = draw(st.sampled_from(["none", "none", "bom", "truncate", "garbage", "flip", "long", "empty", "binary"]))
    if op == "bom":
        return b"\xef\xbb\xbf" + raw
    if op == "truncate":
        return raw[:draw(st.integers(0, len(raw)))]
    if op == "garbage":
        i = draw(st.integers(0, len(raw)))
        return raw[:i] + draw(st.binary(max_size=40)) + raw[i:]
    if op == "flip" and raw:
        i = draw(st.integers(0, len(raw) - 1))
        return raw[:i] + bytes([draw(st.integers(0, 255))]) + raw[i + 1:]
    if op == "long":
        return raw + b"\nnote: " + b"x" * draw(st.integers(10_000, 200_000)) + b"\n"
    if op == "empty":
        return b""
    if op == "binary":
        return draw(st.binary(max_size=300))
    return raw


@given(st.data())
def test_scenario_files(data):
    doc = data.draw(mutated(BASE_SCENARIO))
    try:
        text = _yaml_text(doc)
    except Exception:  # a value the YAML writer cannot represent: write the JSON form (JSON is YAML)
        text = json.dumps(doc, default=str)
    raw = data.draw(corrupted(text))
    path = WORK / "scenario.yaml"
    path.write_bytes(raw)
    run(["validate", str(path)], path)


# ------------------------------------------------------------------ injection logs

COLUMNS = ["x_mm", "y_mm", "depth_mm", "angle_deg", "volume_ml", "technique", "t_s", "bevel", "device"]
CELLS = st.one_of(
    st.sampled_from(["0", "45", "0.5", "0.01", "-3", "1e400", "-1e400", "nan", "NaN", "inf", "-inf", "", " ",
                     "abc", "1,5", "0x10", "superficial-nappage", "micro-papule", "unknown-tech", "up", "down",
                     "hand", "gun", "sideways", "9" * 400, "\"quoted\"", "1e-320"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
)


@st.composite
def logs(draw) -> str:
    header = draw(st.one_of(st.just(COLUMNS),
                            st.lists(st.sampled_from(COLUMNS + ["colour", "X_MM", ""]), max_size=10)))
    rows = [",".join(header)]
    for _ in range(draw(st.integers(0, 25))):
        if draw(st.booleans()):
            good = {"x_mm": "0", "y_mm": str(draw(st.integers(-120, 80))), "depth_mm": "0.5", "angle_deg": "45",
                    "volume_ml": "0.01", "technique": "superficial-nappage", "t_s": "1", "bevel": "up",
                    "device": "hand"}
            cells = [good.get(h, "") for h in header]
        else:
            cells = [draw(CELLS).replace("\n", " ") for _ in range(draw(st.integers(0, len(header) + 2)))]
        rows.append(",".join(cells))
    return "\n".join(rows) + "\n"


@given(st.data())
def test_injection_logs(data):
    raw = data.draw(corrupted(data.draw(logs())))
    path = WORK / "log.csv"
    path.write_bytes(raw)
    run(["score", "face-free", str(path), "--format", "json"], path)


# ------------------------------------------------------------------ attempt records

def _base_record() -> dict:
    path = WORK / "base.csv"
    path.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n0,40,0.5,45,0.01,superficial-nappage,1\n"
                    "4,40,0.5,45,0.01,superficial-nappage,2\n17,30,4.0,45,0.01,medium-papule,3\n")
    out = WORK / "base.json"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["score", "face-free", str(path), "--save", str(out), "--trainee", "Fuzz",
                     "--db", f"sqlite:///{WORK / 'gb.sqlite'}"]) == EXIT_OK
    return json.loads(out.read_text())


BASE_RECORD = _base_record()


@given(st.data())
def test_attempt_records(data):
    rec = data.draw(mutated(BASE_RECORD))
    text = json.dumps(rec, default=str, allow_nan=True)
    raw = data.draw(corrupted(text))
    path = WORK / "record.json"
    path.write_bytes(raw)
    run(["verify", str(path)], path, ok_codes=(EXIT_OK, 1))  # 1: not verified
    run(["rescore", str(path)], path)
    run(["report", str(path), "--format", "json"], path)
    run(["report", str(path), "--format", "csv"], path)


def test_unchanged_record_is_verified_and_rescored_identically():
    path = WORK / "same.json"
    from sim.core.records.signing import record_text

    path.write_text(record_text(BASE_RECORD))  # the form mesosim writes: any other does not verify
    code, _ = run(["verify", str(path)], path, ok_codes=(EXIT_OK,))
    out1, out2 = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out1):
        main(["rescore", str(path)])
    with contextlib.redirect_stdout(out2):
        main(["rescore", str(path)])
    assert out1.getvalue() == out2.getvalue() == json.dumps(BASE_RECORD["report"], indent=2) + "\n"
    assert not math.isnan(BASE_RECORD["report"]["score"])
