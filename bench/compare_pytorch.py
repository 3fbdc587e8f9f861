#!/usr/bin/env python3
"""compare_pytorch.py — run the same workloads in resnet.cpp and PyTorch, side by side.

Needs Debian's python3-torch (run with /usr/bin/python3). Optional, never part of the tests.
For each model it runs `resnet bench --json` and the PyTorch equivalent in fresh processes,
alternating rounds, and prints medians and the ratio (ours / PyTorch; > 1 is faster for
throughput, < 1 is faster for latency and memory).

    /usr/bin/python3 bench/compare_pytorch.py --threads 2 --rounds 3
    /usr/bin/python3 bench/compare_pytorch.py --models resnet50 --rounds 9 --show-rounds
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

TORCH_WORKER = r'''
import json, resource, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

model_name, batch, threads, iters, what = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
torch.set_num_threads(threads)
torch.manual_seed(0)

class CifarBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(cout)
        self.pad = cout - cin; self.stride = stride
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x
        if self.stride != 1 or self.pad:
            sc = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(out + sc)

class CifarResNet(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False); self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                layers.append(CifarBlock(cin, cout, stride if i == 0 else 1)); cin = cout
        self.layers = nn.Sequential(*layers); self.fc = nn.Linear(64, 10)
    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

def imagenet(name):
    import torchvision.models as tvm
    return getattr(tvm, name)()

if model_name.startswith("resnet") and model_name[6:].isdigit() and int(model_name[6:]) in (20, 32, 44, 56, 110):
    model, shape = CifarResNet((int(model_name[6:]) - 2) // 6), (3, 32, 32)
else:
    model, shape = imagenet(model_name), (3, 224, 224)

def median_ms(fn, n, warm=1):
    for _ in range(warm): fn()
    t = []
    for _ in range(n):
        t0 = time.perf_counter(); fn(); t.append((time.perf_counter() - t0) * 1e3)
    return sorted(t)[len(t) // 2]

out = {}
x = torch.randn(batch, *shape)
if what == "train":
    model.train()
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    def step():
        opt.zero_grad(); F.cross_entropy(model(x), y).backward(); opt.step()
    out["train_images_per_sec"] = batch / (median_ms(step, iters) / 1e3)
elif what == "infer":
    model.eval()
    with torch.no_grad():
        out["infer_images_per_sec"] = batch / (median_ms(lambda: model(x), iters) / 1e3)
else:
    model.eval()
    x1 = torch.randn(1, *shape)
    with torch.no_grad():
        out["latency_ms"] = median_ms(lambda: model(x1), max(iters, 10), 2)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
'''

# (model, batch for training/inference, workloads)
WORKLOADS = [
    ("resnet20", 128, ("train", "infer", "latency")),
    ("resnet56", 128, ("train",)),
    ("resnet18", 16, ("train", "latency")),
    ("resnet50", 16, ("latency",)),
]


def ours(binary, model, batch, threads, iters, what):
    flags = {"train": ["--no-infer", "--no-latency"], "infer": ["--no-train", "--no-latency"],
             "latency": ["--no-train", "--no-infer"]}[what]
    out = subprocess.run([binary, "bench", "--model", model, "--batch-size", str(batch), "--threads",
                          str(threads), "--iters", str(iters), "--json", "--no-layers"] + flags,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def torch_run(model, batch, threads, iters, what):
    out = subprocess.run([sys.executable, "-c", TORCH_WORKER, model, str(batch), str(threads), str(iters), what],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resnet", default="build/app/resnet", help="path to the resnet binary")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="alternating process pairs; medians reported")
    ap.add_argument("--models", default=",".join(w[0] for w in WORKLOADS))
    ap.add_argument("--show-rounds", action="store_true",
                    help="also print each round's ratio (the spread behind the median)")
    args = ap.parse_args()
    keys = {"train": "train_images_per_sec", "infer": "infer_images_per_sec", "latency": "latency_ms"}
    print(f"{'workload':34} {'resnet.cpp':>12} {'PyTorch':>12} {'ratio':>7}   peak MiB ours / torch")
    for model, batch, whats in WORKLOADS:
        if model not in args.models.split(","):
            continue
        for what in whats:
            b = 1 if what == "latency" else batch
            a_vals, t_vals, a_mem, t_mem = [], [], [], []
            for _ in range(args.rounds):
                a = ours(args.resnet, model, batch, args.threads, args.iters, what)
                try:
                    t = torch_run(model, batch, args.threads, args.iters, what)
                except subprocess.CalledProcessError as e:
                    print(f"{model} {what}: PyTorch run failed: {e.stderr.strip().splitlines()[-1]}")
                    break
                a_vals.append(a[keys[what]]); t_vals.append(t[keys[what]])
                a_mem.append(a["peak_rss_mb"]); t_mem.append(t["peak_rss_mb"])
            if not t_vals:
                continue
            am, tm = statistics.median(a_vals), statistics.median(t_vals)
            unit = "ms" if what == "latency" else "img/s"
            name = f"{model} {what} (batch {b}, {unit})"
            print(f"{name:34} {am:12.1f} {tm:12.1f} {am / tm:7.2f}   {statistics.median(a_mem):.0f} / {statistics.median(t_mem):.0f}")
            if args.show_rounds:
                print(f"{'  rounds (ours / PyTorch)':34} " + " ".join(f"{a / t:.2f}" for a, t in zip(a_vals, t_vals)))


if __name__ == "__main__":
    main()
