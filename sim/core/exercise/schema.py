"""The JSON Schema of scenario files, for editors (the YAML language server) and for checking."""

from __future__ import annotations

import json

from sim.core.exercise.scenario import Scenario

SCHEMA_ID = "https://mesosim.invalid/schema/scenario.schema.json"


def scenario_schema() -> dict:
    schema = Scenario.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "mesosim scenario", **{k: v for k, v in schema.items() if k != "title"}}


def scenario_schema_text() -> str:
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
