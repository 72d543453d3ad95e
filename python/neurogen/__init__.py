"""neurogen in Python: load neurogen's checkpoints into PyTorch, its ``reproduce`` results into
pandas, and its decoded datasets with its normalisation (see docs/python.md).

>>> import neurogen
>>> model, meta = neurogen.load_checkpoint("out/run1/model.safetensors")  # doctest: +SKIP
>>> runs = neurogen.load_runs("out/fig2")                                  # doctest: +SKIP
"""
from .checkpoint import META_KEY, CheckpointError, load_checkpoint, read_metadata
from .data import (
    Dataset,
    DecodeCacheError,
    EvalResult,
    Split,
    cache_file,
    evaluate,
    load_dataset,
    normalize,
    predict,
    read_decode_cache,
    subset,
)
from .model import ModelConfig, NeurogenNet, build_model, eval_max_norms_from_metadata, renorm_blocks
from .results import curves_path, load_curves, load_runs, read_curves, slug

__version__ = "0.1.0"

__all__ = [
    "META_KEY", "CheckpointError", "load_checkpoint", "read_metadata",
    "Dataset", "DecodeCacheError", "EvalResult", "Split", "cache_file", "evaluate",
    "load_dataset", "normalize", "predict", "read_decode_cache", "subset",
    "ModelConfig", "NeurogenNet", "build_model", "eval_max_norms_from_metadata", "renorm_blocks",
    "curves_path", "load_curves", "load_runs", "read_curves", "slug",
]
