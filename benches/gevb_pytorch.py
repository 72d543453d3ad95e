"""PyTorch CPU reference for `cargo xtask bench gevb`: one training step of a vectorized FC
network (Clark, Abbott & Chung, NeurIPS 2021) in the formulation of the authors' code
(davidclark1/VectorizedNets at 0a5856d: `vnn.py`, `vec_models.py`, `train_models.py`),
written out here with the same operations, timed like the Rust side (warm-up steps, then the
median images/s of timed windows).

The step, as `train_models.train_epoch` runs it for a vectorized network:
- the input `(B, d)` is expanded to a dense block-diagonal `(B, K, K*d)` tensor
  (`vnn.expand_input`: component k holds the image in block k, zeros elsewhere);
- each layer is `Z = H @ W.T + b` with `W` of shape `(n_out, n_in)` shared by the K
  components and `b` of shape `(K, n_out)` (`vnn.Linear`); the first layer's `W` has
  `n_in = K*d` columns;
- hidden layers gate with `G = 1[sum_k t_k Z_k >= 0]` (`vnn.tReLU`);
- the error `e = softmax(y) - onehot(label)` sets the updates (`vnn.set_model_grads`, no
  autograd): under GEVB (`learning_rule="df"`) every layer's `grad_output` is its gate over B
  (ones over B at the output); under vectorized backprop (`"bp"`) it is carried down through
  `grad_output @ W` and the gates (the first layer's input gradient is computed and unused, as
  there); each layer's `set_grad` forms
  `dot = einsum("bkn,bk->bn", H_in, e)`, `grad_W = einsum("bm,bn->mn", grad_output, dot)`,
  `grad_b = einsum("bk,bm->km", e, grad_output)`;
- Adam (lr 3e-4), then `W.clamp_(min=0)` past the first layer in a "+" network.

Inputs are uniform in [-1, 1] with fixed labels, as in the Rust benchmark (a step's cost does
not depend on them).

    pip install torch
    python3 benches/gevb_pytorch.py --threads 2 [--rule gevb|bp] [--hidden 1024,512] [--json]
"""

import argparse
import json
import platform
import statistics
import time

import torch
import torch.nn.functional as F


def expand_input(x, k):
    """The authors' dense block-diagonal expansion: (B, d) -> (B, K, K*d)."""
    b, d = x.shape
    out = torch.zeros(b, k, k * d)
    for i in range(k):
        out[:, i, i * d:(i + 1) * d] = x
    return out


class VecFc:
    def __init__(self, k, d, hidden, mono, seed=0):
        g = torch.Generator().manual_seed(seed)
        sizes = [k * d] + hidden + [1]
        self.k, self.mono = k, mono
        self.weights, self.biases, self.signs = [], [], []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            w = torch.randn(n_out, n_in, generator=g) / (0.25 * n_in) ** 0.5
            if i == 0:
                w *= k**0.5
            elif mono:
                w = w.clamp(min=0)
            self.weights.append(w)
            self.biases.append(torch.zeros(k, n_out))
        for n in hidden:
            half = torch.randint(0, 2, (k, n // 2), generator=g).float() * 2 - 1
            t = torch.zeros(k, n)
            t[:, ::2], t[:, 1::2] = half, -half
            self.signs.append(t)
        self.params = self.weights + self.biases

    def step(self, x, labels, rule, opt):
        h = expand_input(x, self.k)
        inputs, gates = [], []
        n = len(self.weights)
        for i in range(n):
            inputs.append(h)
            z = h @ self.weights[i].T + self.biases[i]
            if i < n - 1:
                gate = ((z * self.signs[i][None]).sum(dim=1) >= 0).float()
                gates.append(gate)
                h = z * gate[:, None]
            else:
                h = z
        y = h[..., 0]
        e = F.softmax(y, dim=1) - F.one_hot(labels, self.k).float()
        b = x.shape[0]
        g = torch.ones(b, 1) / b
        for i in reversed(range(n)):
            dot = torch.einsum("bkn,bk->bn", inputs[i], e)
            self.weights[i].grad = torch.einsum("bm,bn->mn", g, dot)
            self.biases[i].grad = torch.einsum("bk,bm->km", e, g)
            if rule == "bp":
                # The authors' backward asks every layer, the first too, for its input's
                # gradient (`custom_backward` with need_grad_input=True).
                g_in = g @ self.weights[i]
                if i > 0:
                    g = g_in * gates[i - 1]
            elif i > 0:
                g = gates[i - 1] / b
        opt.step()
        if self.mono:
            for w in self.weights[1:]:
                w.clamp_(min=0)
        return F.cross_entropy(y, labels).item()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rule", choices=["gevb", "bp"], default="gevb")
    p.add_argument("--input-dim", type=int, default=784)
    p.add_argument("--hidden", default="1024,512")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--signed", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--windows", type=int, default=7)
    p.add_argument("--window-secs", type=float, default=2.0)
    p.add_argument("--warmup-steps", type=int, default=20)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    k, hidden = 10, [int(h) for h in a.hidden.split(",")]
    net = VecFc(k, a.input_dim, hidden, mono=not a.signed)
    opt = torch.optim.Adam(net.params, lr=3e-4)
    pool = [
        (
            torch.rand(a.batch_size, a.input_dim) * 2 - 1,
            torch.tensor([(i * 7 + j * 3) % 10 for i in range(a.batch_size)]),
        )
        for j in range(8)
    ]
    with torch.no_grad():
        i = 0
        for _ in range(a.warmup_steps):
            net.step(*pool[i % 8], a.rule, opt)
            i += 1
        windows = []
        for _ in range(a.windows):
            t0, images = time.perf_counter(), 0
            while True:
                loss = net.step(*pool[i % 8], a.rule, opt)
                assert loss == loss, "the loss is NaN"
                i += 1
                images += a.batch_size
                if time.perf_counter() - t0 >= a.window_secs:
                    break
            windows.append(images / (time.perf_counter() - t0))
    report = {
        "implementation": "pytorch",
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "rule": "GEVB" if a.rule == "gevb" else "BP",
        "mono": not a.signed,
        "input_dim": a.input_dim,
        "hidden": hidden,
        "train": {
            "batch_size": a.batch_size,
            "images_per_second": statistics.median(windows),
            "windows": windows,
        },
    }
    if a.json:
        print(json.dumps(report))
    else:
        w = ", ".join(f"{v:.0f}" for v in windows)
        print(
            f"pytorch {report['rule']} FC-Vec{'+' if report['mono'] else ''} "
            f"{a.input_dim}*10 -> {a.hidden} -> 1, batch {a.batch_size}, "
            f"{report['threads']} threads, torch {torch.__version__}"
        )
        print(f"train: {report['train']['images_per_second']:.1f} images/s (median of {len(windows)} windows: {w})")


if __name__ == "__main__":
    main()
