#!/usr/bin/python3
"""The reference SRNN's training loss, rebuilt step by step in PyTorch, as the
fixture for ndyn's compatibility objective (`--objective compat`,
tests/test_srnn_compat.c).

saxenalab-neuro/SRNN (commit 814fcdf) computes its loss in four places; this
script follows each of them operation by operation, with the reference's
data layout (batch, time, ...), loops and defects, written anew:

- inference network (`SRNN/inference_network.py`, `RNNInfer`): forward and
  backward `nn.RNN` encoders, the backward output flipped back and added; an
  autoregressive sampler lc1 (2H -> 64) / ReLU / lc2 (64 -> H) fed into an
  `nn.RNN(H, H)` whose output is the mean; the sample is fed back;
- generative model (`SRNN/model_srnn.py`, `Model.forward`): per time step the
  log transition matrix from an `nn.RNNCell(H, K*K)` with a zero hidden state,
  normalised over the destination axis (identity matrix stored at t = 0),
  log N(h_t; RNN_k(0, h_{t-1}), v_h I) per state (log N(h_0; h_0, v_h I) at
  t = 0, a constant), log N(y_t; emission(h_t), v_y I), all through
  `torch.distributions.MultivariateNormal` as the reference does, with the
  exogenous input x = 0 (every demo passes 0 * y);
- forward-backward (`SRNN/baum_welch.py`): per-step normalised log alpha and
  log beta, gamma at t = 0 only, and the pairwise weights delta_t(i, j) built
  from forward(t, i) + log_s(t)[i, j] + backward(t+1, j) + h(t+1, j) + y(t+1),
  normalised over (i, j) -- the wrong step and orientation the spec (§5.2)
  documents;
- the loss (`SRNN/loss_function.py: get_loss`, `SRNN/train.py: train_`):
  t1 = sum exp(gamma) (log pi + h(0) + y(0)), t2 = sum_t sum exp(delta_{t-1})
  (log_s(t) + h(t) + y(t)), loss = -(t1 + t2 + mean entropy of q).

Two deliberate departures, both required by the spec: the sample is
h~ = mean + sqrt(v_q) * eps with eps ~ N(0, I) given (the reference multiplies
a N(0, 1e-4) draw by the variance again, a std of 1e-6, which ndyn does not
reproduce: spec §3), and everything is float64. The reference's three 1e-4
variances are parameters (v_h, v_y, v_q) so that a second case with soft
posteriors exercises the gradient through gamma and delta; with 1e-4 the
posteriors are one-hot to machine precision.

The weights are written under ndyn's block names and layouts
(include/ndyn/srnn.h): the two biases of every torch RNN are summed into
ndyn's one bias (the gradient of either equals that of the sum); the dead
parameters (each dynamics RNN's W_ih, the transition cell's W_hh) are
checked to receive exactly zero gradient and are not written.

Usage: srnn_reference_compat.py OUTDIR   (writes OUTDIR/compat_ref.npz and
                                          OUTDIR/compat_soft.npz)
Each file: y (n, T, N), eps (n, T, H), K, H, var_h, var_y, var_q, the ndyn
blocks, loss (the reference's loss_all), t1, t2, ent, c0 (the reference's
t = 0 constant, summed over trials: n * -(H/2) log(2 pi v_h)), grad_<block>
= d loss / d block, and the reference's forward-backward pieces per trial:
ref_lpi (n, K), ref_S (n, T, K, K) (identity at t = 0), ref_e (n, T, K) =
log p(h_t | .) + log p(y_t | h_t), ref_delta (n, T-1, K, K) its pairwise
weights, ref_xi_corrected (n, T-1, K, K) the same recursions with the
orientation corrected (the true p(z_t = i, z_{t+1} = j)).
"""
import math
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.distributions.multivariate_normal import MultivariateNormal


# ---------------------------------------------------------------- model_srnn.py
class RefEmission(nn.Module):
    def __init__(self, N, H):
        super().__init__()
        self.fc1 = nn.Linear(H, 32)
        self.fc2 = nn.Linear(32, 64)
        self.fc3 = nn.Linear(64, N)
        self.relu = nn.ReLU()

    def forward(self, h):
        return self.fc3(self.relu(self.fc2(self.relu(self.fc1(h)))))


