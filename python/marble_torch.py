#!/usr/bin/python3
"""A PyTorch version of the MARBLE model and loss (spec marble.md §7-13), run by
hand with Debian's /usr/bin/python3 (python3-torch 1.13, numpy, scipy).

Two uses:

  /usr/bin/python3 python/marble_torch.py fixtures
      writes tests/fixtures/marble/parity_<config>.npz: a tiny graph, its
      gradient kernels K_c (dense, (d, n, n)), the graph adjacency, the
      eigenpairs of L_sym and sqrt(degree), the signal, every weight, one
      batch of anchors/positives/negatives, and what torch computes from them:
      the 3B embeddings, the loss, every gradient, the BatchNorm running
      statistics and the parameters after two SGD-momentum steps on that batch.
      Both sides use the same operators, so only the model is compared.

  /usr/bin/python3 python/marble_torch.py fixtures gauges
      only the local-gauge (manifold mode) fixtures parity_gauges_*.npz: a
      curved surface in R^3 (m = 2 < D = 3), tangent frames by local PCA,
      Procrustes connections R_ij, the block kernels K_c[i,j] R_ij and the
      connection Laplacian with its eigenpairs (see "Local gauges" below).

  /usr/bin/python3 python/marble_torch.py bench DATA.npz EPOCHS [THREADS] [nodiff]
      the speed baseline of bench/bench_marble.c: DATA.npz holds the prepared
      operators (written by the benchmark: pos, signal, adj_ptr/adj_idx CSR,
      k_ptr/k_idx/k_val CSR with one pattern for all d kernels, evals, evecs,
      dhalf, train/val node lists); trains the default model (order 2,
      hidden [32], out 3, BatchNorm, diffusion on) with the reference's
      per-batch pipeline (diffuse the whole signal, slice the o-hop subgraph
      operators, forward, backward, SGD step) and prints
      "epoch_seconds <s>", "epoch_cpu_seconds <s>" (best epoch) and "final_loss <x>".

Model (flat mode, no local gauges):
  F = H_t f = D^-1/2 Psi diag(exp(-lambda t)) Psi^T D^1/2 f, t clamped >= 1e-8
  X0 = F, Xp = [K_1 X(p-1), ..., K_d X(p-1)], column r*d + c
  embedding-aware: feat = [pos?] + concat(vec_norm?(Xp))
  inner products: block p reshaped (n, d^p, s) row-major, transposed to
      (n, s, d^p); channels j concatenated; feat_i = tanh(x_i^T sum_j O_j x_j)
  MLP: Linear -> BatchNorm1d -> ReLU -> Dropout per hidden layer, plain last
  emb_norm: z / ||z||
  loss = -mean log sig(z.z+) - mean log sig(-z.z-) [+ sig(sum ||z_m - mean||) - 0.5]

Local gauges (manifold mode, spec §6-10): frames T_i (D, m), s = d = m
  u_i = T_i^T f_i (always projected: ndyn's fix of defect B5)
  vector diffusion (§9): y = (D^-1/2 x I) Psi_c e^{-Lambda_c t} Psi_c^T (D^1/2 x I) u with the
      eigenpairs of the symmetric L_c,sym = I - (D^-1/2 x I) W_R (D^-1/2 x I) (ndyn's fix of
      B1/B2: the reference applies eigh to the non-symmetric Lc and scales the
      eigenvectors by sqrt(n)), then y_i <- y_i (H_t|f|)_i / ((H_t 1)_i ||y_i||)
  kernels: K_c block (i, j) = K_c[i, j] R_ij, applied as in the reference's message
      passing: X (n, W) viewed as (n m, W/m), multiplied by the (n m, n m) block
      matrix, viewed back, results stacked so column = r d + c
"""
import os
import sys
import time

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
FIXDIR = os.path.join(HERE, "..", "tests", "fixtures", "marble")


