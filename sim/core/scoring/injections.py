"""Injections as numpy arrays, and the injection-log CSV of contract.md that carries them between programs."""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal, Mapping, Sequence

import numpy as np
from pydantic import Field

from sim.errors import InputError, Problem
from sim.core.files.model import FileModel, suggest, validate
from sim.paths import assets_dir
from sim.core.files.yamlio import decode_text, load_yaml_file

MAX_PROBLEMS = 50
"""A broken log can have a million bad rows; the first ones say enough."""


class Column(FileModel):
    required: bool
    kind: Literal["number", "technique", "choice"]
    min: float | None = None
    max: float | None = None
    choices: list[str] = []
    default: str | None = None
    description: str


class LogSpec(FileModel):
    max_rows: int = Field(gt=0)
    max_bytes: int = Field(gt=0)
    columns: dict[str, Column]


@functools.lru_cache(maxsize=1)
def log_spec() -> LogSpec:
    return validate(LogSpec, load_yaml_file(assets_dir() / "injection_log.yaml"))


@dataclass(frozen=True, eq=False)
class Injections:
    """An attempt's injections, one array element each, in the order made.

    xy [mm], depth_mm [mm], angle_deg [deg], volume_ml [ml], t_s [s] (NaN when not known), technique (index into
    technique_ids), bevel_down and gun (bool).
    """

    xy: np.ndarray
    depth_mm: np.ndarray
    angle_deg: np.ndarray
    volume_ml: np.ndarray
    technique: np.ndarray
    technique_ids: tuple[str, ...]
    t_s: np.ndarray
    bevel_down: np.ndarray
    gun: np.ndarray

    def __len__(self) -> int:
        return len(self.depth_mm)

    @classmethod
    def empty(cls, technique_ids: Iterable[str]) -> "Injections":
        return cls.from_records([], technique_ids)

    @classmethod
    def from_records(cls, records: Iterable[Mapping], technique_ids: Iterable[str]) -> "Injections":
        """Build from dicts with the log's column names (values already typed); technique must be given."""
        ids = tuple(technique_ids)
        index = {t: i for i, t in enumerate(ids)}
        rows = list(records)
        n = len(rows)
        xy = np.array([(float(r["x_mm"]), float(r["y_mm"])) for r in rows], dtype=np.float64).reshape(n, 2)

        def col(name, default=math.nan):
            return np.array([float(r.get(name, default) if r.get(name) is not None else default) for r in rows],
                            dtype=np.float64)

        return cls(
            xy=xy,
            depth_mm=col("depth_mm"),
            angle_deg=col("angle_deg"),
            volume_ml=col("volume_ml"),
            technique=np.array([index[r["technique"]] for r in rows], dtype=np.int64),
            technique_ids=ids,
            t_s=col("t_s"),
            bevel_down=np.array([r.get("bevel", "up") == "down" for r in rows], dtype=bool),
            gun=np.array([r.get("device", "hand") == "gun" for r in rows], dtype=bool),
        )

    def records(self) -> list[dict]:
        """Back to dicts with the log's column names (the inverse of from_records)."""
        out = []
        for i in range(len(self)):
            rec = {"x_mm": float(self.xy[i, 0]), "y_mm": float(self.xy[i, 1]), "depth_mm": float(self.depth_mm[i]),
                   "angle_deg": float(self.angle_deg[i]), "volume_ml": float(self.volume_ml[i]),
                   "technique": self.technique_ids[int(self.technique[i])],
                   "bevel": "down" if self.bevel_down[i] else "up", "device": "gun" if self.gun[i] else "hand"}
            if not math.isnan(self.t_s[i]):
                rec["t_s"] = float(self.t_s[i])
            out.append(rec)
        return out

    @classmethod
    def concat(cls, parts: Sequence["Injections"]) -> "Injections":
        """The injections of `parts` one after the other (all with the same technique_ids)."""
        if len(parts) == 1:
            return parts[0]
        ids = parts[0].technique_ids
        if any(p.technique_ids != ids for p in parts):
            raise ValueError("injections with different technique lists cannot be joined")
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) if f != "technique_ids" else ids
                     for f in cls.__dataclass_fields__))

    def take(self, idx) -> "Injections":
        """A subset (or reordering) of the injections."""
        idx = np.asarray(idx)
        return Injections(self.xy[idx].reshape(-1, 2), self.depth_mm[idx], self.angle_deg[idx], self.volume_ml[idx],
                          self.technique[idx], self.technique_ids, self.t_s[idx], self.bevel_down[idx], self.gun[idx])


LOG_COLUMNS = ("x_mm", "y_mm", "depth_mm", "angle_deg", "volume_ml", "technique", "t_s", "bevel", "device")


def write_log(inj: Injections, path: Path | str | None = None) -> str:
    """The injection-log CSV of `inj` (written to `path` too when given)."""
    buf = io.StringIO()
    has_t = bool(np.any(~np.isnan(inj.t_s)))
    cols = [c for c in LOG_COLUMNS if c != "t_s" or has_t]
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for rec in inj.records():
        writer.writerow({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in rec.items()})
    text = buf.getvalue()
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def read_log(path: Path | str, technique_ids: Iterable[str], allowed: Iterable[str]) -> Injections:
    """Read an injection log. `technique_ids` is the library's vocabulary; `allowed` the scenario's techniques,
    used for rows without a technique when there is exactly one. Raises InputError naming FILE:ROW:COLUMN."""
    path = Path(path)
    name = str(path)
    spec = log_spec()
    try:
        size = path.stat().st_size
        if size > spec.max_bytes:
            raise InputError.one(name, f"the file is {size} bytes; the limit for an injection log is "
                                 f"{spec.max_bytes} bytes ({spec.max_rows} rows)", 1, 1)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError.one(name, "no such file") from None
    except IsADirectoryError:
        raise InputError.one(name, "is a folder, not a file") from None
    except OSError as exc:
        raise InputError.one(name, f"cannot be read: {exc.strerror or exc}") from None
    return parse_log(decode_text(name, raw), name, technique_ids, allowed)


