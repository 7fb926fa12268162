"""The per-injection rules: each judges every injection of an attempt at once (numpy arrays) and explains, when
asked, the ones that did not pass. Thresholds come from the technique library (assets/techniques/), scoring.yaml
and the scenario; sentences from assets/messages.yaml."""

from __future__ import annotations

import numpy as np

from sim.core.exercise.scenario import LoadedScenario
from sim.core.exercise.techniques import Band, Library
from sim.core.scoring.config import Config
from sim.core.scoring.context import RuleContext, region_name
from sim.core.scoring.findings import FAIL, OK, WARN, Finding, RuleResult
from sim.core.scoring.table import allowed_by, band_verdict, band_verdict_by
from sim.core.scoring.neighbours import exact_nearest
from sim.core.scoring.text import fill, fmt, unit_of
from sim.core.spatial.geometry import closest_on_segments
from sim.core.vocabulary import CODE, LAYERS, VERDICTS


def pointwise_rules(ctx: RuleContext) -> dict[str, RuleResult]:
    """Every rule that judges an injection on its own (all but spacing, which depends on the others)."""
    return {
        "technique": rule_technique(ctx),
        "target": rule_target(ctx),
        "depth": rule_depth(ctx),
        "layer": rule_layer(ctx),
        "angle": rule_band(ctx, "angle", "angle_deg", "too_steep", "too_flat"),
        "parting": rule_parting(ctx),
        "volume": rule_volume(ctx),
        "bevel": rule_bevel(ctx),
        "product": rule_product(ctx),
        "device": rule_device(ctx),
        "danger": rule_danger(ctx),
    }


def rule_technique(ctx: RuleContext) -> RuleResult:
    """technique: the technique is one the scenario allows (`techniques`), belongs on this map (the technique's
    `maps`) and, in a "choose the technique" exercise, is one the case calls for (`indication.techniques`).
    Verdicts: scoring.yaml verdicts.technique_not_allowed, technique_wrong_map, technique_not_indicated.
    Source: techniques.md, the scenario file."""
    t = ctx.table
    allowed = allowed_by(ctx.scenario.technique_ids, t)
    on_map = t.on_face if ctx.atlas.map == "face" else t.on_scalp
    k = ctx.inj.technique
    not_allowed = ~allowed[k] if len(k) else np.zeros(0, dtype=bool)
    wrong_map = ~on_map[k] if len(k) else np.zeros(0, dtype=bool)
    indication = ctx.scenario.spec.indication
    indicated = np.asarray([indication is None or tid in indication.techniques for tid in t.ids], dtype=bool)
    not_indicated = (~indicated[k] & ~not_allowed) if len(k) else np.zeros(0, dtype=bool)
    verdict = np.maximum.reduce([np.where(not_allowed, ctx.verdict_name("technique_not_allowed"), OK),
                                 np.where(wrong_map, ctx.verdict_name("technique_wrong_map"), OK),
                                 np.where(not_indicated, ctx.verdict_name("technique_not_indicated"), OK)]
                                ).astype(np.int8)
    names = [ctx.library.get(x).name for x in ctx.scenario.technique_ids]

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        out = []
        if not_allowed[i]:
            out.append(Finding("technique", VERDICTS[ctx.verdict_name("technique_not_allowed")],
                               ctx.text("technique", "not_allowed", technique=tech.name, expected=" or ".join(names)),
                               f"scenario {ctx.scenario.id}", tech.id, " or ".join(ctx.scenario.technique_ids)))
        if not_indicated[i]:
            right = " or ".join(ctx.library.get(x).name for x in indication.techniques)
            out.append(Finding("technique", VERDICTS[ctx.verdict_name("technique_not_indicated")],
                               ctx.text("technique", "not_indicated", technique=tech.name, expected=right,
                                        explanation=indication.explanation),
                               indication.source, tech.id, " or ".join(indication.techniques)))
        if wrong_map[i]:
            out.append(Finding("technique", VERDICTS[ctx.verdict_name("technique_wrong_map")],
                               ctx.text("technique", "wrong_map", technique=tech.name, map=ctx.atlas.map),
                               "techniques.md", tech.id, ", ".join(tech.maps)))
        return out

    return RuleResult(verdict, explain)