# ------------------------------------------------------------------ geometry
def cknn(x, k, delta):
    dist = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    rho = np.sort(dist, axis=1)[:, k]          # k-th nearest *other* point
    a = dist < delta * np.sqrt(rho[:, None] * rho[None, :])
    np.fill_diagonal(a, False)
    return a, dist


def gradient_kernels(x, adj):
    n, dim = x.shape
    ks = np.zeros((dim, n, n))
    for c in range(dim):
        f = np.where(adj, x[None, :, c] - x[:, None, c], 0.0)   # F[i, j] = (x_j - x_i)_c
        s = np.abs(f).sum(1, keepdims=True)
        s[s == 0] = 1.0
        f = f / s
        ks[c] = f - np.diag(f.sum(1))
    return ks


def laplacian_eigs(adj, dist):
    w = np.where(adj, 1.0 / np.where(adj, dist, 1.0), 0.0)
    deg = w.sum(1)
    dm = 1.0 / np.sqrt(deg)
    lsym = np.eye(len(deg)) - dm[:, None] * w * dm[None, :]
    lam, psi = np.linalg.eigh(lsym)
    return np.clip(lam, 0, None), psi, np.sqrt(deg)


def local_frames(x, adj, m):
    """Tangent frames (n, D, m): local PCA of each node with its graph neighbours."""
    n, dim = x.shape
    frames = np.zeros((n, dim, m))
    for i in range(n):
        nb = np.concatenate([[i], np.flatnonzero(adj[i])])
        y = x[nb] - x[nb].mean(0)
        u, _, _ = np.linalg.svd(y.T, full_matrices=False)
        frames[i] = u[:, :m]
    return frames


def procrustes_connections(frames, adj):
    """R (n, n, m, m): R_ij = U V^T from the SVD of T_i^T T_j on edges and the diagonal."""
    n, _, m = frames.shape
    conn = np.zeros((n, n, m, m))
    for i in range(n):
        for j in np.concatenate([np.flatnonzero(adj[i]), [i]]):
            u, _, vt = np.linalg.svd(frames[i].T @ frames[j])
            conn[i, j] = u @ vt
    return conn


def manifold_kernel_scalars(x, adj, frames):
    """K_c[i, j] of spec §7 with g_c(i) = T_i[:, c] (scalar part of the block kernels)."""
    n, _, m = frames.shape
    ks = np.zeros((m, n, n))
    for c in range(m):
        proj = np.einsum("ije,ie->ij", x[None, :, :] - x[:, None, :], frames[:, :, c])
        f = np.where(adj, proj, 0.0)
        s = np.abs(f).sum(1, keepdims=True)
        s[s == 0] = 1.0
        f = f / s
        ks[c] = f - np.diag(f.sum(1))
    return ks


def blocks(scal, conn):
    """(n, n) scalars times (n, n, m, m) blocks -> the (n m, n m) block matrix."""
    n, _, m, _ = conn.shape
    return (scal[:, :, None, None] * conn).transpose(0, 2, 1, 3).reshape(n * m, n * m)


def connection_laplacian_eigs(adj, dist, conn):
    w = np.where(adj, 1.0 / np.where(adj, dist, 1.0), 0.0)
    dm = np.repeat(1.0 / np.sqrt(w.sum(1)), conn.shape[2])
    lcsym = np.eye(len(dm)) - dm[:, None] * blocks(w, conn) * dm[None, :]
    lam, psi = np.linalg.eigh(lcsym)
    return np.clip(lam, 0, None), psi, lcsym


