"""The technique library as arrays indexed like Injections.technique, and the band verdicts looked up in them."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from sim.core.exercise.techniques import Library
from sim.core.scoring.findings import FAIL, OK, WARN
from sim.core.vocabulary import INJECTION_RULES, LAYERS

QUANTITIES = ("depth_mm", "angle_deg", "spacing_mm", "volume_ml")
"""The injection settings a technique gives a band for."""


@dataclass(frozen=True)
class TechniqueTable:
    """Per technique (indexed like Injections.technique): bands and masks as arrays, for vectorised lookups."""

    ids: tuple[str, ...]
    bands: dict[str, np.ndarray]
    """quantity -> (T, 4) ok_lo, ok_hi, warn_lo, warn_hi."""
    layer_ok: np.ndarray
    layer_warn: np.ndarray
    """(T, 4) booleans over LAYERS."""
    bevel_down: np.ndarray
    liquid_ok: np.ndarray
    gel_ok: np.ndarray
    hand_ok: np.ndarray
    gun_ok: np.ndarray
    face_cap_exempt: np.ndarray
    on_face: np.ndarray
    on_scalp: np.ndarray
    reach_mm: np.ndarray


@functools.lru_cache(maxsize=8)
def technique_table(library: Library, ids: tuple[str, ...]) -> TechniqueTable:
    techs = [library.get(t) for t in ids]
    bands = {q: np.asarray([getattr(t, q).bounds() for t in techs], dtype=np.float64).reshape(-1, 4)
             for q in QUANTITIES}
    exempt = set(library.limits.face_max_depth_mm.exempt)
    return TechniqueTable(
        ids=ids,
        bands=bands,
        layer_ok=np.asarray([[layer in t.layer.ok for layer in LAYERS] for t in techs], dtype=bool).reshape(-1, 4),
        layer_warn=np.asarray([[layer in t.layer.warn for layer in LAYERS] for t in techs], dtype=bool).reshape(-1, 4),
        bevel_down=np.asarray([t.bevel.required == "down" for t in techs], dtype=bool),
        liquid_ok=np.asarray(["liquid" in t.products.allowed for t in techs], dtype=bool),
        gel_ok=np.asarray(["gel" in t.products.allowed for t in techs], dtype=bool),
        hand_ok=np.asarray(["hand" in t.devices.allowed for t in techs], dtype=bool),
        gun_ok=np.asarray(["gun" in t.devices.allowed for t in techs], dtype=bool),
        face_cap_exempt=np.asarray([t.id in exempt for t in techs], dtype=bool),
        on_face=np.asarray(["face" in t.maps for t in techs], dtype=bool),
        on_scalp=np.asarray(["scalp" in t.maps for t in techs], dtype=bool),
        reach_mm=np.asarray([t.reach() for t in techs], dtype=np.float64),
    )


UNITS = {"depth": "mm", "angle": "deg", "volume": "ml", "spacing": "mm"}
"""The unit in the band's name of each per-injection criterion that has a band (depth -> depth_mm)."""


def band_credit(values: np.ndarray, table: np.ndarray, technique: np.ndarray) -> np.ndarray:
    """Credit 0-1 of each value against its technique's band (`table` (T, 4) ok_lo, ok_hi, warn_lo, warn_hi): 1
    inside ok, 0.5 at the edge of warn, 0 as far again beyond it, linear between (how far off counts). NaN
    (nothing to measure, e.g. no neighbour) earns 1."""
    col = [np.ascontiguousarray(table[:, c])[technique] for c in range(4)]
    below = np.maximum(col[0] - values, 0.0)
    above = np.maximum(values - col[1], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w_lo = col[0] - col[2]
        w_hi = col[3] - col[1]
        d = np.where(below > 0, below, above)
        w = np.where(below > 0, w_lo, w_hi)
        # an open warn band (infinite width) never falls; an empty one (no warn margin) falls at once
        frac = np.where(d <= 0, 0.0, np.where(np.isinf(w), 0.0, np.where(w > 0, d / w, np.inf)))
        out = np.clip(1.0 - 0.5 * frac, 0.0, 1.0)
    return np.where(np.isnan(values), 1.0, out)


def layer_distance(depth: np.ndarray, region: np.ndarray, bottoms: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Per injection, how far [mm] its tip is from the nearest depth at which it would be in one of its ok layers
    in this region (0 inside one; `ok`: (N, 4) booleans over LAYERS for each injection's technique). `bottoms` as
    tip_layers: (R + 1, 3) bottoms of epidermis, dermis and fat per region, then a row for off the map (0:
    nothing to measure there)."""
    b = bottoms[region]
    tops = np.column_stack([np.zeros(len(depth)), b])            # epidermis, dermis, fat, below
    ends = np.column_stack([b, np.full(len(depth), np.inf)])
    d = depth[:, None]
    gap = np.maximum(tops - d, 0.0) + np.maximum(d - ends, 0.0)  # distance to each layer's span
    gap = np.where(ok, gap, np.inf)
    out = gap.min(axis=1)
    out[(region < 0) | ~np.isfinite(out)] = 0.0
    return out


def distance_credit(distance: np.ndarray, half_mm: float) -> np.ndarray:
    """Credit 0-1 by how far off: 1 at 0, 0.5 at `half_mm`, 0 at twice that, linear between."""
    return np.clip(1.0 - 0.5 * distance / half_mm, 0.0, 1.0)


@functools.lru_cache(maxsize=64)
def significance_table(library: Library, ids: tuple[str, ...], common: tuple[str, ...]) -> np.ndarray:
    """(techniques, INJECTION_RULES) booleans: is the criterion significant for an injection of this technique
    (one of `common`, or one its technique names)?"""
    return np.asarray([[r in common or r in library.get(t).significant for r in INJECTION_RULES] for t in ids],
                      dtype=bool).reshape(len(ids), len(INJECTION_RULES))


def band_verdict(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """OK inside [ok_lo, ok_hi], WARN inside [warn_lo, warn_hi], else FAIL (NaN too); `bounds` is (N, 4)."""
    return _verdict3((values >= bounds[:, 0]) & (values <= bounds[:, 1]),
                     (values >= bounds[:, 2]) & (values <= bounds[:, 3]))


def band_verdict_by(values: np.ndarray, table: np.ndarray, technique: np.ndarray) -> np.ndarray:
    """band_verdict with the bounds of each injection's technique from `table` (T, 4), column by column."""
    col = [np.ascontiguousarray(table[:, c])[technique] for c in range(4)]
    return _verdict3((values >= col[0]) & (values <= col[1]), (values >= col[2]) & (values <= col[3]))


def _verdict3(ok: np.ndarray, warn: np.ndarray) -> np.ndarray:
    out = np.full(len(ok), FAIL, dtype=np.int8)
    out[warn] = WARN
    out[ok] = OK
    return out


def spacing_cap(table: TechniqueTable, technique: np.ndarray) -> np.ndarray:
    """Per injection, the spacing beyond which the verdict no longer depends on the distance (the top of the
    technique's warn band: farther fails all the same)."""
    b = table.bands["spacing_mm"]
    return np.maximum(b[:, 1], b[:, 3])[technique]


def allowed_by(technique_ids: tuple[str, ...], table: TechniqueTable) -> np.ndarray:
    """Per technique of `table`: is it one of `technique_ids` (the scenario's; only those count towards
    coverage)?"""
    return np.asarray([tid in technique_ids for tid in table.ids], dtype=bool)
