"""Reading ``cargo xtask reproduce`` output: ``OUT/figN/runs.csv`` and ``curves/*.json``.

``runs.csv`` has one row per training run (``RunRecord`` in ``crates/studies/src/cnn/csv.rs``);
accuracies there are percentages. ``curves/<slug(group)>-rNN.json`` holds each run's per-epoch
``train_loss``, ``curve_loss`` and ``curve_accuracy`` (a fraction) on the held-out split
(validation, or test for figures without one) and the regulariser's report.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import numpy as np
import pandas as pd

PathLike = Union[str, "os.PathLike[str]"]

#: runs.csv's columns and their pandas dtypes ("float" columns may be empty: NaN).
RUN_COLUMNS: Dict[str, str] = {
    "figure": "string",
    "group": "string",
    "repeat": "int64",
    "seed": "int64",
    "config_hash": "string",
    "regularizers": "string",
    "reference_quirks": "bool",
    "epochs": "int64",
    "batch_size": "int64",
    "lr": "float64",
    "train_images": "int64",
    "test_images": "int64",
    "device": "string",
    "status": "string",
    "message": "string",
    "train_accuracy": "float64",
    "train_loss": "float64",
    "test_accuracy": "float64",
    "test_loss": "float64",
    "neurogenesis_events": "int64",
    "wall_seconds": "float64",
    "images_per_second": "float64",
    "checkpoint": "string",
    "replicas": "int64",
}
#: Columns older files may lack, and their value then (serde defaults).
RUN_DEFAULTS: Dict[str, Any] = {"replicas": 1}


def slug(name: str) -> str:
    """The file-name form of a group name (``runner::slug``): ``Neurogenesis + excitability``
    -> ``neurogenesis-excitability``."""
    out: List[str] = []
    for c in name:
        if c.isascii() and c.isalnum():
            out.append(c.lower())
        elif not out or out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def _runs_csv(figure_dir: PathLike) -> Path:
    p = Path(figure_dir)
    if p.is_file():
        return p
    csv = p / "runs.csv"
    if not csv.exists():
        raise FileNotFoundError(
            f"{csv}: no such file (give a figure's directory of `cargo xtask reproduce` output, "
            "e.g. OUT/fig2)"
        )
    return csv


def _convert(path: Path, name: str, col: pd.Series, dtype: str) -> pd.Series:
    def fail(bad) -> ValueError:
        row = int(bad.index[0]) + 2
        return ValueError(
            f"{path}: row {row} is damaged (column {name}: {bad.iloc[0]!r} is not {dtype})"
        )

    if dtype == "string":
        return col.astype("string")
    if dtype == "bool":
        low = col.str.strip().str.lower()
        ok = low.isin(["true", "false"])
        if not ok.all():
            raise fail(col[~ok])
        return low == "true"
    num = pd.to_numeric(col.where(col.str.strip() != "", None), errors="coerce")
    bad = num.isna() & (col.str.strip() != "")
    if bad.any():
        raise fail(col[bad])
    if dtype == "float64":
        return num.astype("float64")
    if num.isna().any():
        raise fail(col[num.isna()])
    if (num != np.floor(num)).any():
        raise fail(col[num != np.floor(num)])
    if num.dtype == "uint64" and len(num) and int(num.max()) > np.iinfo(np.int64).max:
        return num  # a u64 seed beyond int64: keep it unsigned
    return num.astype(dtype)


def _infer(col: pd.Series) -> pd.Series:
    """A column this version does not know: bool, int, float, else string."""
    s = col.str.strip()
    low = s.str.lower()
    if len(s) and low.isin(["true", "false"]).all():
        return low == "true"
    nonempty = s != ""
    num = pd.to_numeric(s.where(nonempty, None), errors="coerce")
    if nonempty.any() and not (num.isna() & nonempty).any():
        if not num.isna().any() and (num == np.floor(num)).all() and s.str.fullmatch(r"[+-]?\d+").all():
            return num.astype("int64")
        return num.astype("float64")
    return col.astype("string")


def load_runs(figure_dir: PathLike) -> pd.DataFrame:
    """``runs.csv`` of a figure directory (or the CSV itself) as a typed DataFrame.

    Known columns get their types (``RUN_COLUMNS``: strings, ints, bools; the optional metrics
    are float with NaN for failed runs); columns this version does not know are kept, typed as
    bool, int, float or string by their contents. Example:
    ``load_runs("out/fig2").groupby("group").test_accuracy.describe()``."""
    path = _runs_csv(figure_dir)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    missing = [c for c in RUN_COLUMNS if c not in raw.columns and c not in RUN_DEFAULTS]
    if missing:
        raise ValueError(f"{path}: not a runs.csv of `cargo xtask reproduce` (no column {', '.join(missing)})")
    out = {}
    for name in raw.columns:
        if name in RUN_COLUMNS:
            out[name] = _convert(path, name, raw[name], RUN_COLUMNS[name])
        else:
            out[name] = _infer(raw[name])
    df = pd.DataFrame(out, index=raw.index)
    for name, value in RUN_DEFAULTS.items():
        if name not in df.columns:
            df[name] = pd.Series([value] * len(df), dtype=RUN_COLUMNS[name], index=df.index)
    return df


def curves_path(figure_dir: PathLike, group: str, repeat: int) -> Path:
    """Where a run's curves live: ``curves/<slug(group)>-rNN.json``."""
    return Path(figure_dir) / "curves" / f"{slug(group)}-r{int(repeat):02d}.json"


def read_curves(figure_dir: PathLike, group: str, repeat: int) -> Dict[str, Any]:
    """One run's curves JSON as a dict (``train_loss``, ``curve_loss``, ``curve_accuracy``,
    ``regularizer``)."""
    p = curves_path(figure_dir, group, repeat)
    try:
        return json.loads(p.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such file (the run's curves)") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{p} is damaged: {e}") from None


CURVE_KEYS = ("train_loss", "curve_loss", "curve_accuracy")


def load_curves(figure_dir: PathLike, runs: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Every run's per-epoch curves in long format: one row per (run, epoch) with columns
    ``figure, group, repeat, seed, status, epoch, train_loss, curve_loss, curve_accuracy``
    (``curve_*`` on the held-out split; accuracy as a fraction). Failed runs without a curves
    file are skipped; a successful run's missing or damaged file is an error."""
    figure_dir = Path(figure_dir)
    if figure_dir.is_file():
        figure_dir = figure_dir.parent
    if runs is None:
        runs = load_runs(figure_dir)
    rows = []
    for r in runs.itertuples(index=False):
        p = curves_path(figure_dir, r.group, r.repeat)
        if not p.exists() and r.status != "ok":
            continue
        c = read_curves(figure_dir, r.group, r.repeat)
        lens = {k: len(c.get(k) or []) for k in CURVE_KEYS}
        n = max(lens.values())
        for e in range(n):
            row = {"figure": r.figure, "group": r.group, "repeat": r.repeat, "seed": r.seed,
                   "status": r.status, "epoch": e}
            for k in CURVE_KEYS:
                v = c.get(k) or []
                row[k] = float(v[e]) if e < len(v) and v[e] is not None else float("nan")
            rows.append(row)
    cols = ["figure", "group", "repeat", "seed", "status", "epoch", *CURVE_KEYS]
    df = pd.DataFrame(rows, columns=cols)
    df = df.astype({"figure": "string", "group": "string", "status": "string",
                    "repeat": "int64", "seed": runs.seed.dtype, "epoch": "int64",
                    **{k: "float64" for k in CURVE_KEYS}})
    return df
