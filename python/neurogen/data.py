"""Datasets as neurogen sees them: its normalisation and its decoded pixels.

neurogen feeds the network ``(x / 255 - 0.5) / 0.5`` (``crates/data/src/dataset.rs``) of
images decoded by its own JPEG/PNG decoder. Other decoders (Pillow, libjpeg) give pixels a few
levels off on every CIFAR-10 JPEG, so to get neurogen's accuracy in Python, use neurogen's
decoded pixels: its *decode cache*, written the first time any ``cargo xtask`` command loads a
dataset (``cargo xtask data summary --data SOURCE`` does just that). :func:`load_dataset`
finds that cache for a source (``$NEUROGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/neurogen``, else
``~/.cache/neurogen``, as neurogen), checks that it is current (the source's size and
modification time) and intact (CRC-32), and returns the images in neurogen's order (image
folders: by class, then file name).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
import zlib
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

MAGIC = b"NGDCACHE"
#: The decode cache's format version this package reads (``cache::FORMAT_VERSION``).
CACHE_FORMAT_VERSION = 1
_MAX_DEPTH = 6

PathLike = Union[str, "os.PathLike[str]"]


def normalize(images: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
    """``uint8`` images ``[N, C, H, W]`` to the network's float32 input ``(x/255 - 0.5)/0.5``."""
    if isinstance(images, np.ndarray) and not images.flags.writeable:
        images = np.array(images)  # torch wants writable memory (decode caches are read-only)
    x = torch.as_tensor(images)
    if x.dtype != torch.uint8:
        raise TypeError(f"normalize expects uint8 pixels, got {x.dtype}")
    return (x.to(torch.float32) / 255.0 - 0.5) / 0.5


@dataclasses.dataclass
class Split:
    """One split: ``images`` uint8 ``[N, C, H, W]``, ``labels`` int64 ``[N]``."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclasses.dataclass
class Dataset:
    """A decoded dataset as neurogen holds it."""

    kind: str
    class_names: List[str]
    train: Split
    test: Split
    #: The decode-cache file it was read from.
    path: Optional[Path] = None


_KINDS = {0: "cifar10", 1: "fashion-mnist"}


def default_cache_dir() -> Optional[Path]:
    """neurogen's decode-cache directory (``cache::default_cache_dir``)."""
    for key, sub in (("NEUROGEN_CACHE_DIR", None), ("XDG_CACHE_HOME", "neurogen")):
        v = os.environ.get(key)
        if v:
            return Path(v) / sub if sub else Path(v)
    home = os.environ.get("HOME")
    return Path(home) / ".cache" / "neurogen" if home else None


def cache_file(source: PathLike, cache_dir: Optional[PathLike] = None) -> Path:
    """The decode-cache file neurogen uses for ``source`` (``cache::cache_file``)."""
    canonical = os.path.realpath(os.fspath(source))
    d = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if d is None:
        raise ValueError("no cache directory: set NEUROGEN_CACHE_DIR or HOME")
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
    base = os.path.basename(canonical) or "root"
    name = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "_" for c in base)[:48]
    return d / f"{name}-{digest}.ngcache"


