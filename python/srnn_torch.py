#!/usr/bin/python3
"""PyTorch version of ndyn's SRNN model and objective (the exact collapsed
ELBO of docs/srnn.md), the baseline of bench/bench_srnn.c.

Same blocks as ndyn: K per-state tanh RNN dynamics, linear transition logits
from h_{t-1} plus a K x K base matrix (column softmax), learned initial-state
logits, Gaussian h_0 prior, emission MLP H->32->64->N, learned diagonal
variances (var_min + exp), bidirectional tanh-RNN encoders summed, the
reference's autoregressive sampler (lc1 2H->64, lc2 64->H, rnn_mean
RNNCell(H, H)), one reparameterised sample, log p(y, h) from the scaled
forward pass in log space, loss = -ELBO / (trials * T), Adam. Like the
reference it loops over time steps in Python, but it is vectorised over
trials and states, uses nn.RNN for the encoders and diagonal Gaussians in
closed form.

Usage: srnn_torch.py TRIALS T N K H EPOCHS THREADS [DTYPE]
Prints one line: epoch_seconds=<mean seconds per epoch>.
"""
import math
import sys
import time

import torch
from torch import nn

LOG2PI = math.log(2 * math.pi)
VMIN = 1e-5


class SRNN(nn.Module):
    def __init__(self, N, K, H):
        super().__init__()
        self.K, self.H = K, H
        self.pi = nn.Parameter(0.1 * torch.randn(K))
        self.trans = nn.Linear(H, K * K)
        self.base = nn.Parameter(torch.zeros(K, K))
        a = 1 / math.sqrt(H)
        self.dynW = nn.Parameter(torch.empty(K, H, H).uniform_(-a, a))
        self.dynb = nn.Parameter(torch.empty(K, H).uniform_(-a, a))
        self.h0mu = nn.Parameter(torch.zeros(K, H))
        self.h0lv = nn.Parameter(torch.zeros(H))
        self.lvh = nn.Parameter(torch.full((H,), math.log(0.01 - VMIN)))
        self.lvy = nn.Parameter(torch.full((N,), math.log(0.1 - VMIN)))
        self.lvq = nn.Parameter(torch.full((H,), math.log(0.01 - VMIN)))
        self.emis = nn.Sequential(nn.Linear(H, 32), nn.ReLU(), nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, N))
        self.encf = nn.RNN(N, H, batch_first=True)
        self.encb = nn.RNN(N, H, batch_first=True)
        self.lc1 = nn.Linear(2 * H, 64)
        self.lc2 = nn.Linear(64, H)
        self.rnn_mean = nn.RNNCell(H, H)

    def elbo(self, y, eps):
        n, T, N = y.shape
        K, H = self.K, self.H
        uf, _ = self.encf(y)
        ub, _ = self.encb(torch.flip(y, [1]))
        e = uf + torch.flip(ub, [1])
        vq = VMIN + torch.exp(self.lvq)
        sq = torch.sqrt(vq)
        h_prev = torch.zeros(n, H, dtype=y.dtype)
        s_prev = torch.zeros(n, H, dtype=y.dtype)
        hs = []
        for t in range(T):
            a = self.lc2(torch.relu(self.lc1(torch.cat([e[:, t], h_prev], 1))))
            s = self.rnn_mean(a, s_prev)
            h = s + sq * eps[:, t]
            hs.append(h)
            h_prev, s_prev = h, s
        h = torch.stack(hs, 1)
        g = self.emis(h)
        vy = VMIN + torch.exp(self.lvy)
        ly = -0.5 * (LOG2PI + torch.log(vy) + (y - g) ** 2 / vy).sum(-1)
        vh = VMIN + torch.exp(self.lvh)
        F = torch.tanh(torch.einsum('kij,ntj->ntki', self.dynW, h[:, :-1]) + self.dynb)
        lph = -0.5 * (LOG2PI + torch.log(vh) + (h[:, 1:, None, :] - F) ** 2 / vh).sum(-1)
        v0 = VMIN + torch.exp(self.h0lv)
        e0 = -0.5 * (LOG2PI + torch.log(v0) + (h[:, 0, None, :] - self.h0mu) ** 2 / v0).sum(-1)
        E = torch.cat([e0[:, None], lph], 1) + ly[..., None]
        L = self.trans(h[:, :-1]).view(n, T - 1, K, K) + self.base
        S = torch.log_softmax(L, dim=2)  # S[., t, i, j] = log p(z_t = i | z_{t-1} = j)
        lpi = torch.log_softmax(self.pi, 0)
        la = lpi + E[:, 0]
        c = torch.logsumexp(la, 1)
        la = la - c[:, None]
        total = c
        for t in range(1, T):
            l = E[:, t] + torch.logsumexp(S[:, t - 1] + la[:, None, :], dim=2)
            c = torch.logsumexp(l, 1)
            la = l - c[:, None]
            total = total + c
        ent = T * (0.5 * (LOG2PI + torch.log(vq))).sum() + 0.5 * (eps ** 2).sum((1, 2))
        return total + ent


def main():
    n, T, N, K, H, epochs, threads = (int(v) for v in sys.argv[1:8])
    dtype = torch.float64 if len(sys.argv) > 8 and sys.argv[8] == 'float64' else torch.float32
    torch.set_num_threads(threads)
    torch.manual_seed(131)
    torch.set_default_dtype(dtype)
    y = torch.randn(n, T, N)
    m = SRNN(N, K, H)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    def step():
        eps = torch.randn(n, T, H)
        loss = -m.elbo(y, eps).sum() / (n * T)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()
    step()
    t0 = time.perf_counter()
    for _ in range(epochs):
        step()
    print("epoch_seconds=%.6g" % ((time.perf_counter() - t0) / epochs))


if __name__ == '__main__':
    main()
