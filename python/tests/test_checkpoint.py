"""load_checkpoint accepts neurogen's checkpoints and refuses broken ones with a message naming
the tensor (synthetic files here; files written by neurogen in test_against_rust.py)."""
import json

import pytest

torch = pytest.importorskip("torch", reason="torch cannot be imported")
from safetensors.torch import save_file  # noqa: E402

import neurogen  # noqa: E402
from neurogen import CheckpointError, ModelConfig, NeurogenNet, load_checkpoint  # noqa: E402

SMALL = {"in_channels": 3, "in_height": 8, "in_width": 8, "conv_channels": [4, 4],
         "hidden_sizes": [6, 5], "num_classes": 3}


def meta_for(model_cfg, regularizer=None):
    return {"model": model_cfg, "regularizer": regularizer, "epoch": 1, "seed": 0,
            "dataset": "CIFAR-10", "metrics": None, "version": "0.1.0"}


def write(path, tensors, meta=None, model_cfg=SMALL):
    md = {"format": "pt"}
    if meta is not False:
        md["neurogen"] = json.dumps(meta if meta is not None else meta_for(model_cfg))
    save_file(tensors, str(path), metadata=md)
    return path


@pytest.fixture
def good(tmp_path):
    torch.manual_seed(0)
    m = NeurogenNet(ModelConfig.from_dict(SMALL))
    state = {k: v.contiguous() for k, v in m.state_dict().items()}
    return tmp_path, state, m


def test_round_trip(good):
    tmp, state, m = good
    model, meta = load_checkpoint(write(tmp / "a.safetensors", state))
    assert meta["model"] == SMALL and meta["epoch"] == 1
    assert not model.training
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(model(x), m.eval()(x), rtol=0, atol=0)
    assert neurogen.read_metadata(tmp / "a.safetensors")["seed"] == 0


def test_other_float_dtypes_load_as_f32(good):
    tmp, state, _ = good
    model, _ = load_checkpoint(write(tmp / "a.safetensors", {k: v.double() for k, v in state.items()}))
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_grown_hidden_layer_loads(good):
    tmp, state, _ = good
    cfg = dict(SMALL, hidden_sizes=[9, 5])
    grown = {k: v.contiguous() for k, v in NeurogenNet(ModelConfig.from_dict(cfg)).state_dict().items()}
    model, _ = load_checkpoint(write(tmp / "g.safetensors", grown, model_cfg=cfg))
    assert model.fcs[0].out_features == 9 and model.fcs[1].in_features == 9


def expect_refused(path, match):
    with pytest.raises(CheckpointError, match=match) as e:
        load_checkpoint(path)
    assert str(path) in str(e.value)
    return e.value


def test_truncated_file(good):
    tmp, state, _ = good
    p = write(tmp / "a.safetensors", state)
    data = p.read_bytes()
    for cut in (len(data) - 7, 100, 5):
        (tmp / "t.safetensors").write_bytes(data[:cut])
        expect_refused(tmp / "t.safetensors", "not a safetensors file")


def test_not_a_safetensors_file(tmp_path):
    (tmp_path / "x").write_bytes(b"\xff" * 64)
    expect_refused(tmp_path / "x", "not a safetensors file")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weight_names_the_tensor(good, value):
    tmp, state, _ = good
    state["fcs.1.weight"][2, 3] = value
    expect_refused(write(tmp / "n.safetensors", state), r"tensor fcs\.1\.weight holds a non-finite")


def test_wrong_shape_names_the_tensor(good):
    tmp, state, _ = good
    state["conv2.weight"] = torch.zeros(4, 4, 5, 5)
    expect_refused(write(tmp / "s.safetensors", state),
                   r"tensor conv2\.weight has shape \[4, 4, 5, 5\], the model config needs \[4, 4, 3, 3\]")


def test_missing_tensor(good):
    tmp, state, _ = good
    del state["fcs.0.bias"]
    expect_refused(write(tmp / "m.safetensors", state), r"missing tensor fcs\.0\.bias")


def test_extra_tensor(good):
    tmp, state, _ = good
    state["fc3.bias"] = torch.zeros(3)
    expect_refused(write(tmp / "e.safetensors", state), r"unexpected tensor fc3\.bias")


def test_integer_dtype(good):
    tmp, state, _ = good
    state["conv1.bias"] = torch.zeros(4, dtype=torch.int32)
    expect_refused(write(tmp / "i.safetensors", state), r"tensor conv1\.bias has dtype I32, expected F32")


def test_no_or_bad_metadata(good):
    tmp, state, _ = good
    expect_refused(write(tmp / "a.safetensors", state, meta=False), "no `neurogen` metadata")
    save_file(state, str(tmp / "b.safetensors"), metadata={"neurogen": "{not json"})
    expect_refused(tmp / "b.safetensors", "`neurogen` metadata is not valid")
    expect_refused(write(tmp / "c.safetensors", state, model_cfg=dict(SMALL, hidden_sizes=[])), "hidden_sizes")


def test_checkpoint_without_its_regularizers_warns_or_is_refused(good):
    tmp, state, m = good
    bare = write(tmp / "bare.safetensors", state)  # regularizer: null
    with pytest.warns(neurogen.IncompleteCheckpointWarning, match="regularizer.config"):
        model, meta = load_checkpoint(bare)
    assert not neurogen.records_regularizers(meta)
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(model(x), m.eval()(x), rtol=0, atol=0)  # still usable, plain
    with pytest.raises(CheckpointError, match="cannot be evaluated as trained"):
        load_checkpoint(bare, require_regularizers=True)


def test_checkpoint_recording_its_regularizers_loads_silently(good, recwarn):
    tmp, state, _ = good
    control = {"spec": "control (no regulariser)", "report": None,
               "config": {"regularizer": [], "reference_quirks": False}}
    path = write(tmp / "control.safetensors", state, meta=meta_for(SMALL, control))
    model, meta = load_checkpoint(path, require_regularizers=True)
    assert neurogen.records_regularizers(meta) and model.eval_max_norms == []
    dropout = dict(control, config={"regularizer": [{"kind": "dropout", "p": 0.2}],
                                    "reference_quirks": False})
    model, _ = load_checkpoint(write(tmp / "d.safetensors", state, meta=meta_for(SMALL, dropout)))
    assert model.eval_max_norms == [3.0]
    assert not [w for w in recwarn if issubclass(w.category, neurogen.IncompleteCheckpointWarning)]
