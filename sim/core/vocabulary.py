"""Every word the files and the program share, defined once: ids, maps, verdicts, severities, decisions, rules.

A file model, the scoring engine, a report or the window that needs one of these imports it from here; nothing
spells the list out again. Numbers that belong to a file (the injection log's ranges, tolerances) stay in that
file under assets/ and are read from it.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, description="lower-case words joined by '-'")]

MapId = Literal["face", "scalp"]
MAPS: tuple[str, ...] = get_args(MapId)

Mode = Literal["practice", "exam"]
MODES: tuple[str, ...] = get_args(Mode)

Sex = Literal["female", "male"]

Verdict = Literal["ok", "warn", "fail", "critical"]
VERDICTS: tuple[str, ...] = get_args(Verdict)
"""From best to worst; a verdict's code is its position, so `max` of codes is the worst."""
CODE: dict[str, int] = {v: i for i, v in enumerate(VERDICTS)}
FindingVerdict = Literal["warn", "fail", "critical"]

Severity = Literal["critical", "high", "moderate", "low"]
SEVERITIES: tuple[str, ...] = get_args(Severity)

Decision = Literal["go", "postpone", "no-go"]
DECISIONS: tuple[str, ...] = get_args(Decision)
ANSWER_PATTERN = r"^(go|postpone|no-go)(:[a-z0-9]+(-[a-z0-9]+)*)?$"
"""A screening answer as written in a file or on the command line: DECISION[:REASON]."""

Layer = Literal["epidermis", "dermis", "fat", "below"]
LAYERS: tuple[str, ...] = get_args(Layer)
"""From the surface down; "below" is whatever lies under the subcutaneous fat (muscle, fascia, bone)."""

Device = Literal["hand", "gun"]
DEVICES: tuple[str, ...] = get_args(Device)
Bevel = Literal["up", "down"]
BEVELS: tuple[str, ...] = get_args(Bevel)
ProductForm = Literal["liquid", "gel"]

InjectionRule = Literal["technique", "target", "depth", "layer", "angle", "spacing", "parting", "volume", "bevel",
                        "product", "device", "danger"]
AttemptRule = Literal["count", "coverage", "total_volume", "time", "screening"]
INJECTION_RULES: tuple[str, ...] = get_args(InjectionRule)
ATTEMPT_RULES: tuple[str, ...] = get_args(AttemptRule)
RULES: tuple[str, ...] = INJECTION_RULES + ATTEMPT_RULES
SCORE_PARTS: tuple[str, ...] = ("injections",) + ATTEMPT_RULES
"""What the score weighs: the injections as a whole (each as good as its worst significant criterion) and each
attempt criterion."""