# --------------------------------------------------------------------- model
class Marble(torch.nn.Module):
    def __init__(self, s, d, order, hidden, out, inner_product=False, bn=True,
                 include_positions=False, pos_dim=0, include_self=True,
                 vec_norm=False, emb_norm=False, diffusion=True, tau0=0.0,
                 local_gauges=False):
        super().__init__()
        self.s, self.d, self.order = s, d, order
        self.inner_product, self.bn = inner_product, bn
        self.include_positions, self.include_self = include_positions, include_self
        self.vec_norm, self.emb_norm, self.diffusion = vec_norm, emb_norm, diffusion
        self.t = torch.nn.Parameter(torch.tensor(float(tau0)))
        p0 = 0 if include_self else 1
        if inner_product:
            self.nch = sum(d ** p for p in range(p0, order + 1))
            self.O = torch.nn.Parameter(torch.eye(s).repeat(self.nch, 1, 1))
            fin = self.nch
        else:
            self.O = None
            fin = s * sum(d ** p for p in range(p0, order + 1))
        if include_positions:
            fin += pos_dim
        widths = [fin] + list(hidden) + [out]
        self.lins = torch.nn.ModuleList(
            torch.nn.Linear(widths[i], widths[i + 1]) for i in range(len(widths) - 1))
        self.bns = torch.nn.ModuleList(
            torch.nn.BatchNorm1d(w) for w in hidden) if bn else None

    def diffuse(self, f, evals, evecs, dhalf):
        with torch.no_grad():
            self.t.data = torch.clamp(self.t.data, min=1e-8)
        if not self.diffusion:
            return f
        fh = evecs.T @ (dhalf[:, None] * f)
        return (evecs @ (torch.exp(-evals * self.t)[:, None] * fh)) / dhalf[:, None]

    def diffuse_vector(self, f, T, evals, evecs, dhalf, evalsc, evecsc):
        """Local gauges: u = T^T f, then the vector diffusion of the module docstring."""
        with torch.no_grad():
            self.t.data = torch.clamp(self.t.data, min=1e-8)
        u = torch.einsum("nem,ne->nm", T, f)
        if not self.diffusion:
            return u
        n, m = u.shape
        dh = dhalf.repeat_interleave(m)
        y = evecsc @ (torch.exp(-evalsc * self.t) * (evecsc.T @ (dh * u.reshape(-1))))
        y = (y / dh).reshape(n, m)

        def heat(g):
            gh = evecs.T @ (dhalf[:, None] * g)
            return (evecs @ (torch.exp(-evals * self.t)[:, None] * gh)) / dhalf[:, None]
        a = heat(f.norm(dim=1, keepdim=True))
        b = heat(torch.ones(n, 1))
        return y * a / (b * y.norm(dim=1, keepdim=True))

    def features(self, x0, kern_apply, pos):
        """x0 (n, s) diffused signal; kern_apply(p, X) -> list of d arrays K_c X."""
        blocks = [x0]
        xp = x0
        for p in range(1, self.order + 1):
            ys = kern_apply(p, xp)
            xp = torch.stack(ys, dim=2).reshape(ys[0].shape[0], -1)   # column r*d + c
            blocks.append(xp)
        return blocks

    def head(self, blocks, pos):
        nrow = blocks[-1].shape[0]
        blocks = [b[:nrow] for b in blocks]
        if not self.include_self:
            blocks = blocks[1:]
        if self.vec_norm:
            blocks = [b / b.norm(dim=1, keepdim=True).clamp_min(1e-300) for b in blocks]
        if self.inner_product:
            xs = [b.reshape(nrow, -1, self.s).transpose(1, 2) for b in blocks]
            x = torch.cat(xs, dim=2)                                  # (n, s, C)
            ox = torch.einsum("jkl,nlj->nkj", self.O, x)              # O_j x_j
            feat = torch.tanh(torch.einsum("nki,nkj->ni", x, ox))
        else:
            feat = torch.cat(blocks, dim=1)
        if self.include_positions:
            feat = torch.cat([pos[:nrow], feat], dim=1)
        h = feat
        for i, lin in enumerate(self.lins):
            h = lin(h)
            if i < len(self.lins) - 1:
                if self.bn:
                    h = self.bns[i](h)
                h = torch.relu(h)
        if self.emb_norm:
            h = h / h.norm(dim=1, keepdim=True)
        return h

    def params_flat_order(self):
        """Parameters in ndyn's buffer order: t, O (C, s, s), then per layer W (out,
        in), b (out), [BN gamma, beta]."""
        out = [("t", self.t)]
        if self.O is not None:
            out.append(("O", self.O))
        for i, lin in enumerate(self.lins):
            out.append((f"W{i}", lin.weight))
            out.append((f"b{i}", lin.bias))
            if self.bn and i < len(self.lins) - 1:
                out.append((f"gamma{i}", self.bns[i].weight))
                out.append((f"beta{i}", self.bns[i].bias))
        return out


