"""Print the contrasting-groups table of docs/scoring.md and draw docs/img/calibration.png: `mesosim calibrate`
over every shipped exercise (assets/calibration.yaml, its fixed seed).

    python scripts/calibration_table.py > table.md
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ids = sorted(p.stem for p in (ROOT / "scenarios").glob("*/*.yaml") if p.parent.name != "builtin")
    ids = [i for i in ids if not i.startswith("scalp")] + [i for i in ids if i.startswith("scalp")]
    out = subprocess.run([sys.executable, "-m", "sim", "calibrate", *ids, "--no-sweep", "--format", "json",
                          "--plot", str(ROOT / "docs" / "img" / "calibration.png")],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    print("| exercise | competent pass | novice pass | AUC | pass mark | threshold | competent median | novice median |")
    print("|---|---|---|---|---|---|---|---|")
    alone = []
    for r in json.loads(out):
        if "note" in r:
            alone.append(f"`{r['scenario']}`")
            continue
        c, n = r["competent"], r["novice"]
        print(f"| `{r['scenario']}` | {100 * c['pass_rate']:.1f} % | {100 * n['pass_rate']:.1f} % | {r['auc']:.3f} | "
              f"{r['pass_mark']:g} | {100 * r['competence_threshold']:.0f} % | "
              f"{c['score_percentiles_5_25_50_75_95'][2]:g} | {n['score_percentiles_5_25_50_75_95'][2]:g} |")
    if alone:
        print(f"\nJudged on the screening decision alone (a patient sent home, nothing to simulate): {', '.join(alone)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