def rule_target(ctx: RuleContext) -> RuleResult:
    """target: the point is on the map (an atlas region), and inside one of the scenario's target areas when it
    names any. Verdicts: scoring.yaml verdicts.off_map, outside_target. Source: anatomy.md, the scenario file."""
    n = len(ctx.inj)
    off = ctx.region < 0
    inside = np.ones(n, dtype=bool)
    if ctx.scenario.target_polygons and n:
        inside = ctx.scenario.target_index.lookup(ctx.inj.xy) >= 0
    verdict = np.where(off, ctx.verdict_name("off_map"),
                       np.where(inside, OK, ctx.verdict_name("outside_target"))).astype(np.int8)
    labels = ", ".join(t.label for t in ctx.scenario.spec.targets)

    def explain(i: int) -> list[Finding]:
        if off[i]:
            return [Finding("target", VERDICTS[int(verdict[i])], ctx.text("target", "off_map", map=ctx.atlas.map),
                            "anatomy.md", None, ctx.atlas.map)]
        return [Finding("target", VERDICTS[int(verdict[i])], ctx.text("target", "outside", expected=labels),
                        f"scenario {ctx.scenario.id}", ctx.region_name(i), labels)]

    return RuleResult(verdict, explain)


def rule_depth(ctx: RuleContext) -> RuleResult:
    """depth: tip depth against the technique's depth band (depth_mm ok, warn); on the face, deeper than
    library.yaml face_max_depth_mm outside its `exempt` techniques also fails (verdicts.over_face_depth).
    Source: the technique's depth_mm.source; seeds 001, 002, 004 for the cap."""
    k = ctx.inj.technique
    d = ctx.inj.depth_mm
    table = ctx.table.bands["depth_mm"]
    verdict = band_verdict_by(d, table, k)
    cap = ctx.library.limits.face_max_depth_mm
    over = np.zeros(len(d), dtype=bool)
    if ctx.atlas.map == "face" and len(d):
        over = (d > cap.value) & ~ctx.table.face_cap_exempt[k]
        verdict = np.maximum(verdict, np.where(over, ctx.verdict_name("over_face_depth"), OK)).astype(np.int8)

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        out = []
        bounds = table[k[i]]
        band_v = int(band_verdict(d[i:i + 1], bounds[None, :])[0])
        if band_v > OK:
            case = "too_deep" if d[i] > bounds[1] else "too_shallow"
            expected = tech.depth_mm.describe("mm")
            out.append(Finding("depth", VERDICTS[band_v], ctx.text("depth", case, measured=fmt(d[i], "mm"),
                                                                    technique=tech.name, expected=expected),
                               tech.depth_mm.source, float(d[i]), expected, "mm"))
        if over[i]:
            expected = f"at most {cap.value:g} mm"
            out.append(Finding("depth", VERDICTS[ctx.verdict_name("over_face_depth")],
                               ctx.text("depth", "over_face_cap", measured=fmt(d[i], "mm"), expected=expected),
                               cap.source, float(d[i]), expected, "mm"))
        return out

    return RuleResult(verdict, explain)


LAYER_WORDS = {"epidermis": "epidermis", "dermis": "dermis", "fat": "subcutaneous fat",
               "below": "tissue below the subcutaneous fat (muscle, fascia or bone)"}


def rule_layer(ctx: RuleContext) -> RuleResult:
    """layer: the skin layer the tip reaches in this region (the atlas's skin thicknesses with the patient's
    skin_overrides) against the technique's target layers (layer.ok passes, layer.warn warns, any other fails):
    1.5 mm is dermis on the cheek, below it on the eyelid. Source: the technique's layer.source and the region's
    skin_source."""
    k = ctx.inj.technique
    lay = ctx.layer
    on = lay >= 0
    verdict = np.zeros(len(k), dtype=np.int8)
    if on.any():
        idx = np.nonzero(on)[0]
        ok = ctx.table.layer_ok[k[idx], lay[idx]]
        warn = ctx.table.layer_warn[k[idx], lay[idx]]
        verdict[idx] = np.where(ok, OK, np.where(warn, WARN, FAIL))

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        epi, der, fat = ctx.skin[ctx.region[i]]
        expected = " or ".join(LAYER_WORDS[x] for x in tech.layer.ok)
        message = ctx.text("layer", "wrong", measured=fmt(ctx.inj.depth_mm[i], "mm"),
                           layer=LAYER_WORDS[LAYERS[lay[i]]], region=ctx.region_name(i),
                           epidermis=fmt(epi, "mm"), dermis=fmt(der, "mm"), fat=fmt(fat, "mm"),
                           technique=tech.name, expected=expected)
        source = f"{tech.layer.source}; skin: {ctx.atlas.regions[ctx.region[i]].skin_source}"
        return [Finding("layer", VERDICTS[int(verdict[i])], message, source, LAYERS[lay[i]], expected)]

    return RuleResult(verdict, explain)


