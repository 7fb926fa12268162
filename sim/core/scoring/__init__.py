"""The scoring engine: pure functions over numpy arrays from an attempt's injections to a score report.

Its parts: `findings` (what a rule hands back), `text` (numbers and sentences), `table` (the technique bands as
arrays), `context` (what every rule looks at), `injection_rules` and `attempt_rules`, `evaluation` (an attempt
scored, the score and the pass), `batch` (many attempts at once), `report` (the score report), `calibration`
(standard setting), `solutions` (a scenario's own solutions checked)."""

from sim.core.scoring.batch import evaluate_many
from sim.core.scoring.evaluation import Evaluation, evaluate
from sim.core.scoring.findings import Finding, RuleResult, ScreeningAnswer
from sim.core.scoring.injection_rules import bleb_diameter_mm, device_refusal

__all__ = ["Evaluation", "Finding", "RuleResult", "ScreeningAnswer", "bleb_diameter_mm", "device_refusal",
           "evaluate", "evaluate_many"]
