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
       srnn_torch.py fixture OUT.npz   (parity fixture for tests/test_srnn_parity.c:
                                        float64 weights under ndyn's block names, y, eps,
                                        the ELBO and its gradient per block)
Prints epoch_seconds=<mean wall seconds per epoch>,
epoch_cpu_seconds=<mean CPU seconds per epoch> (fair on a shared machine),
epoch_min_seconds / epoch_min_cpu_seconds=<the fastest timed epoch> and
final_loss=<the loss of the last timed epoch>.
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


def ndyn_blocks(m):
    """The model's weights under ndyn's block names and layouts (include/ndyn/srnn.h)."""
    e = m.emis
    return {
        'pi': m.pi, 'trans_W': m.trans.weight, 'trans_b': m.trans.bias, 'trans_B': m.base,
        'dyn_W': m.dynW, 'dyn_b': m.dynb, 'h0_mu': m.h0mu, 'h0_logvar': m.h0lv,
        'logvar_h': m.lvh, 'logvar_y': m.lvy, 'logvar_q': m.lvq,
        'emis_W0': e[0].weight, 'emis_b0': e[0].bias, 'emis_W1': e[2].weight, 'emis_b1': e[2].bias,
        'emis_W2': e[4].weight, 'emis_b2': e[4].bias,
        'encf_Wx': m.encf.weight_ih_l0, 'encf_Wh': m.encf.weight_hh_l0,
        'encb_Wx': m.encb.weight_ih_l0, 'encb_Wh': m.encb.weight_hh_l0,
        's1_W': m.lc1.weight, 's1_b': m.lc1.bias, 's2_W': m.lc2.weight, 's2_b': m.lc2.bias,
        'm_Wa': m.rnn_mean.weight_ih, 'm_Ws': m.rnn_mean.weight_hh,
    }


def fixture(path):
    import numpy as np
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(7)
    n, T, N, K, H = 2, 6, 3, 2, 3
    m = SRNN(N, K, H)
    with torch.no_grad():  # move every weight off its initial value
        for p in m.parameters():
            p.add_(0.2 * torch.randn_like(p))
    y = torch.randn(n, T, N)
    eps = torch.randn(n, T, H)
    elbo = m.elbo(y, eps).sum()
    m.zero_grad()
    elbo.backward()
    out = {'y': y.numpy(), 'eps': eps.numpy(), 'elbo': np.array(elbo.item())}
    for name, p in ndyn_blocks(m).items():
        out[name] = p.detach().numpy().copy()
        out['grad_' + name] = p.grad.numpy().copy()
    # summed biases: ndyn keeps one bias per RNN
    for nd, (a, b) in {'encf_b': (m.encf.bias_ih_l0, m.encf.bias_hh_l0),
                       'encb_b': (m.encb.bias_ih_l0, m.encb.bias_hh_l0),
                       'm_b': (m.rnn_mean.bias_ih, m.rnn_mean.bias_hh)}.items():
        out[nd] = (a + b).detach().numpy()
        out['grad_' + nd] = a.grad.numpy().copy()  # d/d(b_ih) = d/d(b_ih + b_hh)
    np.savez_compressed(path, **out)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'fixture':
        fixture(sys.argv[2])
        return
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
    t0, c0 = time.perf_counter(), time.process_time()
    wmin = cmin = float("inf")
    for _ in range(epochs):
        w1, c1 = time.perf_counter(), time.process_time()
        loss = step()
        wmin = min(wmin, time.perf_counter() - w1)
        cmin = min(cmin, time.process_time() - c1)
    print("epoch_seconds=%.6g" % ((time.perf_counter() - t0) / epochs))
    print("epoch_cpu_seconds=%.6g" % ((time.process_time() - c0) / epochs))
    print("epoch_min_seconds=%.6g" % wmin)
    print("epoch_min_cpu_seconds=%.6g" % cmin)
    print("final_loss=%.9g" % loss)


if __name__ == '__main__':
    main()
