"""Hostile YAML: alias bombs, arbitrary tags, oversized files."""

import signal
import tracemalloc

import pytest

from sim.cli import EXIT_INPUT, main


def _bomb(levels: int = 30) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_within_a_second_with_bounded_memory(tmp_path, capsys):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb())  # 9^30 "lol"s if expanded
    from sim.core.exercise.scenario import scenario_files
    from sim.paths import builtin_scenarios_dir

    main(["validate", str(scenario_files(builtin_scenarios_dir())[0])])  # the library and specs load once
    capsys.readouterr()

    def _late(*_):
        raise TimeoutError("the alias bomb was not refused within a second")

    old = signal.signal(signal.SIGALRM, _late)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    tracemalloc.start()
    try:
        code = main(["validate", str(path)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        tracemalloc.stop()
    assert code == EXIT_INPUT and peak < 20 * 2**20
    assert f"{path}:2:10: YAML aliases (*name) are not allowed" in capsys.readouterr().err


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['echo hi']", "!!python/name:os.system",
                                 "!custom {a: 1}", "!!binary aGVsbG8="])
def test_arbitrary_tags_are_refused(tmp_path, capsys, tag):
    path = tmp_path / "tag.yaml"
    path.write_text(f"id: x\ntitle: {tag}\n")
    assert main(["validate", str(path)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:2:8: ") and "tag" in err


def test_oversized_scenario_states_the_limit(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    path.write_text("id: x\nnotes: |\n" + ("  " + "x" * 1000 + "\n") * 1100)
    assert main(["validate", str(path)]) == EXIT_INPUT
    assert "the limit is 1048576 bytes" in capsys.readouterr().err


@pytest.mark.parametrize("where,line", [("polygon", "    polygon_mm: [[3.5e306, 30], [10, 30], [10, 50], [-10, 50]]"),
                                        ("spot", "no_go: [{name: m, at_mm: [20, -1.0e300], radius_mm: 3}]")])
def test_huge_coordinates_are_refused(tmp_path, capsys, where, line):
    """A coordinate far off any map (found by the fuzzer: it overflowed the polygon's area) is a field error."""
    path = tmp_path / "huge.yaml"
    own = "targets:\n  - name: own\n" + line + "\n" if where == "polygon" else line + "\n"
    path.write_text("id: huge\ntitle: Huge\nobjective: x\nmap: face\ntechniques: [superficial-nappage]\n" + own
                    + "product: {name: c, form: liquid}\ndevices: [hand]\nmode: practice\npass_mark: 80\n")
    assert main(["validate", str(path)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"{path}:" in err and ("must be at most 500" in err or "must be at least -500" in err)
