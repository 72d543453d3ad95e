"""PyTorch CPU baseline for `cargo xtask bench throughput`: the same network, optimiser and
measurement (warm-up steps, then the median images/s of timed windows).

The network is the reference `NgnCnn` of Tran et al. (PNAS 2022): six 3x3 convolutions
(16, 16, 32, 32, 64, 64 channels, padding 1) with ReLU and a 2x2 max-pool after every second
one, three hidden layers of 250 units with ReLU, a 10-way output layer without bias; Adam with
lr 2e-4; cross-entropy. A training step is: gather a minibatch from an in-memory uint8 image
array and normalise it ((x/255 - 0.5)/0.5), forward, loss, backward, Adam step, read the loss
as a Python float (as the Rust loop does).

The images are uniform random uint8 arrays of CIFAR-10's shape (dense convolutions cost the
same whatever the pixel values; this keeps the script free of a dataset reader).

On a GPU (`--device cuda`), the uint8 arrays stay in host memory and each minibatch is
gathered, normalised and copied to the device per step, as `Split::batch` does for candle; the
timers are read after `torch.cuda.synchronize()`.

    pip install torch
    python3 benches/pytorch_baseline.py --batch-size 4 --threads 2 [--device cuda] [--json]
"""

import argparse
import json
import platform
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class NgnCnn(nn.Module):
    def __init__(self, in_channels=3, layer_size=250, num_classes=10, flat=64 * 4 * 4):
        super().__init__()
        ch = [in_channels, 16, 16, 32, 32, 64, 64]
        for i in range(6):
            setattr(self, f"conv{i + 1}", nn.Conv2d(ch[i], ch[i + 1], 3, padding=1))
        self.pool = nn.MaxPool2d(2, 2)
        self.fcs = nn.ModuleList(
            [nn.Linear(flat, layer_size), nn.Linear(layer_size, layer_size), nn.Linear(layer_size, layer_size)]
        )
        self.fc3 = nn.Linear(layer_size, num_classes, bias=False)

    def forward(self, x):
        for i in range(6):
            x = F.relu(getattr(self, f"conv{i + 1}")(x))
            if i % 2 == 1:
                x = self.pool(x)
        x = torch.flatten(x, 1)
        for fc in self.fcs:
            x = F.relu(fc(x))
        return self.fc3(x)


def measure(step, warmup, windows, window_secs, sync):
    i = 0
    for _ in range(warmup):
        step(i)
        i += 1
    rates = []
    for _ in range(windows):
        sync()
        t0 = time.perf_counter()
        images = 0
        while True:
            images += step(i)
            i += 1
            sync()
            if time.perf_counter() - t0 >= window_secs:
                break
        rates.append(images / (time.perf_counter() - t0))
    return {"images_per_second": statistics.median(rates), "windows": rates}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--eval-batch-size", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--windows", type=int, default=7)
    ap.add_argument("--window-secs", type=float, default=2.0)
    ap.add_argument("--warmup-steps", type=int, default=20)
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.batch_size < 1 or a.eval_batch_size < 1 or a.windows < 1 or a.window_secs <= 0:
        ap.error("batch sizes and windows must be >= 1 and --window-secs > 0")
    dev = torch.device(a.device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            ap.error(f"--device {a.device}: this PyTorch sees no CUDA device")

        def sync():
            torch.cuda.synchronize(dev)

        device_name = torch.cuda.get_device_name(dev)
    elif dev.type == "cpu":

        def sync():
            pass

        device_name = "cpu"
    else:
        ap.error(f"--device {a.device}: use cpu, cuda or cuda:N")

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n_train, n_test = 50_000, 10_000
    gen = torch.Generator().manual_seed(0)
    train_x = torch.randint(0, 256, (n_train, 3, 32, 32), dtype=torch.uint8, generator=gen)
    train_y = torch.randint(0, 10, (n_train,), generator=gen)
    test_x = torch.randint(0, 256, (n_test, 3, 32, 32), dtype=torch.uint8, generator=gen)
    test_y = torch.randint(0, 10, (n_test,), generator=gen)

    model = NgnCnn().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    perm = torch.randperm(n_train, generator=gen)
    bs = a.batch_size

    def norm(x):
        return ((x.float() / 255.0 - 0.5) / 0.5).to(dev)

    def train_step(i):
        j = (i * bs) % (n_train - bs + 1)
        idx = perm[j : j + bs]
        x, y = norm(train_x[idx]), train_y[idx].to(dev)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        return bs

    ebs = a.eval_batch_size

    def eval_step(i):
        j = (i * ebs) % n_test
        x, y = norm(test_x[j : j + ebs]), test_y[j : j + ebs].to(dev)
        with torch.no_grad():
            F.cross_entropy(model(x), y).item()
        return x.shape[0]

    model.train()
    train = measure(train_step, a.warmup_steps, a.windows, a.window_secs, sync)
    model.eval()
    ev = measure(eval_step, a.warmup_steps, a.windows, a.window_secs, sync)
    report = {
        "torch": torch.__version__,
        "device": device_name,
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "train": {"batch_size": bs, **train},
        "eval": {"batch_size": ebs, **ev},
    }
    if a.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"torch {torch.__version__}, device {device_name}, {torch.get_num_threads()} threads")
        for name, m in (("train", report["train"]), ("eval", report["eval"])):
            ws = ", ".join(f"{w:.0f}" for w in m["windows"])
            print(
                f"{name:5} batch {m['batch_size']:4}: {m['images_per_second']:8.1f} images/s "
                f"(median of {len(m['windows'])} windows: {ws})"
            )


if __name__ == "__main__":
    main()