class RefModel(nn.Module):
    def __init__(self, N, K, H, var_h, var_y):
        super().__init__()
        self.N, self.K, self.H = N, K, H
        self.var_h, self.var_y = var_h, var_y
        self.rnns = nn.ModuleList([nn.RNN(input_size=N, hidden_size=H, num_layers=1, batch_first=True)
                                   for _ in range(K)])
        self.emission = RefEmission(N, H)
        self.transitions = nn.RNNCell(H, K * K)
        self.initials = nn.Parameter(torch.randn(K))

    def forward(self, x, y, h):
        B, T = x.shape[0], x.shape[1]
        K, H, N = self.K, self.H, self.N
        h0_trans = torch.zeros(B, K * K)
        prob_initial = torch.zeros(B, K)
        for b in range(B):
            prob_initial[b] = self.initials - torch.logsumexp(self.initials, 0)
        prob_all_s = torch.zeros(B, T, K, K)
        prob_all_h = torch.zeros(B, T, K)
        prob_all_y = torch.zeros(B, T)
        for j in range(T):
            if j == 0:
                for i in range(K):
                    # log N(h_0; h_0, v_h I): the same constant for every state
                    dist = MultivariateNormal(h[:, 0, :], self.var_h * torch.eye(H))
                    prob_all_h[:, j, i] = dist.log_prob(h[:, j, :])
                    for b in range(B):
                        prob_all_s[b, j] = torch.eye(K)  # "log transitions" at t = 0
            else:
                logits = torch.reshape(self.transitions(h[:, j - 1, :], h0_trans), (-1, K, K))
                prob_all_s[:, j] = logits - torch.logsumexp(logits, 1)[:, None, :]
                for i in range(K):
                    out, _ = self.rnns[i](x[:, j:j + 1, :], h[:, j - 1, :].unsqueeze(0).contiguous())
                    dist = MultivariateNormal(out[:, 0, :], self.var_h * torch.eye(H))
                    prob_all_h[:, j, i] = dist.log_prob(h[:, j, :])
            g = self.emission(h[:, j:j + 1, :])
            dist = MultivariateNormal(g[:, 0, :], self.var_y * torch.eye(N))
            prob_all_y[:, j] = dist.log_prob(y[:, j, :])
        fwd = forward_pass(prob_all_s, prob_initial, prob_all_h, prob_all_y)
        bwd = backward_pass(prob_all_s, prob_initial, prob_all_h, prob_all_y)
        gamma1, delta1 = gamma_delta(fwd, bwd, prob_all_s, prob_all_h, prob_all_y)
        self.fwd, self.bwd = fwd, bwd  # kept for the diagnostics of case()
        return prob_initial, prob_all_s, prob_all_h, prob_all_y, gamma1, delta1


# ---------------------------------------------------------------- baum_welch.py
def forward_pass(ls, lpi, lh, ly):
    T = ls.shape[1]
    out = torch.ones(ls[:, :, :, 0].shape)
    for j in range(T):
        if j == 0:
            cur = lpi + lh[:, j] + ly[:, j, None]
        else:
            prev = ls[:, j, :] + out[:, j - 1][:, None, :]        # [b, i, j'] = S[i, j'] + alpha(j')
            cur = torch.logsumexp(lh[:, j, :, None] + ly[:, j, None, None] + prev, -1)
        out[:, j] = cur - torch.logsumexp(cur, 1)[:, None]
    return out


def backward_pass(ls, lpi, lh, ly):
    T, K = ls.shape[1], ls.shape[2]
    out = torch.ones(ls[:, :, :, 0].shape)
    for j in range(T - 1, -1, -1):
        if j == T - 1:
            out[:, j] = torch.zeros(ls.shape[0], K)
        else:
            nxt = out[:, j + 1, :, None] + ls[:, j + 1] + lh[:, j + 1, :, None] + ly[:, j + 1, None, None]
            cur = torch.logsumexp(nxt, 1)                           # over the destination i
            out[:, j] = cur - torch.logsumexp(cur, 1)[:, None]
    return out


def gamma_delta(fwd, bwd, ls, lh, ly):
    B, T, K = fwd.shape
    gamma1 = torch.zeros(B, K)
    for n in range(K):
        gamma1[:, n] = fwd[:, 0, n] + bwd[:, 0, n]
    gamma1 = gamma1 - torch.logsumexp(gamma1, 1)[:, None]
    delta1 = torch.zeros(B, T - 1, K, K)
    for t in range(T - 1):
        for i in range(K):
            for j in range(K):
                # the reference's pairing: log_s at step t (not t+1), indexed [i, j] (not [j, i])
                delta1[:, t, i, j] = fwd[:, t, i] + ls[:, t, i, j] + bwd[:, t + 1, j] + lh[:, t + 1, j] + ly[:, t + 1]
    norm = torch.zeros(B, T - 1)
    for t in range(T - 1):
        each = torch.zeros(B, K, K)
        for a in range(K):
            for c in range(K):
                each[:, a, c] = fwd[:, t, a] + ls[:, t, a, c] + bwd[:, t + 1, c] + lh[:, t + 1, c] + ly[:, t + 1]
        norm[:, t] = torch.logsumexp(each.reshape(B, K * K), 1)
    return gamma1, delta1 - norm[:, :, None, None]


