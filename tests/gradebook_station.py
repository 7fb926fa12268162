"""A training station saving attempts, for the load tests (tests/test_gradebook_load.py): it loads everything, says
"ready", waits for a line on standard input (so that every station's first save starts at the same instant), then
saves attempts through sim.session.save_attempt as `mesosim score --save` does, one JSON line per save.

python -m tests.gradebook_station OUT_DIR DB_URL SAVES TRAINEE[,TRAINEE...] NAME
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

LOG = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n"
       "0,40,0.5,45,0.01,superficial-nappage,1\n"
       "4,40,0.5,45,0.01,superficial-nappage,2\n")


def main(argv: list[str]) -> int:
    out, db, saves, names, name = Path(argv[0]), argv[1], int(argv[2]), argv[3].split(","), argv[4]
    from sim.core.exercise.scenario import load_scenario
    from sim.core.exercise.techniques import load_library
    from sim.core.records.attempt import Attempt
    from sim.core.scoring.config import load_config
    from sim.core.scoring.injections import read_log
    from sim.session import save_attempt

    library, config = load_library(), load_config()
    scenario = load_scenario("face-free", library)
    out.mkdir(parents=True, exist_ok=True)
    log = out / f".{name}.csv"
    log.write_text(LOG)
    records = read_log(log, library.ids, scenario.technique_ids).records()
    import sim.gradebook  # noqa: F401  (imported before the start, as every other module)

    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(saves):
        # the same log every time: each save is an attempt of its own all the same
        attempt = Attempt(scenario, library, config, "practice", names[i % len(names)], None, list(records))
        saved = save_attempt(attempt, out / f"{name}-{i:04d}.json", db, source={"kind": "injection log",
                                                                                 "file": str(log)},
                             times_known=False)
        print(json.dumps({"i": i, "path": str(saved.path), "note": saved.note}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
