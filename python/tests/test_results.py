"""load_runs / load_curves on synthetic files and on a real `reproduce fig2 --scale smoke`."""
import json

import pandas as pd
import pytest

from neurogen import load_curves, load_runs, slug

HEADER = ("figure,group,repeat,seed,config_hash,regularizers,reference_quirks,epochs,batch_size,lr,"
          "train_images,test_images,device,status,message,train_accuracy,train_loss,test_accuracy,"
          "test_loss,neurogenesis_events,wall_seconds,images_per_second,checkpoint")
ROWS = [
    "fig2,Control,0,0,aa,none,false,2,4,0.001,320,200,cpu,ok,,13.75,2.24,14.5,2.26,0,4.8,157.1,checkpoints/control-r00.safetensors",
    "fig2,Control,1,1,bb,none,false,2,4,0.001,320,200,cpu,ok,,16.8,2.29,12.0,2.30,0,4.8,157.1,checkpoints/control-r01.safetensors",
    'fig2,Neurogenesis + excitability,0,0,cc,"neurogenesis:n=8,excite=2",true,2,4,0.001,320,200,cpu,failed,diverged: loss is NaN,,,,,3,1.0,10.0,',
]


def write_fig(tmp_path, header=HEADER, rows=ROWS, curves=True):
    d = tmp_path / "fig2"
    (d / "curves").mkdir(parents=True)
    (d / "runs.csv").write_text("\n".join([header, *rows]) + "\n")
    if curves:
        for g, r, n in (("Control", 0, 2), ("Control", 1, 2)):
            (d / "curves" / f"{slug(g)}-r{r:02d}.json").write_text(json.dumps({
                "train_loss": [2.3 - 0.1 * e - r for e in range(n)],
                "curve_loss": [2.2 - 0.1 * e for e in range(n)],
                "curve_accuracy": [0.1 + 0.05 * e for e in range(n)],
                "regularizer": None}))
    return d


def test_slug_matches_the_rust_file_names():
    assert slug("Neurogenesis + excitability") == "neurogenesis-excitability"
    assert slug("  Dropout (p=0.2)!") == "dropout-p-0-2"
    assert slug("Control") == "control"


def test_types_defaults_and_failed_runs(tmp_path):
    df = load_runs(write_fig(tmp_path))
    assert len(df) == 3
    assert df.repeat.dtype == "int64" and df.epochs.dtype == "int64" and df.seed.dtype == "int64"
    assert df.test_accuracy.dtype == "float64" and df.lr.dtype == "float64"
    assert df.reference_quirks.dtype == bool and df.reference_quirks.tolist() == [False, False, True]
    assert df.group.dtype == "string" and df.message.iloc[0] == ""
    assert df.regularizers.iloc[0] == "none"  # not read as missing
    assert df.replicas.tolist() == [1, 1, 1]  # older files: serde default
    failed = df[df.status == "failed"].iloc[0]
    assert pd.isna(failed.test_accuracy) and failed.neurogenesis_events == 3
    desc = df[df.status == "ok"].groupby("group").test_accuracy.describe()
    assert desc.loc["Control", "count"] == 2 and desc.loc["Control", "mean"] == pytest.approx(13.25)


def test_unknown_columns_are_kept_and_typed(tmp_path):
    rows = [r + f",{i},{i}.5,yes{i},true" for i, r in enumerate(ROWS)]
    df = load_runs(write_fig(tmp_path, HEADER + ",new_int,new_float,new_text,new_flag", rows))
    assert df.new_int.dtype == "int64" and df.new_int.tolist() == [0, 1, 2]
    assert df.new_float.dtype == "float64" and df.new_text.dtype == "string"
    assert df.new_flag.dtype == bool


def test_damaged_row_and_wrong_file(tmp_path):
    bad = ROWS[:1] + [ROWS[1].replace(",2,4,0.001", ",two,4,0.001")]
    with pytest.raises(ValueError, match=r"row 3 is damaged \(column epochs"):
        load_runs(write_fig(tmp_path, rows=bad))
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a runs.csv"):
        load_runs(tmp_path / "other.csv")
    with pytest.raises(FileNotFoundError, match="runs.csv"):
        load_runs(tmp_path / "nowhere")


def test_curves_long_format(tmp_path):
    d = write_fig(tmp_path)
    c = load_curves(d)
    assert len(c) == 4  # two ok runs x two epochs; the failed run has no file
    assert list(c.columns) == ["figure", "group", "repeat", "seed", "status", "epoch",
                               "train_loss", "curve_loss", "curve_accuracy"]
    r1 = c[(c.repeat == 1) & (c.epoch == 1)].iloc[0]
    assert r1.train_loss == pytest.approx(1.2) and r1.curve_accuracy == pytest.approx(0.15)
    (d / "curves" / "control-r01.json").unlink()
    with pytest.raises(FileNotFoundError, match="control-r01.json"):
        load_curves(d)


def test_smoke_reproduce_output(smoke_fig2):
    df = load_runs(smoke_fig2)
    assert set(df.group) == {"Control", "Neurogenesis", "Neurogenesis + excitability",
                             "Frozen layers"}
    assert (df.status == "ok").all() and len(df) == 8
    for col in ("repeat", "seed", "epochs", "batch_size", "train_images", "neurogenesis_events", "replicas"):
        assert pd.api.types.is_integer_dtype(df[col]), col
    for col in ("test_accuracy", "train_accuracy", "test_loss", "lr", "wall_seconds"):
        assert df[col].dtype == "float64", col
    desc = df.groupby("group").test_accuracy.describe()
    assert (desc["count"] == 2).all() and desc["mean"].between(0, 100).all()
    without = df.group.isin(["Control", "Frozen layers"])
    assert (df[without].neurogenesis_events == 0).all()
    assert (df[~without].neurogenesis_events > 0).all()
    for p in df.checkpoint:
        assert (smoke_fig2 / p).exists()
    c = load_curves(smoke_fig2, df)
    assert len(c) == int(df.epochs.sum())
    raw = json.loads((smoke_fig2 / "curves" / "neurogenesis-excitability-r01.json").read_text())
    got = c[(c.group == "Neurogenesis + excitability") & (c.repeat == 1)].sort_values("epoch")
    assert got.curve_loss.tolist() == raw["curve_loss"]
    assert got.curve_accuracy.tolist() == raw["curve_accuracy"]
