"""What every rule looks at: an attempt's injections with the region and skin layer each one landed in, its
danger hits, the technique table, and the texts of assets/messages.yaml."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.anatomy.atlas import Atlas, Structure
from sim.core.exercise.scenario import LoadedScenario
from sim.core.exercise.techniques import Library, Technique
from sim.core.scoring.config import Config
from sim.core.scoring.injections import Injections
from sim.core.scoring.table import TechniqueTable, technique_table
from sim.core.scoring.text import fill
from sim.core.spatial import DangerHits
from sim.core.vocabulary import CODE


@dataclass(frozen=True)
class RuleContext:
    scenario: LoadedScenario
    inj: Injections
    library: Library
    config: Config
    table: TechniqueTable
    region: np.ndarray
    """Atlas region index of every injection; -1 off the map."""
    layer: np.ndarray
    """Index into LAYERS of every injection's tip; -1 off the map."""
    structures: tuple[Structure, ...] = ()
    hits: DangerHits | None = None

    @property
    def atlas(self) -> Atlas:
        return self.scenario.atlas

    @property
    def skin(self) -> np.ndarray:
        return self.scenario.skin

    def tech(self, i: int) -> Technique:
        return self.library.get(self.inj.technique_ids[int(self.inj.technique[i])])

    def region_name(self, i: int) -> str:
        return region_name(self.atlas, int(self.region[i]))

    def text(self, rule: str, case: str, **values) -> str:
        return fill(self.config.text(rule, case), **values)

    def verdict_name(self, key: str) -> int:
        """The verdict code scoring.yaml `verdicts` gives a kind of finding."""
        return CODE[getattr(self.config.scoring.verdicts, key)]

    def with_injections(self, inj: Injections, region: np.ndarray, layer: np.ndarray) -> "RuleContext":
        """The same exercise for other injections whose region and layer are known (no danger hits)."""
        return RuleContext(self.scenario, inj, self.library, self.config, self.table, region, layer)


def rule_context(scenario: LoadedScenario, inj: Injections, library: Library, config: Config) -> RuleContext:
    """Everything the pointwise rules need: region and skin layer of every injection, the danger hits."""
    table = technique_table(library, inj.technique_ids)
    region = scenario.atlas.region_index(inj.xy) if len(inj) else np.zeros(0, dtype=np.int64)
    layer = tip_layers(inj.depth_mm, region, scenario.skin_bottoms)
    danger = scenario.danger_index
    hits = danger.hits(inj.xy, inj.depth_mm)
    return RuleContext(scenario, inj, library, config, table, region, layer, danger.structures, hits)


def region_name(atlas: Atlas, region: int) -> str:
    """A region as a sentence names it ("forehead"); region -1 is the area off the map."""
    return atlas.regions[region].name.lower() if region >= 0 else f"area off the {atlas.map}"


def tip_layers(depth: np.ndarray, region: np.ndarray, bottoms: np.ndarray) -> np.ndarray:
    """Index into LAYERS of the tip for every injection; -1 off the map. The boundary belongs to the deeper layer.
    `bottoms`: (R + 1, 3) depth of the bottom of epidermis, dermis and fat per region, then a row for off the
    map."""
    b = bottoms[region]  # region -1 takes the last row
    out = (depth >= b[:, 0]).astype(np.int64) + (depth >= b[:, 1]) + (depth >= b[:, 2])
    out[region < 0] = -1
    return out