def rule_band(ctx: RuleContext, rule: str, quantity: str, high_case: str, low_case: str) -> RuleResult:
    """A plain band check of one injection setting (`quantity`, e.g. angle_deg) against the technique's band for
    it (ok passes, warn warns, outside fails); the angle rule is this alone. Source: the band's source."""
    values = getattr(ctx.inj, quantity)
    table = ctx.table.bands[quantity]
    verdict = band_verdict_by(values, table, ctx.inj.technique)
    unit = unit_of(quantity)

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        band: Band = getattr(tech, quantity)
        expected = band.describe(unit).replace(" deg", "°")
        case = high_case if values[i] > table[ctx.inj.technique[i], 1] else low_case
        return [Finding(rule, VERDICTS[int(verdict[i])],
                        ctx.text(rule, case, measured=fmt(values[i], unit), technique=tech.name, expected=expected),
                        band.source, float(values[i]), expected, unit)]

    return RuleResult(verdict, explain)


def rule_spacing(ctx: RuleContext, nn: np.ndarray, group: np.ndarray | None = None) -> RuleResult:
    """spacing: distance `nn` to the nearest injection of the same technique against its spacing_mm band;
    closer than scoring.yaml spacing.double_puncture_mm is a double puncture (fail). `group`: who counts as a
    neighbour (by default the same technique; for many attempts at once, the same attempt and technique).
    Source: the technique's spacing_mm.source."""
    table = ctx.table.bands["spacing_mm"]
    has = ~np.isnan(nn)
    verdict = band_verdict_by(nn, table, ctx.inj.technique)
    verdict[~has] = OK  # alone with its technique: nothing to space from
    double = nn < ctx.config.scoring.spacing.double_puncture_mm  # False for NaN
    verdict[double] = FAIL

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        expected = tech.spacing_mm.describe("mm")
        d = float(nn[i]) if np.isfinite(nn[i]) else exact_nearest(
            ctx.inj.xy, ctx.inj.technique if group is None else group, i)
        if double[i]:
            case = "double"
        else:
            case = "too_far" if d > table[ctx.inj.technique[i], 1] else "too_close"
        return [Finding("spacing", VERDICTS[int(verdict[i])],
                        ctx.text("spacing", case, measured=fmt(d, "mm"), technique=tech.name, expected=expected),
                        tech.spacing_mm.source, d, expected, "mm")]

    return RuleResult(verdict, explain)


def rule_parting(ctx: RuleContext) -> RuleResult:
    """parting: on an exercise with partings (the scalp), each point's distance to the nearest parting against
    scoring.yaml parting.ok_mm (on it) and warn_mm (a warning; farther fails). Source: parting.source (seed 003,
    read as techniques.md proposes)."""
    n = len(ctx.inj)
    cfg = ctx.config.scoring.parting
    lines = [np.asarray(p.points_mm, dtype=np.float64) for p in ctx.scenario.spec.partings]
    if not lines or not n:
        return RuleResult(np.zeros(n, dtype=np.int8), lambda i: [])
    a = np.concatenate([p[:-1] for p in lines])
    b = np.concatenate([p[1:] for p in lines])
    dist = closest_on_segments(ctx.inj.xy, a, b)[0].min(axis=1)
    verdict = np.where(dist <= cfg.ok_mm, OK, np.where(dist <= cfg.warn_mm, WARN, FAIL)).astype(np.int8)

    def explain(i: int) -> list[Finding]:
        expected = fmt(cfg.ok_mm, "mm")
        return [Finding("parting", VERDICTS[int(verdict[i])],
                        ctx.text("parting", "off", measured=fmt(float(dist[i]), "mm"), expected=expected),
                        cfg.source, float(dist[i]), expected, "mm")]

    return RuleResult(verdict, explain)


def bleb_diameter_mm(volume_ml: np.ndarray | float, config: Config) -> np.ndarray | float:
    """Papule diameter [mm] from its volume [ml]: d = d_ref * (V / V_ref)^(1/3) (scoring.yaml bleb
    reference_diameter_mm, reference_volume_ml; bleb model, techniques.md)."""
    b = config.scoring.bleb
    return b.reference_diameter_mm * np.cbrt(np.asarray(volume_ml) / b.reference_volume_ml)


