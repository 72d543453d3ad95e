"""Normalisation and the decode-cache reader (a cache written here in neurogen's layout, and
the real one neurogen writes for CIFAR-10)."""
import hashlib
import os
import struct
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch cannot be imported")

import neurogen  # noqa: E402
from neurogen.data import DecodeCacheError, cache_file, fingerprint, load_dataset, read_decode_cache  # noqa: E402


def test_normalize_is_x_over_255_minus_half_over_half():
    x = np.array([0, 255, 10, 128], dtype=np.uint8).reshape(1, 1, 2, 2)
    got = neurogen.normalize(x).flatten().tolist()
    want = [np.float32((np.float32(v) / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5))
            for v in (0, 255, 10, 128)]
    assert got == want and got[0] == -1.0 and got[1] == 1.0
    with pytest.raises(TypeError, match="uint8"):
        neurogen.normalize(np.zeros((1, 1, 2, 2), np.float32))


def write_cache(path, fp, train, test, names=("a", "b")):
    """A decode cache in neurogen's layout (crates/data/src/cache.rs)."""
    (trx, try_), (tex, tey) = train, test
    head = bytes([0, 3]) + struct.pack("<III", *trx.shape[1:]) + struct.pack("<QQ", len(try_), len(tey))
    head += struct.pack("<I", len(fp)) + fp.encode()
    head += struct.pack("<I", len(names)) + b"".join(struct.pack("<I", len(n)) + n.encode() for n in names)
    payload = trx.tobytes() + try_.astype(np.uint8).tobytes() + tex.tobytes() + tey.astype(np.uint8).tobytes()
    crc = zlib.crc32(payload, zlib.crc32(head))
    path.write_bytes(b"NGDCACHE" + struct.pack("<II", 1, len(head)) + head + struct.pack("<I", crc) + payload)


def test_read_and_check_a_cache(tmp_path):
    rng = np.random.default_rng(0)
    train = (rng.integers(0, 256, (5, 3, 4, 4), dtype=np.uint8), np.array([0, 1, 1, 0, 1]))
    test = (rng.integers(0, 256, (2, 3, 4, 4), dtype=np.uint8), np.array([1, 0]))
    src = tmp_path / "source.bin"
    src.write_bytes(b"x" * 10)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    path = cache_file(src, cache_dir)
    digest = hashlib.sha256(os.path.realpath(src).encode()).hexdigest()[:16]
    assert path == cache_dir / f"source_bin-{digest}.ngcache"
    write_cache(path, fingerprint(src), train, test)
    ds = load_dataset(src, cache_dir)
    assert ds.kind == "cifar10" and ds.class_names == ["a", "b"]
    np.testing.assert_array_equal(ds.train.images, train[0])
    np.testing.assert_array_equal(ds.test.labels, test[1])
    # Damage: one payload byte flipped.
    data = bytearray(path.read_bytes())
    data[-3] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(DecodeCacheError, match="checksum"):
        load_dataset(src, cache_dir)
    path.write_bytes(bytes(data[:-1]))
    with pytest.raises(DecodeCacheError, match="wrong length"):
        read_decode_cache(path)
    # Stale: the source changed after decoding.
    write_cache(path, fingerprint(src), train, test)
    src.write_bytes(b"y" * 11)
    with pytest.raises(DecodeCacheError, match="stale.*cargo xtask data summary"):
        load_dataset(src, cache_dir)
    path.unlink()
    with pytest.raises(DecodeCacheError, match="no decode cache"):
        load_dataset(src, cache_dir)


def test_directory_fingerprint_covers_every_file(tmp_path):
    (tmp_path / "d" / "train").mkdir(parents=True)
    (tmp_path / "d" / "train" / "a.jpg").write_bytes(b"1")
    before = fingerprint(tmp_path / "d")
    (tmp_path / "d" / ".hidden").write_bytes(b"2")
    assert fingerprint(tmp_path / "d") == before
    (tmp_path / "d" / "train" / "b.jpg").write_bytes(b"3")
    assert fingerprint(tmp_path / "d") != before


def test_real_cifar10_cache(xtask, cifar10):
    from conftest import run_xtask

    run_xtask(xtask, "data", "summary", "--data", str(cifar10))  # writes the cache if absent
    ds = load_dataset(cifar10)
    assert (len(ds.train), len(ds.test)) == (50000, 10000)
    assert ds.train.images.shape[1:] == (3, 32, 32)
    assert ds.class_names[0] == "airplane" and ds.class_names[-1] == "truck"
    # Image folders are sorted by class: 1000 test images of each, in order.
    np.testing.assert_array_equal(np.bincount(ds.test.labels), [1000] * 10)
    assert (np.diff(ds.test.labels) >= 0).all()