def contrastive_loss(z, nb, mask_rows=None):
    a, p, n = z[:nb], z[nb:2 * nb], z[2 * nb:]
    lp = torch.nn.functional.logsigmoid((a * p).sum(1)).mean()
    ln = torch.nn.functional.logsigmoid(-(a * n).sum(1)).mean()
    loss = -lp - ln
    if mask_rows is not None and len(mask_rows) > 0:
        zm = z[mask_rows]
        loss = loss + torch.sigmoid((zm - zm.mean(0)).norm(dim=1).sum()) - 0.5
    return loss


# ------------------------------------------------------------------ fixtures
def make_fixture(name, rng, n, dim, order, hidden, out, gauges=False, **kw):
    x = rng.uniform(-1, 1, size=(n, dim))
    if gauges:   # a curved surface z = 0.4 (x^2 + y^2) - 0.3 x y in R^3: m = 2 < D = 3
        x[:, 2] = 0.4 * (x[:, 0] ** 2 + x[:, 1] ** 2) - 0.3 * x[:, 0] * x[:, 1]
    # a smooth field plus a rotation so all derivatives are nonzero
    f = np.stack([np.sin(2 * x[:, 0]) + x[:, 1 % dim] ** 2,
                  np.cos(1.5 * x[:, 1 % dim]) - x[:, 0]] +
                 ([x[:, 0] * x[:, 2]] if dim == 3 else []), axis=1)
    adj, dist = cknn(x, k=6, delta=1.0)
    lam, psi, dhalf = laplacian_eigs(adj, dist)
    m = 2 if gauges else dim
    if gauges:
        frames = local_frames(x, adj, m)
        conn = procrustes_connections(frames, adj)
        ks = manifold_kernel_scalars(x, adj, frames)
        kb = np.stack([blocks(ks[c], conn) for c in range(m)])
        lamc, psic, lcsym = connection_laplacian_eigs(adj, dist, conn)
    else:
        ks = gradient_kernels(x, adj)
    torch.manual_seed(rng.integers(1 << 30))
    model = Marble(m, m, order, hidden, out, pos_dim=dim, **kw)
    # non-trivial O and BN affine so their gradients are tested
    with torch.no_grad():
        if model.O is not None:
            model.O.add_(0.2 * torch.randn_like(model.O))
        if model.bns is not None:
            for b in model.bns:
                b.weight.add_(0.3 * torch.randn_like(b.weight))
                b.bias.add_(0.3 * torch.randn_like(b.bias))
    nb = 6
    anchors = rng.choice(n, nb, replace=False)
    positives = np.array([rng.choice(np.flatnonzero(adj[i])) for i in anchors])
    negatives = rng.integers(0, n, nb)
    batch = np.concatenate([anchors, positives, negatives])
    mask = np.zeros(n, bool)
    if kw.get("vec_norm"):
        mask[rng.choice(n, n // 3, replace=False)] = True
    mask_rows = np.flatnonzero(mask[batch])

    T = lambda a: torch.tensor(a, dtype=torch.float64)
    ks_t, lam_t, psi_t, dh_t, f_t, pos_t = T(ks), T(lam), T(psi), T(dhalf), T(f), T(x)
    init = {k: v.detach().clone().numpy() for k, v in model.params_flat_order()}

    if gauges:
        fr_t, kb_t, lamc_t, psic_t = T(frames), T(kb), T(lamc), T(psic)

        def diffuse():
            return model.diffuse_vector(f_t, fr_t, lam_t, psi_t, dh_t, lamc_t, psic_t)

        def kern_apply(p, X):   # the block matmul on X viewed as (n m, W / m)
            return [(kb_t[c] @ X.reshape(n * m, -1)).reshape(n, -1) for c in range(m)]
    else:
        def diffuse():
            return model.diffuse(f_t, lam_t, psi_t, dh_t)

        def kern_apply(p, X):
            return [ks_t[c] @ X for c in range(dim)]

    def forward():
        blocks = model.features(diffuse(), kern_apply, pos_t)
        blocks = [b[batch] for b in blocks]
        return model.head(blocks, pos_t[batch])

    lr, mom = 0.05, 0.9
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom)
    model.train()
    z = forward()
    loss = contrastive_loss(z, nb, mask_rows)
    opt.zero_grad()
    loss.backward()
    grads = {k: (v.grad.detach().clone().numpy() if v.grad is not None
                 else np.zeros(tuple(v.shape))) for k, v in model.params_flat_order()}
    run = {}
    if model.bns is not None:
        for i, b in enumerate(model.bns):
            run[f"run_mean{i}"] = b.running_mean.detach().clone().numpy()
            run[f"run_var{i}"] = b.running_var.detach().clone().numpy()
    opt.step()
    z2 = forward()
    loss2 = contrastive_loss(z2, nb, mask_rows)
    opt.zero_grad()
    loss2.backward()
    opt.step()
    after = {k: v.detach().clone().numpy() for k, v in model.params_flat_order()}
    model.eval()
    with torch.no_grad():
        zeval = model.head(model.features(diffuse(), kern_apply, pos_t), pos_t)

    arrs = dict(pos=x, signal=f, adj=adj.astype(np.uint8), kern=ks, evals=lam, evecs=psi,
                dhalf=dhalf, anchors=anchors.astype(np.int32),
                positives=positives.astype(np.int32), negatives=negatives.astype(np.int32),
                mask=mask.astype(np.uint8), z=z.detach().numpy(), loss=np.array(loss.item()),
                loss2=np.array(loss2.item()), z_eval=zeval.numpy(), lr=np.array(lr),
                momentum=np.array(mom),
                config=np.array([order, int(kw.get("inner_product", False)),
                                 int(kw.get("bn", True)), int(kw.get("include_positions", False)),
                                 int(kw.get("include_self", True)), int(kw.get("vec_norm", False)),
                                 int(kw.get("emb_norm", False)), int(kw.get("diffusion", True)),
                                 out, int(gauges)], dtype=np.int32),
                hidden=np.array(hidden, dtype=np.int32))
    if gauges:
        arrs.update(frames=frames, conn=conn, evalsc=lamc, evecsc=psic, lcsym=lcsym)
    for k, v in init.items():
        arrs["init_" + k] = v
    for k, v in grads.items():
        arrs["grad_" + k] = v
    for k, v in after.items():
        arrs["after_" + k] = v
    arrs.update(run)
    os.makedirs(FIXDIR, exist_ok=True)
    path = os.path.join(FIXDIR, f"parity_{name}.npz")
    (np.savez_compressed if gauges else np.savez)(path, **arrs)
    print("wrote", path, "loss", loss.item())


def fixtures(which="all"):
    if which == "gauges":
        # ndyn's semantics of the local-gauge path (spec §9 vector path with the
        # B1/B2/B5 fixes, see the module docstring), not the reference's defects
        rng = np.random.default_rng(20261202)
        make_fixture("gauges_inner", rng, 40, 3, 2, [7], 3, gauges=True, inner_product=True,
                     tau0=0.1)
        make_fixture("gauges_aware", rng, 36, 3, 2, [6], 2, gauges=True, include_positions=True,
                     vec_norm=True, tau0=0.05)
        return
    rng = np.random.default_rng(20261201)
    make_fixture("aware", rng, 40, 2, 2, [8], 3, tau0=0.05)
    make_fixture("inner", rng, 36, 3, 2, [7, 5], 4, inner_product=True, bn=False,
                 include_positions=True, emb_norm=True, vec_norm=True, tau0=0.02)
    make_fixture("noself", rng, 30, 2, 1, [6], 2, include_self=False, include_positions=True,
                 diffusion=False)
    fixtures("gauges")


# --------------------------------------------------------------------- bench
def bench(path, epochs, threads, diffusion=True):
    import scipy.sparse as sp
    torch.set_num_threads(threads)
    z = np.load(path)
    pos, sig = z["pos"], z["signal"]
    n, s = sig.shape
    d = pos.shape[1]
    adj = sp.csr_matrix((np.ones(len(z["adj_idx"])), z["adj_idx"], z["adj_ptr"]), shape=(n, n))
    kv = z["k_val"]
    kcsr = [sp.csr_matrix((kv[c], z["k_idx"], z["k_ptr"]), shape=(n, n)) for c in range(d)]
    if diffusion:
        evals, evecs, dhalf = (torch.tensor(z[k]) for k in ("evals", "evecs", "dhalf"))
    else:
        evals = evecs = dhalf = None
    train = z["train"]
    batch_size, order = 64, 2
    torch.manual_seed(0)
    model = Marble(s, d, order, [32], 3, tau0=0.0, diffusion=diffusion)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    f_t = torch.tensor(sig)
    rng = np.random.default_rng(0)
    indptr, indices = adj.indptr, adj.indices

    def hop_sets(targets):
        sets = [np.unique(targets)]
        for _ in range(order):
            nb = np.unique(adj[sets[-1]].indices)
            sets.append(np.union1d(sets[-1], nb))
        return sets

    times, ctimes, last = [], [], 0.0
    for ep in range(epochs):
        t0, c0 = time.time(), time.process_time()
        model.train()
        perm = rng.permutation(train)
        tot, nbt = 0.0, 0
        for b0 in range(0, len(perm), batch_size):
            a = perm[b0:b0 + batch_size]
            deg = indptr[a + 1] - indptr[a]
            p = indices[indptr[a] + (rng.random(len(a)) * deg).astype(int)]
            ng = rng.integers(0, n, len(a))
            batch = np.concatenate([a, p, ng])
            sets = hop_sets(batch)
            # reference pipeline: the whole signal is diffused at every batch
            fd = model.diffuse(f_t, evals, evecs, dhalf)
            x = fd[torch.tensor(sets[order])]
            for lvl in range(order, 0, -1):
                rows, cols = sets[lvl - 1], sets[lvl]
                ys = []
                for c in range(d):
                    m = kcsr[c][rows][:, cols].tocoo()
                    kt = torch.sparse_coo_tensor(np.vstack([m.row, m.col]), m.data, m.shape)
                    ys.append(torch.sparse.mm(kt, x))
                xnew = torch.stack(ys, 2).reshape(len(rows), -1)
                x = xnew if lvl == order else xnew
                # keep every block on the rows of the next level
                if lvl == order:
                    blocks = [fd[torch.tensor(rows)], xnew]
                else:
                    pos_in = np.searchsorted(sets[lvl], rows)
                    blocks = [bk[torch.tensor(pos_in)] for bk in blocks] + [xnew]
            loc = torch.tensor(np.searchsorted(sets[0], batch))
            blocks = [bk[loc] for bk in blocks]
            zz = model.head(blocks, None)
            loss = contrastive_loss(zz, len(a))
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item()
            nbt += 1
        times.append(time.time() - t0)
        ctimes.append(time.process_time() - c0)
        last = tot / nbt
    print("epoch_seconds", float(np.min(times)))
    print("epoch_cpu_seconds", float(np.min(ctimes)))
    print("final_loss", last)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "fixtures":
        fixtures(sys.argv[2] if len(sys.argv) > 2 else "all")
    elif len(sys.argv) >= 4 and sys.argv[1] == "bench":
        bench(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1,
              diffusion="nodiff" not in sys.argv[5:])
    else:
        print(__doc__)
        sys.exit(2)