def rule_volume(ctx: RuleContext) -> RuleResult:
    """volume: volume at one point against the technique's volume_ml band; over library.yaml max_volume_ml
    (0.2 ml, seed 004) always fails (verdicts.over_max_volume). For papule techniques the message gives the bleb
    size the volume makes (bleb_diameter_mm). Source: the technique's volume_ml.source, scoring.yaml bleb.source."""
    base = rule_band(ctx, "volume", "volume_ml", "too_much", "too_little")
    vmax = ctx.library.limits.max_volume_ml
    over = ctx.inj.volume_ml > vmax.value
    verdict = np.maximum(base.verdict, np.where(over, ctx.verdict_name("over_max_volume"), OK)).astype(np.int8)

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        out = []
        if base.verdict[i] > OK and not over[i]:  # over the maximum: that finding says it all
            (f,) = base.explain(i)
            papule = ""
            if tech.papule:
                lo, hi = tech.volume_ml.ok
                size = (f"{fmt(float(bleb_diameter_mm(lo, ctx.config)), 'mm')}-"
                        f"{fmt(float(bleb_diameter_mm(hi, ctx.config)), 'mm')} papules")
                papule = ctx.text("volume", "papule", technique=tech.name, size=size,
                                  diameter=fmt(float(bleb_diameter_mm(ctx.inj.volume_ml[i], ctx.config)), "mm"))
            case = "too_much" if ctx.inj.volume_ml[i] > tech.volume_ml.ok[1] else "too_little"
            message = ctx.text("volume", case, measured=fmt(ctx.inj.volume_ml[i], "ml"), technique=tech.name,
                               expected=f.expected, papule=papule)
            source = f.source + (f"; {ctx.config.scoring.bleb.source}" if papule else "")
            out.append(Finding("volume", f.verdict, message, source, f.measured, f.expected, "ml"))
        if over[i]:
            expected = f"{vmax.value:g} ml"
            out.append(Finding("volume", VERDICTS[ctx.verdict_name("over_max_volume")],
                               ctx.text("volume", "over_max", measured=fmt(ctx.inj.volume_ml[i], "ml"),
                                        expected=expected), vmax.source, float(ctx.inj.volume_ml[i]),
                               f"at most {expected}", "ml"))
        return out

    return RuleResult(verdict, explain)


def rule_bevel(ctx: RuleContext) -> RuleResult:
    """bevel: the bevel as the technique requires (bevel.required; all of them bevel up, seed 004). Verdict:
    scoring.yaml verdicts.bevel_wrong. Source: the technique's bevel.source."""
    want_down = ctx.table.bevel_down[ctx.inj.technique]
    wrong = ctx.inj.bevel_down != want_down
    verdict = np.where(wrong, ctx.verdict_name("bevel_wrong"), OK).astype(np.int8)

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        measured = "down" if ctx.inj.bevel_down[i] else "up"
        return [Finding("bevel", VERDICTS[int(verdict[i])],
                        ctx.text("bevel", "wrong", measured=measured, technique=tech.name,
                                 expected=tech.bevel.required), tech.bevel.source, measured, tech.bevel.required)]

    return RuleResult(verdict, explain)


def rule_product(ctx: RuleContext) -> RuleResult:
    """product: the scenario's product form is one the technique allows (products.allowed; no gels for
    superficial and median nappage, seed 004). Verdict: scoring.yaml verdicts.product_not_allowed. Source: the
    technique's products.source."""
    form = ctx.scenario.spec.product.form
    allowed = ctx.table.liquid_ok if form == "liquid" else ctx.table.gel_ok
    bad = ~allowed[ctx.inj.technique]
    verdict = np.where(bad, ctx.verdict_name("product_not_allowed"), OK).astype(np.int8)

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        expected = " or ".join(tech.products.allowed)
        return [Finding("product", VERDICTS[int(verdict[i])],
                        ctx.text("product", "not_allowed", measured=form, technique=tech.name, expected=expected),
                        tech.products.source, form, expected)]

    return RuleResult(verdict, explain)


DEVICE_MANNER = {"hand": "by hand", "gun": "with the mesoinjector"}
DEVICE_NAME = {"hand": "hand", "gun": "mesoinjector"}