def _walk(root: str) -> List[Tuple[str, str]]:
    out: List[Tuple[str, str]] = []

    def walk(d: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        for entry in os.scandir(d):
            if entry.name.startswith("."):
                continue
            try:
                st = os.stat(entry.path)
            except OSError:
                if os.path.islink(entry.path):
                    continue
                raise
            if os.path.isdir(entry.path):
                walk(entry.path, depth + 1)
            elif os.path.isfile(entry.path):
                out.append((os.path.relpath(entry.path, root).replace(os.sep, "/"), entry.path))

    walk(root, 0)
    out.sort(key=lambda e: e[0].encode("utf-8"))
    return out


def fingerprint(source: PathLike) -> str:
    """neurogen's fingerprint of a source (``cache::fingerprint``): format version, canonical
    path, and size + modification time of the file or of every non-hidden file below it."""
    canonical = os.path.realpath(os.fspath(source))
    h = hashlib.sha256(f"v{CACHE_FORMAT_VERSION}\n{canonical}\n".encode("utf-8"))
    if os.path.isdir(canonical):
        for rel, path in _walk(canonical):
            st = os.stat(path)
            h.update(f"{rel}\t{st.st_size}\t{st.st_mtime_ns}\n".encode("utf-8"))
    else:
        st = os.stat(canonical)
        h.update(f"file\t{st.st_size}\t{st.st_mtime_ns}\n".encode("utf-8"))
    return h.hexdigest()


class DecodeCacheError(ValueError):
    """A decode cache that is missing, stale or damaged; the message says what to run."""


def read_decode_cache(path: PathLike, expect_fingerprint: Optional[str] = None) -> Dataset:
    """Reads a neurogen decode-cache file (``*.ngcache``), checking magic, version, length and
    CRC-32 (and the source's fingerprint when ``expect_fingerprint`` is given)."""
    path = Path(path)
    data = path.read_bytes()
    bad = lambda why: DecodeCacheError(f"decode cache {path}: {why}")  # noqa: E731
    if len(data) < 16 or data[:8] != MAGIC:
        raise bad("not a neurogen decode cache (bad magic)")
    version, head_len = struct.unpack_from("<II", data, 8)
    if version != CACHE_FORMAT_VERSION:
        raise bad(f"format version {version}, this package reads {CACHE_FORMAT_VERSION}")
    if 16 + head_len + 4 > len(data):
        raise bad("corrupt header")
    head = data[16 : 16 + head_len]
    (stored_crc,) = struct.unpack_from("<I", data, 16 + head_len)
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(head):
            raise bad("corrupt header")
        b = head[pos : pos + n]
        pos += n
        return b

    def string() -> str:
        (n,) = struct.unpack("<I", take(4))
        return take(n).decode("utf-8", errors="replace")

    kind_code, _form = take(1)[0], take(1)[0]
    c, h, w = struct.unpack("<III", take(12))
    n_train, n_test = struct.unpack("<QQ", take(16))
    fp = string()
    (n_classes,) = struct.unpack("<I", take(4))
    names = [string() for _ in range(min(n_classes, 1024))]
    if expect_fingerprint is not None and fp != expect_fingerprint:
        raise bad("stale (the source changed since it was decoded)")
    numel = c * h * w
    body = 16 + head_len + 4
    if body + (n_train + n_test) * (numel + 1) != len(data):
        raise bad("corrupt (wrong length)")
    crc = zlib.crc32(head)
    crc = zlib.crc32(memoryview(data)[body:], crc)
    if crc != stored_crc:
        raise bad("corrupt (checksum mismatch)")
    off = body

    def part(n: int, shape: Tuple[int, ...]) -> np.ndarray:
        nonlocal off
        a = np.frombuffer(data, np.uint8, n, off).reshape(shape)
        off += n
        return a

    tr_x = part(n_train * numel, (n_train, c, h, w))
    tr_y = part(n_train, (n_train,)).astype(np.int64)
    te_x = part(n_test * numel, (n_test, c, h, w))
    te_y = part(n_test, (n_test,)).astype(np.int64)
    return Dataset(
        kind=_KINDS.get(kind_code, f"kind-{kind_code}"),
        class_names=names,
        train=Split(tr_x, tr_y),
        test=Split(te_x, te_y),
        path=path,
    )


def load_dataset(source: PathLike, cache_dir: Optional[PathLike] = None) -> Dataset:
    """neurogen's decoded pixels of ``source`` (e.g. ``../shared/data/cifar10-jpeg.tar.gz`` or
    an image folder), read from its decode cache. Raises :class:`DecodeCacheError` saying which
    ``cargo xtask`` command writes the cache when it is missing or stale."""
    source = os.fspath(source)
    if not os.path.exists(source):
        raise FileNotFoundError(f"{source}: no such file or directory")
    path = cache_file(source, cache_dir)
    hint = (
        f"run `cargo xtask data summary --data {source}"
        + (f" --cache-dir {cache_dir}" if cache_dir is not None else "")
        + "` once to decode it with neurogen's decoder"
    )
    if not path.exists():
        raise DecodeCacheError(f"no decode cache for {source} ({path} is absent): {hint}")
    try:
        return read_decode_cache(path, fingerprint(source))
    except DecodeCacheError as e:
        raise DecodeCacheError(f"{e}: {hint}") from None


@dataclasses.dataclass
class EvalResult:
    """Mean cross-entropy loss, accuracy (a fraction, as ``cargo xtask eval --json``) and count."""

    loss: float
    accuracy: float
    n: int


@torch.no_grad()
def predict(model: torch.nn.Module, images: Union[np.ndarray, torch.Tensor], batch_size: int = 500,
            device: Union[str, torch.device, None] = None) -> torch.Tensor:
    """Logits of ``model`` (in eval mode) on ``uint8`` images, in batches of ``batch_size``
    (a multiple of 4, so that the evaluation max-norm blocks fall as in neurogen)."""
    if batch_size < 1 or batch_size % 4:
        raise ValueError(f"batch_size must be a positive multiple of 4, got {batch_size}")
    was_training = model.training
    model.eval()
    if device is None:
        device = next(model.parameters()).device
    out = []
    try:
        for start in range(0, len(images), batch_size):
            x = normalize(images[start : start + batch_size]).to(device)
            out.append(model(x).float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out, 0)


@torch.no_grad()
def evaluate(model: torch.nn.Module, split: Split, batch_size: int = 500,
             device: Union[str, torch.device, None] = None) -> EvalResult:
    """Loss and accuracy of ``model`` on ``split``, as ``cargo xtask eval`` computes them."""
    if len(split) == 0:
        raise ValueError("cannot evaluate on an empty split")
    logits = predict(model, split.images, batch_size, device)
    labels = torch.as_tensor(np.asarray(split.labels), dtype=torch.int64)
    loss = F.cross_entropy(logits.double(), labels, reduction="sum").item() / len(labels)
    correct = int((logits.argmax(1) == labels).sum())
    return EvalResult(loss=loss, accuracy=correct / len(labels), n=len(labels))


def subset(split: Split, indices) -> Split:
    """The images at ``indices`` (e.g. the ``indices`` of a ``--dump-logits`` file)."""
    idx = np.asarray(indices, dtype=np.int64)
    return Split(split.images[idx], split.labels[idx])


__all__ = [
    "normalize", "Split", "Dataset", "default_cache_dir", "cache_file", "fingerprint",
    "read_decode_cache", "load_dataset", "DecodeCacheError", "predict", "evaluate",
    "EvalResult", "subset",
]
