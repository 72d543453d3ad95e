"""Shared fixtures. Tests skip, with the reason in pytest's summary (run with ``-rs``), when
torch cannot be imported, when the CIFAR-10 archive is absent (a failure instead with
``NEUROGEN_REQUIRE_DATA=1``, as in CI), or when no xtask binary can be built; set ``NEUROGEN_XTASK`` to an xtask binary to skip building one, ``NEUROGEN_TEST_DATA``
to a CIFAR-10 source other than ``../shared/data/cifar10-jpeg.tar.gz``."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

try:
    import torch  # noqa: F401

    TORCH_ERROR = None
except Exception as e:  # ImportError, or OSError from a broken wheel
    TORCH_ERROR = f"{type(e).__name__}: {e}"


def data_source() -> Path:
    env = os.environ.get("NEUROGEN_TEST_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


def pytest_report_header(config):
    lines = [f"neurogen python tests: repository {REPO}"]
    if TORCH_ERROR:
        lines.append(f"WARNING: torch cannot be imported ({TORCH_ERROR}): the tests that need it SKIP")
    else:
        lines.append(f"torch {torch.__version__}")
    src = data_source()
    lines.append(
        f"CIFAR-10: {src}" if src.exists()
        else f"WARNING: CIFAR-10 absent ({src}): the tests against neurogen's CLI SKIP"
    )
    return lines


@pytest.fixture(scope="session")
def cifar10() -> Path:
    src = data_source()
    if not src.exists():
        why = f"CIFAR-10 is absent ({src}; set NEUROGEN_TEST_DATA)"
        if os.environ.get("NEUROGEN_REQUIRE_DATA") == "1":
            pytest.fail(f"{why}, and NEUROGEN_REQUIRE_DATA=1 requires it")
        pytest.skip(why)
    return src


@pytest.fixture(scope="session")
def xtask() -> Path:
    """neurogen's command line: $NEUROGEN_XTASK, else built with `cargo build -p xtask` (a
    no-op after `cargo test --workspace`)."""
    env = os.environ.get("NEUROGEN_XTASK")
    if env:
        return Path(env)
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo is not installed: cannot build neurogen's xtask (set NEUROGEN_XTASK)")
    out = subprocess.run(
        [cargo, "build", "-p", "xtask", "--message-format=json-render-diagnostics"],
        cwd=REPO, stdout=subprocess.PIPE, text=True, check=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and \
                msg["target"]["name"] == "xtask":
            return Path(msg["executable"])
    raise AssertionError("cargo build -p xtask reported no xtask executable")


def run_xtask(xtask: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([str(xtask), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"xtask {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")
    return p


@pytest.fixture(scope="session")
def tiny_run(xtask, cifar10, tmp_path_factory):
    """A tiny network trained by `xtask train` with dropout (eval max-norm on), and neurogen's
    own evaluation of it: `eval --json --dump-logits` on 400 test images."""
    out = tmp_path_factory.mktemp("tiny")
    run_xtask(xtask, "train", "--data", str(cifar10), "--train-subset", "200", "--eval-subset",
              "100", "--epochs", "1", "--batch-size", "4", "--regularizer", "dropout",
              "--out", str(out), "--json")
    ck = out / "model.safetensors"
    assert ck.exists()
    ev = json.loads(run_xtask(xtask, "eval", "--checkpoint", str(ck), "--data", str(cifar10),
                              "--subset", "400", "--json", "--dump-logits",
                              str(out / "logits.safetensors")).stdout)
    metrics = json.loads((out / "metrics.json").read_text())
    return {"dir": out, "checkpoint": ck, "eval": ev, "logits": out / "logits.safetensors",
            "metrics": metrics}


@pytest.fixture(scope="session")
def smoke_fig2(xtask, cifar10, tmp_path_factory):
    """`xtask reproduce fig2 --scale smoke` output (about 30 s on 2 cores)."""
    out = tmp_path_factory.mktemp("repro")
    run_xtask(xtask, "reproduce", "fig2", "--scale", "smoke", "--data", str(cifar10),
              "--out", str(out), "--quiet")
    return out / "fig2"
