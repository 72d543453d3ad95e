"""neurogen in Python: load neurogen's checkpoints into PyTorch, its ``reproduce`` results into
pandas, and its decoded datasets with its normalisation (see docs/python.md).

>>> import neurogen
>>> model, meta = neurogen.load_checkpoint("out/run1/model.safetensors")  # doctest: +SKIP
>>> runs = neurogen.load_runs("out/fig2")                                  # doctest: +SKIP

The results readers (``load_runs``, ``load_curves``) need only pandas; everything else imports
torch on first use.
"""
from .results import curves_path, load_curves, load_runs, read_curves, slug

__version__ = "0.1.0"

_LAZY = {
    "META_KEY": "checkpoint", "CheckpointError": "checkpoint", "load_checkpoint": "checkpoint",
    "read_metadata": "checkpoint", "IncompleteCheckpointWarning": "checkpoint",
    "records_regularizers": "checkpoint",
    "Dataset": "data", "DecodeCacheError": "data", "EvalResult": "data", "Split": "data",
    "cache_file": "data", "evaluate": "data", "load_dataset": "data", "normalize": "data",
    "predict": "data", "read_decode_cache": "data", "subset": "data",
    "ModelConfig": "model", "NeurogenNet": "model", "build_model": "model",
    "eval_max_norms_from_metadata": "model", "renorm_blocks": "model",
}

__all__ = ["curves_path", "load_curves", "load_runs", "read_curves", "slug", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'neurogen' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
