"""An instructor's library: the user folder, MESOSIM_LIBRARY and --library, found by id beside the shipped
exercises, validated on load, and an id given by two files refused naming both."""

import os
import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.paths import user_library_dir

ROOT = Path(__file__).resolve().parents[2]

EXERCISE = """\
id: {id}
title: {title}
objective: Place superficial nappage over the forehead.
map: face
techniques: [superficial-nappage]
targets: [{{region: forehead}}]
product: {{name: Hyaluronic acid cocktail, form: liquid}}
devices: [hand]
mode: practice
pass_mark: 80
"""
LOG = "x_mm,y_mm,depth_mm,angle_deg,volume_ml\n0,45,0.5,45,0.01\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A user data folder of this test's own, and no MESOSIM_LIBRARY."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("MESOSIM_LIBRARY", raising=False)
    yield tmp_path
    main(["techniques"])  # leaves no --library folder set for the next test


def _write(folder: Path, name: str, sid: str, title: str = "My forehead") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(EXERCISE.format(id=sid, title=title))
    return path


def _score(capsys, *args):
    code = main(["score", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_exercise_of_the_user_folder_is_found_by_id(home, capsys):
    log = home / "a.csv"
    log.write_text(LOG)
    assert user_library_dir() == home / "data" / "mesosim" / "scenarios"
    _write(user_library_dir() / "face", "mine.yaml", "my-forehead")
    code, out, err = _score(capsys, "my-forehead", str(log), "--format", "text")
    assert code == 0, err
    assert out.splitlines()[0] == "My forehead (my-forehead, face, practice)"


def test_library_folders_from_the_option_and_the_environment(home, capsys, monkeypatch):
    log = home / "a.csv"
    log.write_text(LOG)
    _write(home / "centre", "a.yaml", "centre-forehead", "Centre forehead")
    _write(home / "own", "b.yaml", "own-forehead", "Own forehead")
    code, _, err = _score(capsys, "centre-forehead", str(log))
    assert code == 2
    assert err == ('centre-forehead:0:0: no scenario file, shipped scenario or scenario of your library with id '
                   '"centre-forehead"\n')
    assert _score(capsys, "centre-forehead", str(log), "--library", str(home / "centre"))[0] == 0
    monkeypatch.setenv("MESOSIM_LIBRARY", os.pathsep.join([str(home / "centre"), str(home / "own")]))
    assert _score(capsys, "centre-forehead", str(log))[0] == 0
    assert _score(capsys, "own-forehead", str(log))[0] == 0
    code, _, err = _score(capsys, "own-forehed", str(log))
    assert code == 2 and err == (
        f'own-forehed:0:0: no scenario file, shipped scenario or scenario of your library ({home / "centre"}, '
        f'{home / "own"}) with id "own-forehed" (did you mean "own-forehead"?)\n')


def test_a_library_folder_that_is_not_there(home, capsys, monkeypatch):
    log = home / "a.csv"
    log.write_text(LOG)
    code, _, err = _score(capsys, "face-free", str(log), "--library", str(home / "nope"))
    assert code == 2
    assert err == f"{home / 'nope'}:0:0: no such folder (named in --library as a folder of exercises)\n"
    monkeypatch.setenv("MESOSIM_LIBRARY", str(log))
    code, _, err = _score(capsys, "face-free", str(log))
    assert code == 2 and err == f"{log}:0:0: is not a folder (named in MESOSIM_LIBRARY as a folder of exercises)\n"


def test_a_library_file_is_validated_when_it_is_loaded(home, capsys):
    log = home / "a.csv"
    log.write_text(LOG)
    path = _write(home / "lib", "bad.yaml", "bad-forehead")
    path.write_text(path.read_text().replace("region: forehead", "region: forhead"))
    code, _, err = _score(capsys, "bad-forehead", str(log), "--library", str(home / "lib"))
    assert code == 2
    assert err == (f'{path}:6:20: targets[0].region: unknown region "forhead" of the face map (did you mean '
                   '"forehead"?)\n')
    path.write_text("id: broken\ntitle: [\n")
    code, _, err = _score(capsys, "broken", str(log), "--library", str(home / "lib"))
    assert code == 2 and err == (
        f'broken:0:0: no scenario file, shipped scenario or scenario of your library ({home / "lib"}) with id '
        f'"broken"; these files of your library cannot be read: {path} (mesosim validate says why)\n')


def test_two_files_with_one_id_are_refused_naming_both(home, capsys):
    log = home / "a.csv"
    log.write_text(LOG)
    shipped = ROOT / "scenarios" / "face" / "forehead-nappage.yaml"
    copy = _write(home / "lib", "copy.yaml", "forehead-nappage")
    mine = _write(home / "lib", "mine.yaml", "my-forehead")
    again = _write(home / "lib" / "old", "mine-again.yaml", "my-forehead")
    code, _, err = _score(capsys, "forehead-nappage", str(log), "--library", str(home / "lib"))
    assert code == 2
    assert err == (f'forehead-nappage:0:0: the id "forehead-nappage" is given by 2 files: {shipped} and {copy}; an '
                   "id names one exercise: rename one of them (mesosim validate reports it)\n")
    code, _, err = _score(capsys, "my-forehead", str(log), "--library", str(home / "lib"))
    assert code == 2 and f"is given by 2 files: {mine} and {again};" in err
    # validate names both files of each id, at the id
    code = main(["validate", str(home / "lib")])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.splitlines() == [
        f'{copy}:1:5: id: "forehead-nappage" is also the id of {shipped}; an id names one exercise: rename one of them',
        f'{mine}:1:5: id: "my-forehead" is also the id of {again}; an id names one exercise: rename one of them',
        f'{again}:1:5: id: "my-forehead" is also the id of {mine}; an id names one exercise: rename one of them',
        "3 of 3 scenario file(s) have problems"]
    shutil.rmtree(home / "lib" / "old")
    copy.unlink()
    assert main(["validate", str(home / "lib")]) == 0
    assert _score(capsys, "forehead-nappage", str(log))[0] == 0


def test_the_picker_lists_the_library_beside_the_shipped_exercises(home, monkeypatch):
    from sim.paths import set_library_dirs
    from sim.ui.app import App, Options

    _write(user_library_dir(), "mine.yaml", "my-forehead", "My forehead")
    bad = _write(home / "centre", "bad.yaml", "bad-one", "Bad one")
    bad.write_text(bad.read_text().replace("mode: practice", "mode: practise"))
    set_library_dirs([home / "centre"])
    app = None
    try:
        app = App(Options(size=(1280, 800)))
        picker = app.screen
        texts = [item.text for item in picker.items if item.kind == "scenario"]
        assert "My forehead (your library)" in texts
        assert "Forehead lines - superficial nappage" in texts  # the shipped ones are there too
        problems = [(item.text, item.detail) for item in picker.items if item.kind == "problem"]
        assert problems == [("bad.yaml: cannot be opened", f"{bad}:9:7: mode: 'practise' is not one of 'practice' "
                             "or 'exam' (did you mean \"practice\"?)")]
        app.step(1 / 60)
    finally:
        set_library_dirs([])
        if app is not None:
            app.close()