# ---------------------------------------------------------------- loss_function.py
def get_loss(gamma1, delta1, lpi, ls, lh, ly):
    t1 = torch.sum(torch.exp(gamma1) * (lpi + lh[:, 0] + ly[:, 0][:, None]))
    t2 = 0
    for i in range(1, ls.shape[1]):
        t2 = t2 + torch.sum(torch.exp(delta1[:, i - 1]) * (ls[:, i] + lh[:, i][:, None] + ly[:, i][:, None, None]))
    return t1, t2


# ---------------------------------------------------------------- inference_network.py
class RefInfer(nn.Module):
    def __init__(self, N, H, var_q):
        super().__init__()
        self.H, self.var_q = H, var_q
        self.forward_rnn = nn.RNN(input_size=N, hidden_size=H, num_layers=1, batch_first=True)
        self.backward_rnn = nn.RNN(input_size=N, hidden_size=H, num_layers=1, batch_first=True)
        self.rnn_mean = nn.RNN(input_size=H, hidden_size=H, num_layers=1, batch_first=True)
        self.lc1 = nn.Linear(2 * H, 64)
        self.lc2 = nn.Linear(64, H)
        self.relu = nn.ReLU()

    def forward(self, y, eps):
        B, T, H = y.shape[0], y.shape[1], self.H
        f_out, _ = self.forward_rnn(y, torch.zeros(1, B, H))
        b_out, _ = self.backward_rnn(torch.flip(y, dims=(1,)), torch.zeros(1, B, H))
        bi = f_out + torch.flip(b_out, dims=(1,))
        mean_out = torch.zeros(B, T, H)
        sampled = torch.zeros(B, T, H)
        h_last = torch.zeros(1, B, H)
        prev = torch.zeros(B, 1, H)
        cov = self.var_q * torch.eye(H)
        for i in range(T):
            emb = torch.cat((bi[:, i:i + 1, :], prev), -1)
            m_i, h_last = self.rnn_mean(self.lc2(self.relu(self.lc1(emb))), h_last)
            # spec §3: std sqrt(v_q) with the given standard-normal eps (the reference's
            # extra factor of the variance, std 1e-6, is not reproduced)
            prev = m_i + math.sqrt(self.var_q) * eps[:, i:i + 1, :]
            sampled[:, i, :] = prev[:, 0, :]
            mean_out[:, i, :] = m_i[:, 0, :]
        return MultivariateNormal(mean_out, cov), sampled, mean_out


# ---------------------------------------------------------------- ndyn layout
def merged(rnn, suffix):
    return getattr(rnn, 'bias_ih' + suffix) + getattr(rnn, 'bias_hh' + suffix)


def ndyn_blocks(model, infer):
    """(value, gradient source) per ndyn block: the gradient of a merged bias is
    that of bias_ih (= d/d(bias_ih + bias_hh))."""
    em = model.emission
    K = model.K
    return {
        'pi': (model.initials, model.initials.grad),
        'trans_W': (model.transitions.weight_ih, model.transitions.weight_ih.grad),
        'trans_b': (merged(model.transitions, ''), model.transitions.bias_ih.grad),
        'dyn_W': (torch.stack([model.rnns[k].weight_hh_l0 for k in range(K)]),
                  torch.stack([model.rnns[k].weight_hh_l0.grad for k in range(K)])),
        'dyn_b': (torch.stack([merged(model.rnns[k], '_l0') for k in range(K)]),
                  torch.stack([model.rnns[k].bias_ih_l0.grad for k in range(K)])),
        'emis_W0': (em.fc1.weight, em.fc1.weight.grad), 'emis_b0': (em.fc1.bias, em.fc1.bias.grad),
        'emis_W1': (em.fc2.weight, em.fc2.weight.grad), 'emis_b1': (em.fc2.bias, em.fc2.bias.grad),
        'emis_W2': (em.fc3.weight, em.fc3.weight.grad), 'emis_b2': (em.fc3.bias, em.fc3.bias.grad),
        'encf_Wx': (infer.forward_rnn.weight_ih_l0, infer.forward_rnn.weight_ih_l0.grad),
        'encf_Wh': (infer.forward_rnn.weight_hh_l0, infer.forward_rnn.weight_hh_l0.grad),
        'encf_b': (merged(infer.forward_rnn, '_l0'), infer.forward_rnn.bias_ih_l0.grad),
        'encb_Wx': (infer.backward_rnn.weight_ih_l0, infer.backward_rnn.weight_ih_l0.grad),
        'encb_Wh': (infer.backward_rnn.weight_hh_l0, infer.backward_rnn.weight_hh_l0.grad),
        'encb_b': (merged(infer.backward_rnn, '_l0'), infer.backward_rnn.bias_ih_l0.grad),
        's1_W': (infer.lc1.weight, infer.lc1.weight.grad), 's1_b': (infer.lc1.bias, infer.lc1.bias.grad),
        's2_W': (infer.lc2.weight, infer.lc2.weight.grad), 's2_b': (infer.lc2.bias, infer.lc2.bias.grad),
        'm_Wa': (infer.rnn_mean.weight_ih_l0, infer.rnn_mean.weight_ih_l0.grad),
        'm_Ws': (infer.rnn_mean.weight_hh_l0, infer.rnn_mean.weight_hh_l0.grad),
        'm_b': (merged(infer.rnn_mean, '_l0'), infer.rnn_mean.bias_ih_l0.grad),
    }