def rule_device(ctx: RuleContext) -> RuleResult:
    """device: hand or mesoinjector as the scenario (`devices`) and the technique (devices.allowed) allow
    (verdicts.device_not_allowed); the mesoinjector is refused in regions tagged with library.yaml
    gun.refused_tags, around the eyes and the nasolabial folds (verdicts.device_refused_region). Source: the
    scenario file, the technique's devices.source, gun.source (seed 000)."""
    gun = ctx.inj.gun
    devices = ctx.scenario.spec.devices
    by_scenario = np.where(gun, "gun" not in devices, "hand" not in devices)
    k = ctx.inj.technique
    by_technique = np.where(gun, ~ctx.table.gun_ok[k], ~ctx.table.hand_ok[k])
    refused_regions = ctx.scenario.refused_regions(ctx.library)
    in_refused = refused_regions[ctx.region] if len(ctx.region) else np.zeros(0, dtype=bool)
    refused = gun & in_refused
    v_not = ctx.verdict_name("device_not_allowed")
    verdict = np.maximum(np.where(by_scenario | by_technique, v_not, OK),
                         np.where(refused, ctx.verdict_name("device_refused_region"), OK)).astype(np.int8)

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        measured = "gun" if gun[i] else "hand"
        label = DEVICE_NAME[measured]
        out = []
        if by_scenario[i]:
            expected = " or ".join(DEVICE_MANNER[d] for d in devices)
            out.append(Finding("device", VERDICTS[v_not], ctx.text("device", "not_allowed_scenario", measured=label,
                                                                    expected=expected),
                               f"scenario {ctx.scenario.id}", measured, " or ".join(devices)))
        if by_technique[i]:
            out.append(Finding("device", VERDICTS[v_not], ctx.text("device", "not_allowed_technique",
                                                                    measured=label, technique=tech.name),
                               tech.devices.source, measured, " or ".join(tech.devices.allowed)))
        if refused[i]:
            out.append(Finding("device", VERDICTS[ctx.verdict_name("device_refused_region")],
                               ctx.text("device", "refused_region", region=ctx.region_name(i)),
                               ctx.library.limits.gun.source, measured, "hand"))
        return out

    return RuleResult(verdict, explain)


def device_refusal(scenario: LoadedScenario, library: Library, config: Config, x_mm: float,
                   y_mm: float) -> str | None:
    """Why the mesoinjector may not be used at (x_mm, y_mm): the device rule's refused_region sentence for the
    region there, or None where it may (what the trainer tells the trainee before refusing the shot)."""
    region = int(scenario.atlas.region_index(np.asarray([[x_mm, y_mm]], dtype=np.float64))[0])
    if not scenario.refused_regions(library)[region]:
        return None
    return fill(config.text("device", "refused_region"), region=region_name(scenario.atlas, region))


def rule_danger(ctx: RuleContext) -> RuleResult:
    """danger: the atlas's depth-aware danger structures and the patient's no-go spots (scenario.structures).
    A hit needs the point within the structure's lateral margin AND the tip at or below its depth there; the
    structure's severity sets the verdict (scoring.yaml severity_verdict). Source: the structure's source
    (assets/atlas/*/danger.yaml; seed 001 for no-go spots)."""
    sev = ctx.config.scoring.severity_verdict
    hits = ctx.hits
    codes = np.asarray([CODE[getattr(sev, s.severity)] for s in ctx.structures], dtype=np.int8)
    verdict = np.zeros(len(ctx.inj), dtype=np.int8)
    if len(hits.point):
        np.maximum.at(verdict, hits.point, codes[hits.structure])

    def explain(i: int) -> list[Finding]:
        out = []
        for h in hits.of(i):
            s = ctx.structures[int(hits.structure[h])]
            dist, sdepth = float(hits.distance[h]), float(hits.depth[h])
            v = VERDICTS[int(codes[hits.structure[h]])]
            if v == "ok":
                continue
            measured = fmt(ctx.inj.depth_mm[i], "mm")
            if s.kind == "spot":
                message = ctx.text("danger", "no_go_spot", structure=s.name.lower(), distance=fmt(dist, "mm"),
                                   consequence=s.consequence)
                expected = f"no puncture within {fmt(float(s.margin_a[0]), 'mm')}"
            else:
                name = s.name[:1].lower() + s.name[1:]
                if s.area is not None:
                    where = "inside" if dist == 0 else f"{fmt(dist, 'mm')} from"
                    message = ctx.text("danger", "hit_area" if sdepth > 0 else "hit_area_any", measured=measured,
                                       structure=name, where=where,
                                       structure_depth=fmt(sdepth, "mm"), consequence=s.consequence)
                else:
                    case = "hit_point" if len(s.a) == 1 and np.array_equal(s.a, s.b) else "hit"
                    message = ctx.text("danger", case, measured=measured, structure=name, distance=fmt(dist, "mm"),
                                       structure_depth=fmt(sdepth, "mm"), consequence=s.consequence)
                expected = f"shallower than {fmt(sdepth, 'mm')} here"
            out.append(Finding("danger", v, message, s.source, float(ctx.inj.depth_mm[i]), expected, "mm", s.id))
        return out

    return RuleResult(verdict, explain)
