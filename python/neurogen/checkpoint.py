"""Loading neurogen's safetensors checkpoints (``crates/model/src/checkpoint.rs``).

A checkpoint holds the network's parameters (``conv1.weight`` ... ``fc3.weight``, f32) and, in
the safetensors metadata, ``neurogen`` = JSON with ``model`` (the network's shape, hidden widths
after any growth), ``regularizer``, ``epoch``, ``seed``, ``dataset``, ``metrics``, ``version``.
``load_checkpoint`` refuses what neurogen's Rust loader refuses, with the same messages: not a
safetensors file (e.g. truncated), no or invalid ``neurogen`` metadata, a missing, extra or
wrongly shaped tensor, a non-float dtype; and also any non-finite (NaN, inf) weight.

Evaluating a network *as trained* needs its regularisers' evaluation hooks (dropout's max-norm),
which the metadata records as ``regularizer.config`` (``RegularizerRecord`` in
``crates/regularizers/src/trained.rs``, written by ``neurogen_regularizers::save_trained`` and
``cargo xtask``). A checkpoint without it loads as the plain network with an
:class:`IncompleteCheckpointWarning` (or is refused with ``require_regularizers=True``): its
accuracy may differ from the run's own.
"""
from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from typing import Any, Dict, Tuple, Union

import torch

from .model import ModelConfig, NeurogenNet, eval_max_norms_from_metadata

#: The safetensors metadata key holding neurogen's JSON.
META_KEY = "neurogen"
#: Dtypes neurogen's loader accepts (converted to f32).
FLOAT_DTYPES = {"F32", "F64", "F16", "BF16"}

PathLike = Union[str, "os.PathLike[str]"]


class CheckpointError(ValueError):
    """A file that is not a valid neurogen checkpoint; the message names the file and reason."""

    def __init__(self, path: PathLike, reason: str):
        super().__init__(f"checkpoint {os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


class IncompleteCheckpointWarning(UserWarning):
    """A checkpoint that does not record its regularisers (``regularizer.config``): it is
    evaluated as the plain network, which may differ from the run's own accuracy."""


def records_regularizers(meta: Dict[str, Any]) -> bool:
    """Whether checkpoint metadata records the regularisers its evaluation needs: a
    ``regularizer`` object with a ``config`` object (an empty set for a run without any)."""
    reg = meta.get("regularizer")
    return isinstance(reg, Mapping) and isinstance(reg.get("config"), Mapping)


def _read_header(path: PathLike) -> Tuple[Dict[str, Any], Dict[str, str], bytes]:
    """The safetensors header (tensor entries), its ``__metadata__`` and the file's bytes, with
    every offset checked against the file's length."""
    with open(path, "rb") as f:
        data = f.read()
    bad = lambda why: CheckpointError(path, f"not a safetensors file ({why})")  # noqa: E731
    if len(data) < 8:
        raise bad(f"{len(data)} bytes, too short for a header")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise bad(f"header of {n} bytes but the file has {len(data) - 8} after its length: truncated?")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f"header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    body = len(data) - 8 - n
    end = 0
    for name, entry in header.items():
        try:
            begin, stop = entry["data_offsets"]
            shape, dtype = entry["shape"], entry["dtype"]
        except (KeyError, TypeError, ValueError):
            raise bad(f"tensor {name} has a malformed header entry") from None
        if not (0 <= begin <= stop <= body):
            raise bad(
                f"tensor {name} lies at bytes {begin}..{stop} but the data holds {body}: truncated?"
            )
        end = max(end, stop)
    if end != body:
        raise bad(f"the data holds {body} bytes but the tensors use {end}")
    return header, meta, data


def read_metadata(path: PathLike) -> Dict[str, Any]:
    """The checkpoint's ``neurogen`` metadata as a dict (no tensors are read)."""
    _, meta, _ = _read_header(path)
    return _parse_meta(path, meta)


def _parse_meta(path: PathLike, meta: Dict[str, str]) -> Dict[str, Any]:
    text = meta.get(META_KEY)
    if text is None:
        raise CheckpointError(path, f"no `{META_KEY}` metadata: not written by neurogen")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as e:
        raise CheckpointError(path, f"`{META_KEY}` metadata is not valid: {e}") from None
    if not isinstance(parsed, dict) or "model" not in parsed:
        raise CheckpointError(path, f"`{META_KEY}` metadata is not valid: no `model` object")
    return parsed


def load_checkpoint(
    path: PathLike,
    device: Union[str, torch.device] = "cpu",
    *,
    require_regularizers: bool = False,
) -> Tuple[NeurogenNet, Dict[str, Any]]:
    """Loads a checkpoint written by neurogen (``cargo xtask train``/``reproduce``,
    ``neurogen_regularizers::save_trained``).

    Returns ``(model, metadata)``: the network in ``eval()`` mode, with the checkpoint's
    evaluation hooks (dropout's max-norm when ``eval_renorm``), and the ``neurogen`` metadata
    as a dict. Raises :class:`CheckpointError` for an invalid file. A checkpoint that does not
    record its regularisers (``regularizer.config``) cannot be evaluated as trained: it loads
    as the plain network with an :class:`IncompleteCheckpointWarning`, or is refused
    (:class:`CheckpointError`) with ``require_regularizers=True``."""
    from safetensors.torch import load as st_load

    header, raw_meta, data = _read_header(path)
    meta = _parse_meta(path, raw_meta)
    try:
        config = ModelConfig.from_dict(meta["model"])
    except ValueError as e:
        raise CheckpointError(path, str(e)) from None
    expected = config.parameter_shapes()
    for name, shape in expected:
        entry = header.get(name)
        if entry is None:
            raise CheckpointError(path, f"missing tensor {name}")
        if tuple(entry["shape"]) != shape:
            raise CheckpointError(
                path,
                f"tensor {name} has shape {list(entry['shape'])}, the model config needs {list(shape)}",
            )
    for name in sorted(header):
        if header[name]["dtype"] not in FLOAT_DTYPES:
            raise CheckpointError(path, f"tensor {name} has dtype {header[name]['dtype']}, expected F32")
    names = {n for n, _ in expected}
    extra = sorted(n for n in header if n not in names)
    if extra:
        raise CheckpointError(
            path,
            f"unexpected tensor {extra[0]} (the model has conv1..conv{len(config.conv_channels)}, "
            f"fcs.0..fcs.{len(config.hidden_sizes) - 1}, fc3)",
        )
    try:
        tensors = st_load(data)
    except Exception as e:  # safetensors raises its own error type
        raise CheckpointError(path, f"not a safetensors file ({e})") from None
    state = {}
    for name, _ in expected:
        t = tensors[name].to(torch.float32)
        if not bool(torch.isfinite(t).all()):
            raise CheckpointError(path, f"tensor {name} holds a non-finite value (NaN or infinity)")
        state[name] = t
    if not records_regularizers(meta):
        why = (
            "does not record its regularisers (metadata regularizer.config), so it cannot be "
            "evaluated as trained: the plain network's accuracy may differ from the run's own "
            "(dropout's evaluation max-norm); save it with neurogen_regularizers::save_trained"
        )
        if require_regularizers:
            raise CheckpointError(path, why)
        warnings.warn(f"checkpoint {os.fspath(path)} {why}", IncompleteCheckpointWarning, stacklevel=2)
    model = NeurogenNet(config, eval_max_norms_from_metadata(meta.get("regularizer")))
    model.load_state_dict(state, strict=True)
    model.eval()
    return model.to(device), meta
