"""The paper's network as a ``torch.nn.Module`` with neurogen's parameter names and shapes.

Mirrors ``crates/model/src/net.rs`` and ``config.rs``: 3x3 convolutions with padding 1 and
ReLU, a 2x2 max-pool after every second convolution, flatten, hidden fully connected layers
with ReLU (``fcs.0``, ``fcs.1``, ...) and an output layer ``fc3`` without bias. With no
convolutions (an MLP) the features are the flattened input.

Evaluation hooks: neurogen evaluates a network with its regularisers in evaluation mode. The
only regulariser that acts in evaluation is dropout with ``max_norm > 0`` and
``eval_renorm = true`` (the reference code's behaviour): after every hidden layer's ReLU, every
unit's activations are renormalised to L1 norm at most ``max_norm`` over consecutive blocks of
4 examples (``crates/regularizers/src/dropout.rs``). ``NeurogenNet`` applies the same hook in
``eval()`` mode when built with ``eval_max_norms``; in ``train()`` mode it applies no
regulariser at all (dropout masks, neurogenesis, noise are not reproduced here).
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

#: Block size of the evaluation max-norm (the reference's test loader batch size).
REFERENCE_EVAL_BATCH = 4
#: The constant PyTorch's ``renorm`` (and neurogen) adds to the norm before dividing.
RENORM_EPS = 1e-7


@dataclasses.dataclass
class ModelConfig:
    """The network's shape, as the ``model`` object of a checkpoint's ``neurogen`` metadata."""

    in_channels: int = 3
    in_height: int = 32
    in_width: int = 32
    conv_channels: List[int] = dataclasses.field(
        default_factory=lambda: [16, 16, 32, 32, 64, 64]
    )
    hidden_sizes: List[int] = dataclasses.field(default_factory=lambda: [250, 250, 250])
    num_classes: int = 10
    #: Keys of the metadata this version does not know (kept, not interpreted).
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ModelConfig":
        """Reads the metadata's ``model`` object, checking types; unknown keys go to ``extra``."""
        if not isinstance(d, Mapping):
            raise ValueError(f"model config must be a JSON object, got {d!r}")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        missing = [k for k in ("in_channels", "in_height", "in_width", "hidden_sizes",
                               "num_classes") if k not in d]
        if missing:
            raise ValueError(f"model config lacks {', '.join(missing)}: {dict(d)!r}")

        def uint(key: str, v: Any) -> int:
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"model config: {key} must be a non-negative integer, got {v!r}")
            return v

        def uints(key: str, v: Any) -> List[int]:
            if not isinstance(v, list):
                raise ValueError(f"model config: {key} must be a list of integers, got {v!r}")
            return [uint(key, x) for x in v]

        cfg = cls(
            in_channels=uint("in_channels", d["in_channels"]),
            in_height=uint("in_height", d["in_height"]),
            in_width=uint("in_width", d["in_width"]),
            conv_channels=uints("conv_channels", d.get("conv_channels", [])),
            hidden_sizes=uints("hidden_sizes", d["hidden_sizes"]),
            num_classes=uint("num_classes", d["num_classes"]),
            extra={k: v for k, v in d.items() if k not in known},
        )
        cfg.validate()
        return cfg

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        extra = d.pop("extra")
        d.update(extra)
        return d

    def conv_output_hw(self) -> Tuple[int, int]:
        """Spatial size after the convolutions (floor-halved once per pool)."""
        h, w = self.in_height, self.in_width
        for _ in range(len(self.conv_channels) // 2):
            h, w = h // 2, w // 2
        return h, w

    def flatten_dim(self) -> int:
        """Features entering ``fcs.0`` (1024 for CIFAR-10)."""
        h, w = self.conv_output_hw()
        c = self.conv_channels[-1] if self.conv_channels else self.in_channels
        return c * h * w

    def validate(self) -> None:
        """Raises ``ValueError`` saying which size is unusable (as ``ModelConfig::validate``,
        except that no convolutions at all, an MLP, is allowed)."""
        if self.in_channels < 1 or self.in_height < 1 or self.in_width < 1:
            raise ValueError(
                f"input shape must be at least 1x1x1, got "
                f"{self.in_channels}x{self.in_height}x{self.in_width}"
            )
        if len(self.conv_channels) % 2 != 0:
            raise ValueError(
                "conv_channels must hold an even number of layers (a pool follows every "
                f"second), got {self.conv_channels}"
            )
        if 0 in self.conv_channels:
            raise ValueError(f"conv_channels must all be >= 1, got {self.conv_channels}")
        h, w = self.conv_output_hw()
        if h == 0 or w == 0:
            raise ValueError(
                f"input {self.in_height}x{self.in_width} is too small for "
                f"{len(self.conv_channels) // 2} max-pools"
            )
        if not self.hidden_sizes or 0 in self.hidden_sizes:
            raise ValueError(
                f"hidden_sizes must be non-empty with every width >= 1, got {self.hidden_sizes}"
            )
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {self.num_classes}")

    def parameter_shapes(self) -> List[Tuple[str, Tuple[int, ...]]]:
        """Parameter names and shapes in neurogen's order (``conv1.weight`` ... ``fc3.weight``)."""
        out: List[Tuple[str, Tuple[int, ...]]] = []
        c_in = self.in_channels
        for i, c_out in enumerate(self.conv_channels):
            out.append((f"conv{i + 1}.weight", (c_out, c_in, 3, 3)))
            out.append((f"conv{i + 1}.bias", (c_out,)))
            c_in = c_out
        fan_in = self.flatten_dim()
        for i, width in enumerate(self.hidden_sizes):
            out.append((f"fcs.{i}.weight", (width, fan_in)))
            out.append((f"fcs.{i}.bias", (width,)))
            fan_in = width
        out.append(("fc3.weight", (self.num_classes, fan_in)))
        return out


def renorm_blocks(a: torch.Tensor, max_norm: float, block: int = REFERENCE_EVAL_BATCH) -> torch.Tensor:
    """``torch.renorm(x, p=1, dim=1, maxnorm=max_norm)`` on each block of ``block`` consecutive
    rows of a ``[batch, units]`` tensor: a unit whose L1 norm over the block exceeds
    ``max_norm`` is scaled by ``max_norm / (norm + 1e-7)`` (neurogen's evaluation max-norm)."""
    n, width = a.shape
    parts = []
    full = (n // block) * block
    if full:
        x = a[:full].reshape(n // block, block, width)
        parts.append(_renorm_dim(x, 1, max_norm).reshape(full, width))
    if full < n:
        parts.append(_renorm_dim(a[full:], 0, max_norm))
    return torch.cat(parts, 0) if len(parts) > 1 else parts[0]


def _renorm_dim(x: torch.Tensor, dim: int, max_norm: float) -> torch.Tensor:
    # The same arithmetic as neurogen's renorm_l1 (hooks.rs): f32 sum of |x|, then
    # max_norm * 1/(norm + eps) where the norm exceeds max_norm.
    norms = x.abs().sum(dim, keepdim=True)
    factor = (norms + RENORM_EPS).reciprocal() * max_norm
    scale = torch.where(norms > max_norm, factor, torch.ones_like(factor))
    return x * scale


class NeurogenNet(nn.Module):
    """neurogen's CNN (``Cnn`` in ``crates/model/src/net.rs``), or an MLP when the config
    has no convolutions. ``state_dict()`` keys and shapes are exactly a checkpoint's."""

    def __init__(self, config: ModelConfig, eval_max_norms: Sequence[float] = ()):
        super().__init__()
        config.validate()
        self.config = config
        #: Max-norm bounds applied (in order) after every hidden ReLU in ``eval()`` mode.
        self.eval_max_norms = [float(m) for m in eval_max_norms]
        c_in = config.in_channels
        self._conv_names: List[str] = []
        for i, c_out in enumerate(config.conv_channels):
            name = f"conv{i + 1}"
            setattr(self, name, nn.Conv2d(c_in, c_out, 3, padding=1))
            self._conv_names.append(name)
            c_in = c_out
        fan_in = config.flatten_dim()
        fcs = []
        for width in config.hidden_sizes:
            fcs.append(nn.Linear(fan_in, width))
            fan_in = width
        self.fcs = nn.ModuleList(fcs)
        self.fc3 = nn.Linear(fan_in, config.num_classes, bias=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened convolutional features, ``[batch, flatten_dim]``."""
        c = self.config
        if x.dim() != 4 or tuple(x.shape[1:]) != (c.in_channels, c.in_height, c.in_width):
            raise ValueError(
                f"input has shape {list(x.shape)}; this network takes "
                f"[batch, {c.in_channels}, {c.in_height}, {c.in_width}]"
            )
        h = x
        for i, name in enumerate(self._conv_names):
            h = F.relu(getattr(self, name)(h))
            if i % 2 == 1:
                h = F.max_pool2d(h, 2, 2)
        return torch.flatten(h, 1)

    def hidden(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Every hidden layer's activations (after ReLU and any evaluation hook)."""
        h = self.features(x)
        out = []
        for fc in self.fcs:
            h = F.relu(fc(h))
            if not self.training:
                for m in self.eval_max_norms:
                    h = renorm_blocks(h, m)
            out.append(h)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, ``[batch, num_classes]``."""
        return self.fc3(self.hidden(x)[-1])


def eval_max_norms_from_metadata(regularizer: Any) -> List[float]:
    """The evaluation max-norm bounds a checkpoint's ``regularizer`` metadata implies: one per
    dropout regulariser with ``max_norm > 0`` and ``eval_renorm`` true, in stack order.

    Known regularisers without evaluation behaviour (neurogenesis, weight decay, noise) give
    nothing; an unknown kind gives a warning, since its evaluation hooks are not reproduced."""
    if not isinstance(regularizer, Mapping):
        return []
    cfg = regularizer.get("config")
    if not isinstance(cfg, Mapping):
        return []
    out = []
    for spec in cfg.get("regularizer") or []:
        kind = spec.get("kind") if isinstance(spec, Mapping) else None
        if kind == "dropout":
            # Missing keys take DropoutConfig's defaults (serde(default)).
            max_norm = float(spec.get("max_norm", 3.0))
            if max_norm > 0 and bool(spec.get("eval_renorm", True)):
                out.append(max_norm)
        elif kind in ("neurogenesis", "weight-decay", "weight_decay", "noise", "neural-noise",
                      "neural_noise"):
            continue
        else:
            warnings.warn(
                f"checkpoint has regulariser {kind!r}, unknown to this version of the neurogen "
                "Python package: its evaluation-mode hooks (if any) are not applied",
                stacklevel=3,
            )
    return out


def build_model(config: ModelConfig, regularizer: Optional[Any] = None) -> NeurogenNet:
    """A freshly initialised network for ``config``, with the evaluation hooks of a checkpoint's
    ``regularizer`` metadata (if given)."""
    return NeurogenNet(config, eval_max_norms_from_metadata(regularizer))
