"""What neurogen's command line writes loads in Python and computes the same numbers:
logits to 1e-5 and equal accuracy on the same test images, with dropout's evaluation max-norm
both inactive and active; files neurogen refuses are refused here too."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch cannot be imported")
from safetensors.numpy import load_file  # noqa: E402
from safetensors.torch import load_file as load_torch, save_file  # noqa: E402

import neurogen  # noqa: E402
from conftest import run_xtask  # noqa: E402


@pytest.fixture(scope="module")
def test_split(xtask, cifar10):
    run_xtask(xtask, "data", "summary", "--data", str(cifar10))  # writes the decode cache
    return neurogen.load_dataset(cifar10).test


def rust_eval(xtask, cifar10, checkpoint, subset, dump):
    out = run_xtask(xtask, "eval", "--checkpoint", str(checkpoint), "--data", str(cifar10),
                    "--subset", str(subset), "--json", "--dump-logits", str(dump)).stdout
    return json.loads(out), load_file(str(dump))


def compare(model, split, ev, dump):
    images = neurogen.subset(split, dump["indices"])
    np.testing.assert_array_equal(images.labels, dump["labels"])
    logits = neurogen.predict(model, images.images)
    ours = torch.from_numpy(dump["logits"])
    diff = (logits - ours).abs().max().item()
    assert diff <= 1e-5, f"logits differ from neurogen's by {diff}"
    r = neurogen.evaluate(model, images)
    assert r.n == ev["n"] == len(ours)
    assert r.accuracy == ev["accuracy"], (r, ev)
    assert r.loss == pytest.approx(ev["loss"], rel=1e-5)
    return logits


def test_trained_checkpoint_matches_neurogen(tiny_run, test_split):
    model, meta = neurogen.load_checkpoint(tiny_run["checkpoint"])
    assert meta["model"]["hidden_sizes"] == [250, 250, 250]
    assert meta["regularizer"]["config"]["regularizer"][0]["kind"] == "dropout"
    assert model.eval_max_norms == [3.0]  # dropout's eval_renorm is on by default
    names = {k: tuple(v.shape) for k, v in load_torch(str(tiny_run["checkpoint"])).items()}
    assert names == {k: tuple(v.shape) for k, v in model.state_dict().items()}
    compare(model, test_split, tiny_run["eval"], load_file(str(tiny_run["logits"])))


def test_accuracy_equals_the_training_runs_own_evaluation(tiny_run, test_split, xtask, cifar10):
    # `train --eval-subset 100` and `eval --subset 100` take the same images.
    ev, dump = rust_eval(xtask, cifar10, tiny_run["checkpoint"], 100, tiny_run["dir"] / "l100.safetensors")
    final = neurogen.read_metadata(tiny_run["checkpoint"])["metrics"]["final_eval"]
    assert (final["n"], final["accuracy"]) == (ev["n"], ev["accuracy"])
    model, _ = neurogen.load_checkpoint(tiny_run["checkpoint"])
    r = neurogen.evaluate(model, neurogen.subset(test_split, dump["indices"]))
    assert r.accuracy == final["accuracy"]


def test_active_eval_max_norm_matches_neurogen(tiny_run, test_split, xtask, cifar10, tmp_path):
    # Larger hidden weights push the units' L1 norms over 3, so the block-of-4 renorm acts.
    state = load_torch(str(tiny_run["checkpoint"]))
    for k in state:
        if k.startswith("fcs."):
            state[k] = state[k] * 6
    meta = neurogen.read_metadata(tiny_run["checkpoint"])
    big = tmp_path / "big.safetensors"
    save_file(state, str(big), metadata={"format": "pt", "neurogen": json.dumps(meta)})
    ev, dump = rust_eval(xtask, cifar10, big, 400, tmp_path / "big-logits.safetensors")
    model, _ = neurogen.load_checkpoint(big)
    logits = compare(model, test_split, ev, dump)
    model.eval_max_norms = []
    plain = neurogen.predict(model, neurogen.subset(test_split, dump["indices"]).images)
    assert (plain - logits).abs().max().item() > 1e-2, "the max-norm did not act: test is void"


def test_reproduce_checkpoint_with_neurogenesis_matches(smoke_fig2, test_split, xtask, cifar10, tmp_path):
    runs = neurogen.load_runs(smoke_fig2)
    row = runs[runs.group == "Neurogenesis + excitability"].iloc[0]
    ck = smoke_fig2 / row.checkpoint
    model, meta = neurogen.load_checkpoint(ck)
    assert model.eval_max_norms == []  # neurogenesis has no evaluation hook
    assert meta["seed"] == row.seed
    ev, dump = rust_eval(xtask, cifar10, ck, 200, tmp_path / "ng.safetensors")
    compare(model, test_split, ev, dump)


def test_broken_files_are_refused_by_both(tiny_run, xtask, cifar10, tmp_path):
    data = tiny_run["checkpoint"].read_bytes()

    def both_refuse(name, content, python_match, rust_match):
        p = tmp_path / name
        p.write_bytes(content)
        with pytest.raises(neurogen.CheckpointError, match=python_match):
            neurogen.load_checkpoint(p)
        if rust_match is not None:
            r = run_xtask(xtask, "eval", "--checkpoint", str(p), "--data", str(cifar10),
                          "--subset", "4", check=False)
            assert r.returncode != 0 and rust_match in r.stderr, r.stderr

    both_refuse("truncated.safetensors", data[: len(data) // 2], "not a safetensors file",
                "not a safetensors file")
    state = load_torch(str(tiny_run["checkpoint"]))
    meta = neurogen.read_metadata(tiny_run["checkpoint"])
    md = {"format": "pt", "neurogen": json.dumps(meta)}

    wrong = dict(state, **{"fcs.1.weight": torch.zeros(250, 251)})
    save_file(wrong, str(tmp_path / "w.safetensors"), metadata=md)
    both_refuse("wrong-shape.safetensors", (tmp_path / "w.safetensors").read_bytes(),
                r"tensor fcs\.1\.weight has shape \[250, 251\]", "tensor fcs.1.weight has shape [250, 251]")

    extra = dict(state, **{"fc3.bias": torch.zeros(10)})
    save_file(extra, str(tmp_path / "e.safetensors"), metadata=md)
    both_refuse("extra.safetensors", (tmp_path / "e.safetensors").read_bytes(),
                r"unexpected tensor fc3\.bias", "unexpected tensor fc3.bias")

    # NaN: refused in Python (neurogen's loader does not look at values; its training stops
    # on a non-finite weight, so it never writes one).
    nan = dict(state)
    nan["conv3.weight"] = nan["conv3.weight"].clone()
    nan["conv3.weight"][0, 0, 0, 0] = float("nan")
    save_file(nan, str(tmp_path / "n.safetensors"), metadata=md)
    both_refuse("nan.safetensors", (tmp_path / "n.safetensors").read_bytes(),
                r"tensor conv3\.weight holds a non-finite value", None)


def test_library_checkpoint_records_what_evaluation_as_trained_needs(tiny_run, test_split, recwarn):
    # `xtask train` saves through the library call (neurogen_regularizers::save_trained): the
    # checkpoint records its regularisers, loads without a warning even when they are required,
    # and evaluates to the run's own final evaluation on the run's own images.
    model, meta = neurogen.load_checkpoint(tiny_run["checkpoint"], require_regularizers=True)
    assert meta["regularizer"]["spec"].startswith("dropout:")
    assert meta["regularizer"]["report"] == meta["metrics"]["regularizer"]
    assert not [w for w in recwarn if issubclass(w.category, neurogen.IncompleteCheckpointWarning)]
    final = meta["metrics"]["final_eval"]
    ev = tiny_run["eval"]  # `xtask eval --subset 400`: Rust's evaluation of the loaded file
    dump = load_file(str(tiny_run["logits"]))
    r = neurogen.evaluate(model, neurogen.subset(test_split, dump["indices"]))
    assert (r.n, r.accuracy) == (ev["n"], ev["accuracy"])
    assert final["n"] == 100 and 0.0 <= final["accuracy"] <= 1.0
