"""The JSON Schema of scenario files: generated from the models, shipped current, with a description for every
field and the names an instructor types listed (by map where they depend on it), installed beside the library."""

import json
from pathlib import Path

import jsonschema
import pytest

from sim.cli import main
from sim.core.exercise.scenario import scenario_files
from sim.core.exercise.schema import scenario_schema, scenario_schema_text
from sim.core.files.yamlio import load_yaml_file

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "assets" / "schema" / "scenario.schema.json"
SCHEMA = scenario_schema()

FACE = {"id": "s", "title": "T", "objective": "O", "map": "face", "techniques": ["superficial-nappage"],
        "targets": [{"region": "forehead"}], "product": {"name": "x", "form": "liquid"}, "devices": ["hand"],
        "mode": "practice", "pass_mark": 80}


def test_the_shipped_schema_is_what_mesosim_schema_writes(capsys):
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == SHIPPED.read_text(encoding="utf-8") == scenario_schema_text()


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_every_shipped_scenario_meets_the_schema(path):
    jsonschema.Draft202012Validator(SCHEMA).validate(load_yaml_file(path).data)


def _properties(node, where=""):
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}.{name}", sub
        for key, sub in node.items():
            if key != "if":
                yield from _properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{where}[{i}]")


def test_every_field_has_a_description():
    fields = list(_properties(SCHEMA))
    assert len(fields) > 60
    # the `then` of each map only narrows fields described above, but for the keys it lists (region ids)
    assert not [where for where, sub in fields if "/then" not in where and "description" not in sub]
    face = SCHEMA["allOf"][0]["then"]["properties"]["patient"]["properties"]["skin_overrides"]["properties"]
    assert face["forehead"]["description"] == "This patient's skin in forehead [mm]."
    assert SCHEMA["properties"]["weights"]["properties"]["coverage"]["description"] == \
        "The weight of coverage in the score."
    assert SCHEMA["$defs"]["Target"]["properties"]["region"]["description"].startswith("An atlas region id")
    assert "x-names" not in json.dumps(SCHEMA) and "x-keys" not in json.dumps(SCHEMA)


def _errors(data):
    """Every error, those inside a branch of anyOf (an optional field) included, not the anyOf's summary."""
    def leaves(errors):
        for e in errors:
            if e.context:
                yield from leaves(e.context)
            elif e.validator != "type" or e.validator_value != "null":
                yield e
    return sorted(f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in leaves(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data)))


def test_the_names_an_instructor_types_are_listed():
    assert _errors(FACE) == []
    scalp = {**FACE, "map": "scalp", "techniques": ["scalp-microinjection"], "targets": [{"region": "crown"}]}
    assert _errors(scalp) == []
    # a region, a technique, a variant of the other map; a reason, a rule, a part of the score that do not exist
    assert _errors({**FACE, "targets": [{"region": "crown"}]})[0].startswith(
        "targets.0.region: 'crown' is not one of ['brow', ")
    assert _errors({**FACE, "techniques": ["scalp-microinjection"]}) == [
        "techniques.0: 'scalp-microinjection' is not one of ['superficial-nappage', 'median-nappage', "
        "'deep-nappage', 'micro-papule', 'medium-papule', 'infiltration']"]
    assert _errors({**FACE, "techniques": ["micro-papul"]})[0].startswith("techniques.0: 'micro-papul' is not one")
    assert _errors({**FACE, "techniques": "all"}) == []
    assert _errors({**FACE, "patient": {"name": "A", "age_years": 40, "complaint": "x", "screening": {
        "expected": "no-go", "reasons": ["pregnancyy"], "explanation": "x", "source": "y"}}})[0].startswith(
        "patient.screening.reasons.0: 'pregnancyy' is not one of ['pregnancy',")
    assert _errors({**FACE, "solutions": {"reference": {"log": "r.csv"}, "flawed": [
        {"log": "f.csv", "fails_on": "deepth"}]}})[0].startswith("solutions.flawed.0.fails_on: 'deepth' is not one")
    assert _errors({**FACE, "weights": {"danger": 3}}) == [
        "weights: 'danger' is not one of ['injections', 'count', 'coverage', 'total_volume', 'time', 'screening']"]
    assert _errors({**FACE, "patient": {"name": "A", "age_years": 40, "complaint": "x",
                                        "skin_overrides": {"crown": {"epidermis_mm": 0.1, "dermis_mm": 1,
                                                                     "fat_mm": 3}}}})[0].startswith(
        "patient.skin_overrides: 'crown' is not one of ['upper-eyelid-left'")
    assert _errors({**FACE, "pass_mark": "80"}) == ["pass_mark: '80' is not of type 'number'"]


def test_schema_install_writes_it_beside_the_library_and_prints_the_header(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert main(["schema", "--install"]) == 0
    out = capsys.readouterr().out.splitlines()
    installed = tmp_path / "data" / "mesosim" / "scenario.schema.json"
    assert installed.read_text(encoding="utf-8") == scenario_schema_text()
    assert (tmp_path / "data" / "mesosim" / "scenarios").is_dir()
    assert out == [f"wrote {installed}; your library is {tmp_path / 'data' / 'mesosim' / 'scenarios'}",
                   "start scenario files with this line (mesosim new does), wherever they are:",
                   f"# yaml-language-server: $schema={installed.resolve().as_uri()}"]
    # a new file starts with that line, and still finds the schema once moved
    made = tmp_path / "a" / "mine.yaml"
    made.parent.mkdir()
    assert main(["new", "--map", "face", "--technique", "micro-papule", "-o", str(made)]) == 0
    moved = tmp_path / "elsewhere" / "deeper" / "mine.yaml"
    moved.parent.mkdir(parents=True)
    made.rename(moved)
    assert moved.read_text().splitlines()[0] == out[-1]
    assert main(["schema", "--install", "-o", "x.json"]) == 2
    assert "--install writes beside your library" in capsys.readouterr().err
