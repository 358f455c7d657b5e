"""Example inputs for `ndyn plot` in the formats of docs/FORMATS.md, from small
simulated systems with known structure (van der Pol fields for several mu, a
two-state switching linear system, a noisy training history). Used to draw the
gallery when the fitting commands are not at hand:

    /usr/bin/python3 python/plot_examples.py OUTDIR
"""
import os
import sys

import numpy as np

rng = np.random.default_rng(0)
out = sys.argv[1] if len(sys.argv) > 1 else "plot-examples"
os.makedirs(out, exist_ok=True)

# van der Pol fields, one condition per mu (the MARBLE vdp benchmark)
mus = [0.2, 0.7, 1.2, 1.7]
pos, vel, cond = [], [], []
for c, mu in enumerate(mus):
    p = rng.uniform(-3, 3, size=(400, 2))
    v = np.stack([p[:, 1], mu * (1 - p[:, 0] ** 2) * p[:, 1] - p[:, 0]], axis=1)
    pos.append(p); vel.append(v); cond.append(np.full(400, c, np.int32))
pos = np.concatenate(pos); vel = np.concatenate(vel); cond = np.concatenate(cond)
np.savez(os.path.join(out, "fields.npz"), pos=pos, vel=vel, condition=cond, mu=np.array(mus))

# an embedding: each condition a noisy ring in 5-D whose radius follows mu
emb = []
for c, mu in enumerate(mus):
    th = rng.uniform(0, 2 * np.pi, 400)
    e = np.zeros((400, 5))
    e[:, 0] = (1 + mu) * np.cos(th); e[:, 1] = (1 + mu) * np.sin(th); e[:, 2] = mu
    e += 0.15 * rng.standard_normal(e.shape)
    emb.append(e)
emb = np.concatenate(emb)
np.savez(os.path.join(out, "emb.npz"), emb=emb, condition=cond, pos=pos, label=pos[:, 0])

# distances between conditions: |mu_i - mu_j| plus a little noise, symmetric
m = np.array(mus)
d = np.abs(m[:, None] - m[None, :]) + 0.05 * (1 - np.eye(4))
np.savez(os.path.join(out, "dist.npz"), dist=d)

# a two-state switching system: posterior, Viterbi path, labels, y, yhat, pred
N, T, K, Y, k = 2, 400, 2, 6, 5
z = np.zeros((N, T), np.int32)
for n in range(N):
    s = 0
    for t in range(T):
        if rng.uniform() < 0.02: s = 1 - s
        z[n, t] = s
A = [np.array([[0.99, -0.1], [0.1, 0.99]]), np.array([[0.95, 0.0], [0.0, 0.9]])]
h = np.zeros((N, T, 2)); h[:, 0] = [1, 0]
for n in range(N):
    for t in range(1, T):
        h[n, t] = A[z[n, t]] @ h[n, t - 1] + np.array([0.0, 0.3]) * z[n, t] + 0.02 * rng.standard_normal(2)
C = rng.standard_normal((2, Y))
y = h @ C + 0.1 * rng.standard_normal((N, T, Y))
yhat = h @ C
pred = yhat + 0.15 * rng.standard_normal(yhat.shape); pred[:, :k] = np.nan
logit = 4 * (2 * z - 1) + rng.standard_normal((N, T))
p1 = 1 / (1 + np.exp(-logit))
post = np.stack([1 - p1, p1], axis=2)
vit = (p1 > 0.5).astype(np.int32)
np.savez(os.path.join(out, "posterior.npz"), posterior=post, states=vit, h=h, yhat=yhat,
         elbo=np.zeros(N), labels=z, state_error=np.array(np.mean(vit != z)),
         state_map=np.array([0, 1], np.int32))
np.savez(os.path.join(out, "predict.npz"), pred=pred, k=np.array(float(k)), y=y)

# per-state flow on a grid in the latent plane
g = np.stack(np.meshgrid(np.linspace(-2, 2, 15), np.linspace(-2, 2, 15)), -1).reshape(-1, 2)
flow = np.stack([g @ (A[s] - np.eye(2)).T + np.array([0.0, 0.3]) * s for s in range(K)])
np.savez(os.path.join(out, "flow.npz"), grid=g, vel=flow, traj=h, traj_state=vit,
         pca_components=np.eye(2), pca_mean=np.zeros(2))

# training history
E = 200
ep = np.arange(E, dtype=float)
tr = 2.0 * np.exp(-ep / 40) + 0.1 + 0.02 * rng.standard_normal(E)
va = 2.1 * np.exp(-ep / 45) + 0.15 + 0.03 * rng.standard_normal(E)
va[1::5] = np.nan  # validated every 5th epoch only
lr = 1e-3 * 0.5 ** (ep // 50)
np.savez(os.path.join(out, "model.history.npz"), epoch=ep, train_loss=tr, val_loss=va, lr=lr)
print("wrote", out)
