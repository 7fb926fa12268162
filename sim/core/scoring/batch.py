"""Many attempts of one exercise scored at once (re-scoring a cohort, calibration): chunks of attempts shared among
threads, each chunk scored together (sim.core.scoring.evaluation.evaluate_chunk)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from sim.core.exercise.scenario import LoadedScenario
from sim.core.exercise.techniques import Library
from sim.core.scoring.config import Config
from sim.core.scoring.evaluation import Evaluation, batches, evaluate_chunk
from sim.core.scoring.findings import ScreeningAnswer
from sim.core.scoring.injections import Injections

CHUNK_INJECTIONS = 1 << 16
"""evaluate_many works through the attempts in chunks of about this many injections: large enough that numpy,
not Python, does the work (and can do it in several threads at once), small enough to keep memory bounded."""


def default_workers() -> int:
    """Threads evaluate_many uses: one per processor this process may run on, at most four (beyond that the
    Python between the numpy calls is the limit)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(4, available))


def evaluate_many(scenario: LoadedScenario, attempts: Sequence[Injections], library: Library, config: Config,
                  screenings: Sequence[ScreeningAnswer | None] | None = None,
                  workers: int | None = None) -> list[Evaluation]:
    """evaluate() for many attempts of one scenario at once: every rule runs over the injections of many attempts
    together, a neighbour counting for spacing only within its own attempt. Each result equals evaluate() of that
    attempt alone.

    The attempts are scored in chunks; after the first (which builds the scenario's indexes), the chunks are
    shared among `workers` threads (default: default_workers()). numpy does most of the work without holding
    the interpreter lock, so the threads run at once. Chunks do not depend on each other, so the results are
    the same, in the same order, whatever the number of threads."""
    if not attempts:
        return []
    screenings = list(screenings) if screenings is not None else [None] * len(attempts)
    ids = attempts[0].technique_ids
    attempts = [a if a.technique_ids == ids else Injections.from_records(a.records(), ids) for a in attempts]
    chunks = batches([len(a) for a in attempts], CHUNK_INJECTIONS)

    def chunk(bounds: tuple[int, int]) -> list[Evaluation]:
        lo, hi = bounds
        return evaluate_chunk(scenario, attempts[lo:hi], library, config, screenings[lo:hi])

    out = chunk(chunks[0])
    workers = default_workers() if workers is None else max(1, int(workers))
    if workers == 1 or len(chunks) < 3:
        for bounds in chunks[1:]:
            out.extend(chunk(bounds))
        return out
    with ThreadPoolExecutor(max_workers=min(workers, len(chunks) - 1), thread_name_prefix="mesosim-score") as pool:
        for evaluations in pool.map(chunk, chunks[1:]):
            out.extend(evaluations)
    return out