def case(path, seed, n, T, N, K, H, var_h, var_y, var_q, wscale):
    torch.manual_seed(seed)
    model = RefModel(N, K, H, var_h, var_y)
    infer = RefInfer(N, H, var_q)
    with torch.no_grad():  # move every weight off its initial value
        for p in list(model.parameters()) + list(infer.parameters()):
            p.mul_(wscale).add_(0.2 * torch.randn_like(p))
    y = torch.randn(n, T, N)
    eps = torch.randn(n, T, H)
    infer_dist, sampled_h, _ = infer(y, eps)
    lpi, ls, lh, ly, gamma1, delta1 = model(0 * y, y, sampled_h)
    t1, t2 = get_loss(gamma1, delta1, lpi, ls, lh, ly)
    ent = infer_dist.entropy().mean()
    loss = -(t1.mean() + t2.mean() + ent)
    loss.backward()
    # the dead parameters of the reference get no gradient
    for k in range(K):
        assert torch.all(model.rnns[k].weight_ih_l0.grad == 0)
    assert torch.all(model.transitions.weight_hh.grad == 0)
    c0 = n * (-0.5 * H * math.log(2 * math.pi * var_h))
    # the pairwise posterior with the orientation corrected, from the same recursions:
    # p(z_t = i, z_{t+1} = j) ~ alpha_t(i) A_{t+1}[j, i] exp(e_{t+1}(j)) beta_{t+1}(j)
    with torch.no_grad():
        fwd, bwd = model.fwd, model.bwd
        xi = torch.zeros(n, T - 1, K, K)
        for t in range(T - 1):
            X = (fwd[:, t, :, None] + ls[:, t + 1].transpose(1, 2) + bwd[:, t + 1, None, :]
                 + lh[:, t + 1, None, :] + ly[:, t + 1, None, None])
            xi[:, t] = torch.exp(X - torch.logsumexp(X.reshape(n, K * K), 1)[:, None, None])
        evid = lh + ly[:, :, None]
    out = {'y': y.numpy(), 'eps': eps.numpy(), 'K': np.array(K), 'H': np.array(H),
           'var_h': np.array(var_h), 'var_y': np.array(var_y), 'var_q': np.array(var_q),
           'loss': np.array(loss.item()), 't1': np.array(t1.item()), 't2': np.array(t2.item()),
           'ent': np.array(ent.item()), 'c0': np.array(c0),
           'gamma0': torch.exp(gamma1).detach().numpy(),
           # the reference's own forward-backward inputs and pairwise weights, per trial
           'ref_lpi': lpi.detach().numpy(), 'ref_S': ls.detach().numpy(), 'ref_e': evid.numpy(),
           'ref_delta': torch.exp(delta1).detach().numpy(), 'ref_xi_corrected': xi.numpy()}
    for name, (v, g) in ndyn_blocks(model, infer).items():
        out[name] = v.detach().numpy().copy()
        out['grad_' + name] = g.numpy().copy()
    np.savez_compressed(path, **out)
    print(f"{path}: loss {loss.item():.10g} (t1 {t1.item():.6g}, t2 {t2.item():.6g}, ent {ent.item():.6g}), "
          f"gamma0 min/max {torch.exp(gamma1).min().item():.3g}/{torch.exp(gamma1).max().item():.3g}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    torch.set_default_dtype(torch.float64)
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    # the reference's settings: fixed variances 1e-4 (Lorenz sizes: K = 2, H = 3, N = 3)
    case(os.path.join(d, 'compat_ref.npz'), 11, 3, 6, 3, 2, 3, 1e-4, 1e-4, 1e-4, 1.0)
    # the same code with larger variances and smaller weights: soft posteriors, so the
    # gradient through gamma_0 and delta matters
    case(os.path.join(d, 'compat_soft.npz'), 12, 3, 7, 4, 3, 3, 0.3, 0.5, 0.2, 0.5)


if __name__ == '__main__':
    main()
