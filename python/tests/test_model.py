"""The network's structure against neurogen's naming, shapes and evaluation hook (no data)."""
import pytest

torch = pytest.importorskip("torch", reason="torch cannot be imported")

import neurogen  # noqa: E402
from neurogen.model import ModelConfig, NeurogenNet, eval_max_norms_from_metadata, renorm_blocks  # noqa: E402

PAPER_SHAPES = {
    "conv1.weight": (16, 3, 3, 3), "conv1.bias": (16,),
    "conv2.weight": (16, 16, 3, 3), "conv2.bias": (16,),
    "conv3.weight": (32, 16, 3, 3), "conv3.bias": (32,),
    "conv4.weight": (32, 32, 3, 3), "conv4.bias": (32,),
    "conv5.weight": (64, 32, 3, 3), "conv5.bias": (64,),
    "conv6.weight": (64, 64, 3, 3), "conv6.bias": (64,),
    "fcs.0.weight": (250, 1024), "fcs.0.bias": (250,),
    "fcs.1.weight": (250, 250), "fcs.1.bias": (250,),
    "fcs.2.weight": (250, 250), "fcs.2.bias": (250,),
    "fc3.weight": (10, 250),
}


def test_paper_network_has_the_checkpoint_names_and_shapes():
    m = NeurogenNet(ModelConfig())
    got = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert got == PAPER_SHAPES
    assert dict(ModelConfig().parameter_shapes()) == PAPER_SHAPES
    assert m(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_fashion_mnist_and_grown_widths():
    cfg = ModelConfig.from_dict({"in_channels": 1, "in_height": 28, "in_width": 28,
                                 "conv_channels": [16, 16, 32, 32, 64, 64],
                                 "hidden_sizes": [250, 258, 250], "num_classes": 10})
    m = NeurogenNet(cfg)
    sd = m.state_dict()
    assert tuple(sd["fcs.0.weight"].shape) == (250, 576)
    assert tuple(sd["fcs.1.weight"].shape) == (258, 250)
    assert tuple(sd["fcs.2.weight"].shape) == (250, 258)
    assert m(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_mlp_without_convolutions_flattens_the_input():
    cfg = ModelConfig.from_dict({"in_channels": 1, "in_height": 28, "in_width": 28,
                                 "conv_channels": [], "hidden_sizes": [100, 50],
                                 "num_classes": 10, "kind": "mlp"})
    assert cfg.extra == {"kind": "mlp"}
    m = NeurogenNet(cfg)
    assert sorted(m.state_dict()) == ["fc3.weight", "fcs.0.bias", "fcs.0.weight",
                                      "fcs.1.bias", "fcs.1.weight"]
    assert tuple(m.state_dict()["fcs.0.weight"].shape) == (100, 784)
    x = torch.randn(5, 1, 28, 28)
    expect = m.fc3(torch.relu(m.fcs[1](torch.relu(m.fcs[0](x.flatten(1))))))
    torch.testing.assert_close(m(x), expect)


def test_forward_is_conv_relu_pool_then_linear_relu():
    torch.manual_seed(0)
    cfg = ModelConfig(conv_channels=[4, 4, 8, 8], hidden_sizes=[12, 7])
    m = NeurogenNet(cfg).eval()
    x = torch.randn(6, 3, 32, 32)
    h = x
    for i in range(4):
        conv = getattr(m, f"conv{i + 1}")
        h = torch.relu(torch.nn.functional.conv2d(h, conv.weight, conv.bias, padding=1))
        if i % 2 == 1:
            h = torch.nn.functional.max_pool2d(h, 2)
    h = h.flatten(1)
    assert h.shape[1] == 8 * 8 * 8 == cfg.flatten_dim()
    for fc in m.fcs:
        h = torch.relu(h @ fc.weight.T + fc.bias)
    torch.testing.assert_close(m(x), h @ m.fc3.weight.T)


def test_renorm_blocks_equals_torch_renorm_on_each_block_of_four():
    torch.manual_seed(1)
    for n in (1, 4, 7, 13):
        a = torch.rand(n, 9) * 6 + 1
        expect = torch.cat([torch.renorm(b, 1, 1, 3.0) for b in a.split(4, 0)])
        got = renorm_blocks(a, 3.0)
        torch.testing.assert_close(got, expect, rtol=1e-6, atol=1e-6)
        assert not torch.equal(got, a)  # the bound is active in this data


def test_eval_hook_only_in_eval_mode_and_only_for_dropout_with_eval_renorm():
    reg = lambda *specs: {"config": {"reference_quirks": False, "regularizer": list(specs)}}  # noqa: E731
    drop = {"kind": "dropout", "p": 0.2, "max_norm": 3.0, "eval_renorm": True}
    assert eval_max_norms_from_metadata(reg(drop)) == [3.0]
    assert eval_max_norms_from_metadata(reg({**drop, "eval_renorm": False})) == []
    assert eval_max_norms_from_metadata(reg({**drop, "max_norm": 0.0})) == []
    assert eval_max_norms_from_metadata(reg({"kind": "neurogenesis", "n": 8}, {"kind": "weight-decay"})) == []
    assert eval_max_norms_from_metadata(None) == []
    with pytest.warns(UserWarning, match="unknown"):
        assert eval_max_norms_from_metadata(reg({"kind": "something-new"})) == []

    torch.manual_seed(2)
    cfg = ModelConfig(conv_channels=[4, 4], hidden_sizes=[16])
    m = neurogen.build_model(cfg, reg(drop))
    with torch.no_grad():
        m.fcs[0].weight.mul_(50)
    x = torch.randn(8, 3, 32, 32)
    plain = NeurogenNet(cfg)
    plain.load_state_dict(m.state_dict())
    m.eval(), plain.eval()
    assert not torch.allclose(m(x), plain(x))  # renorm acts in eval
    m.train(), plain.train()
    torch.testing.assert_close(m(x), plain(x))  # and not in training mode


@pytest.mark.parametrize("bad, match", [
    ({"hidden_sizes": []}, "hidden_sizes"),
    ({"hidden_sizes": [250, 0]}, "hidden_sizes"),
    ({"conv_channels": [16, 16, 32]}, "even"),
    ({"in_height": 4}, "too small"),
    ({"num_classes": 1}, "num_classes"),
    ({"in_channels": -1}, "in_channels"),
    ({"hidden_sizes": "250"}, "hidden_sizes"),
])
def test_config_validation_names_the_bad_size(bad, match):
    d = ModelConfig().to_dict()
    d.update(bad)
    with pytest.raises(ValueError, match=match):
        ModelConfig.from_dict(d)