_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
"""A number as a log writes it: ASCII digits, an optional point and exponent."""


def parse_log(text: str, name: str, technique_ids: Iterable[str], allowed: Iterable[str]) -> Injections:
    spec = log_spec()
    ids = tuple(technique_ids)
    index = {t: i for i, t in enumerate(ids)}
    allowed = tuple(allowed)
    default_technique = allowed[0] if len(allowed) == 1 else None
    if "\0" in text:
        raise InputError.one(name, "contains NUL bytes: not a CSV text file", 1, 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError.one(name, "the file is empty; it needs a header row: " + ",".join(LOG_COLUMNS[:5]), 1, 1)
    except csv.Error as exc:
        raise InputError.one(name, f"not valid CSV: {exc}", 1, 1) from None
    header = [h.strip() for h in header]
    problems: list[Problem] = []
    known = list(spec.columns)
    for j, h in enumerate(header):
        if h not in spec.columns:
            problems.append(Problem(name, 1, j + 1, h or f"column {j + 1}",
                                    f'unknown column "{h}"' + suggest(h, known) + f'; columns: {", ".join(known)}'))
        elif header.index(h) != j:
            problems.append(Problem(name, 1, j + 1, h, "column appears twice"))
    for c, col in spec.columns.items():
        if col.required and c not in header:
            problems.append(Problem(name, 1, 1, c, "required column is missing"))
    if "technique" not in header and default_technique is None:
        problems.append(Problem(name, 1, 1, "technique", "the column is required: this scenario allows "
                                f"{len(allowed)} techniques ({', '.join(allowed)})"))
    if problems:
        raise InputError(problems)

    positions = {h: j for j, h in enumerate(header)}
    numeric = [c for c in header if spec.columns[c].kind == "number"]
    values = {c: [] for c in numeric}
    techniques: list[int] = []
    bevel: list[bool] = []
    gun: list[bool] = []
    line = 1
    count = 0
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            count += 1
            if count > spec.max_rows:
                raise InputError.one(name, f"more than {spec.max_rows} rows; the limit is {spec.max_rows}", line, 1)
            if len(row) != len(header):
                problems.append(Problem(name, line, min(len(row), len(header)) + 1, "",
                                        f"{len(row)} cells where the header has {len(header)}"))
                if len(problems) >= MAX_PROBLEMS:
                    break
                continue
            for c in numeric:
                cell = row[positions[c]].strip()
                col = spec.columns[c]
                if cell == "" and not col.required:
                    values[c].append(math.nan)
                    continue
                try:
                    if not _NUMBER.fullmatch(cell):  # float() also reads "1_0", "١٠" and "１０" as 10
                        raise ValueError(cell)
                    v = float(cell)
                except ValueError:
                    problems.append(Problem(name, line, positions[c] + 1, c, f"not a number: {cell[:40]!r}"))
                    values[c].append(math.nan)
                    continue
                if not math.isfinite(v) or (col.min is not None and v < col.min) or (
                        col.max is not None and v > col.max):
                    problems.append(Problem(name, line, positions[c] + 1, c,
                                            f"{cell[:40]} is out of range; expected {col.min:g} to {col.max:g}"))
                values[c].append(v)
            tech = row[positions["technique"]].strip() if "technique" in positions else ""
            if not tech:
                if default_technique is None:
                    problems.append(Problem(name, line, positions.get("technique", 0) + 1, "technique",
                                            "empty; this scenario allows several techniques, so each row names one"))
                    techniques.append(0)
                else:
                    techniques.append(index[default_technique])
            elif tech not in index:
                problems.append(Problem(name, line, positions["technique"] + 1, "technique",
                                        f'unknown technique "{tech[:40]}"' + suggest(tech, ids)))
                techniques.append(0)
            else:
                techniques.append(index[tech])
            for c, store, true_value in (("bevel", bevel, "down"), ("device", gun, "gun")):
                cell = row[positions[c]].strip() if c in positions else ""
                col = spec.columns[c]
                if cell == "":
                    cell = col.default or ""
                if cell not in col.choices:
                    problems.append(Problem(name, line, positions[c] + 1, c, f"{cell[:40]!r} is not one of "
                                            + ", ".join(col.choices) + suggest(cell, col.choices)))
                store.append(cell == true_value)
            if len(problems) >= MAX_PROBLEMS:
                break
    except csv.Error as exc:
        problems.append(Problem(name, reader.line_num or line, 1, "", f"not valid CSV: {exc}"))
    if problems:
        raise InputError(problems)
    n = len(techniques)

    def arr(c):
        return np.asarray(values[c], dtype=np.float64) if c in values else np.full(n, math.nan)

    return Injections(
        xy=np.stack([arr("x_mm"), arr("y_mm")], axis=1).reshape(n, 2),
        depth_mm=arr("depth_mm"), angle_deg=arr("angle_deg"), volume_ml=arr("volume_ml"),
        technique=np.asarray(techniques, dtype=np.int64), technique_ids=ids, t_s=arr("t_s"),
        bevel_down=np.asarray(bevel, dtype=bool), gun=np.asarray(gun, dtype=bool))
