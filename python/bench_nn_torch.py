#!/usr/bin/python3
"""PyTorch CPU baseline for bench/bench_nn.c: forward + backward time of
the MARBLE-default MLP (39 -> 32 -> 3 with BatchNorm1d and ReLU, batch 192,
train mode) and of an Elman RNN (input 16, hidden 16, 200 steps, batch 16),
in float32 and float64, on one thread.

Prints one line per case: "<case> <CPU seconds per forward+backward> <iterations>"
(best of 5 blocks of process CPU time).
Usage: bench_nn_torch.py [--seconds S]   (time spent per case, default 1)
"""
import sys
import time

import torch
import torch.nn as nn


def timeit(fn, seconds):
    """Best of 5 blocks of process CPU time per call (robust on a loaded
    machine), as bench_nn.c measures ndyn."""
    for _ in range(5):
        fn()
    best, total = float("inf"), 0
    for _ in range(5):
        n, t0 = 0, time.process_time()
        while True:
            fn()
            n += 1
            t = time.process_time() - t0
            if t >= seconds / 5 and n >= 3:
                break
        best = min(best, t / n)
        total += n
    return best, total


def main():
    seconds = 1.0
    if "--seconds" in sys.argv:
        seconds = float(sys.argv[sys.argv.index("--seconds") + 1])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        mlp = nn.Sequential(nn.Linear(39, 32), nn.BatchNorm1d(32), nn.ReLU(),
                            nn.Linear(32, 3)).to(dtype)
        mlp.train()
        x = torch.randn(192, 39, dtype=dtype, requires_grad=True)
        g = torch.randn(192, 3, dtype=dtype)

        def step_mlp():
            mlp.zero_grad(set_to_none=False)
            x.grad = None
            mlp(x).backward(g)

        dt, n = timeit(step_mlp, seconds)
        print(f"mlp_{tag} {dt:.9e} {n}", flush=True)

        rnn = nn.RNN(16, 16).to(dtype)
        xs = torch.randn(200, 16, 16, dtype=dtype, requires_grad=True)
        gs = torch.randn(200, 16, 16, dtype=dtype)

        def step_rnn():
            rnn.zero_grad(set_to_none=False)
            xs.grad = None
            hs, _ = rnn(xs)
            hs.backward(gs)

        dt, n = timeit(step_rnn, seconds)
        print(f"rnn_{tag} {dt:.9e} {n}", flush=True)


if __name__ == "__main__":
    main()
