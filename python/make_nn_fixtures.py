#!/usr/bin/python3
"""Write the PyTorch reference fixtures for tests/test_nn_parity.c.

Run by hand with Debian's python3-torch (not in CI):

    /usr/bin/python3 python/make_nn_fixtures.py

Writes small .npz files under tests/fixtures/nn/: weights, inputs, outputs
and gradients of Linear, an MLP with BatchNorm1d (train and eval mode), an
Elman RNN and a GRU over several steps, the losses and activations, a few
optimiser steps (SGD momentum / Nesterov, Adam, AdamW, clipping) and the
StepLR / ReduceLROnPlateau learning-rate trajectories. Everything is float64
unless the file name ends in _f32 (float32, for ndyn's float32 kernels).
Tensor names follow ndyn's store names (which are PyTorch's state_dict names).
"""
import os
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "nn")


def save(name, **arrays):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".npz")
    np.savez(path, **{k: (v.detach().numpy() if torch.is_tensor(v) else np.asarray(v))
                      for k, v in arrays.items()})
    print("wrote", os.path.relpath(path))


def linear(dtype, suffix):
    torch.manual_seed(1)
    B, C, OC = 5, 4, 3
    lin = nn.Linear(C, OC).to(dtype)
    x = torch.randn(B, C, dtype=dtype, requires_grad=True)
    out = lin(x)
    dout = torch.randn(B, OC, dtype=dtype)
    out.backward(dout)
    save("linear" + suffix, x=x, weight=lin.weight, bias=lin.bias, out=out, dout=dout,
         dx=x.grad, dweight=lin.weight.grad, dbias=lin.bias.grad)


def mlp_bn():
    """PyG-style MLP 6 -> 8 -> 5 -> 3: Linear, BatchNorm1d, ReLU for hidden
    layers, plain last Linear. Two train-mode forwards (running statistics
    accumulate), gradients of the second, then an eval-mode forward."""
    torch.manual_seed(2)
    widths = [6, 8, 5, 3]
    lins = [nn.Linear(widths[i], widths[i + 1]).double() for i in range(3)]
    norms = [nn.BatchNorm1d(widths[i + 1]).double() for i in range(2)]
    with torch.no_grad():  # non-default affine parameters
        for bn in norms:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
    init = {}
    for i, l in enumerate(lins):
        init[f"lins.{i}.weight"] = l.weight.detach().clone()
        init[f"lins.{i}.bias"] = l.bias.detach().clone()
    for i, bn in enumerate(norms):
        init[f"norms.{i}.weight"] = bn.weight.detach().clone()
        init[f"norms.{i}.bias"] = bn.bias.detach().clone()

    def forward(x):
        h = x
        for i in range(3):
            h = lins[i](h)
            if i < 2:
                h = F.relu(norms[i](h))
        return h

    for m in norms:
        m.train()
    B = 10
    x1 = torch.randn(B, widths[0], dtype=torch.float64)
    forward(x1)
    x = torch.randn(B, widths[0], dtype=torch.float64, requires_grad=True)
    out = forward(x)
    dout = torch.randn(B, widths[-1], dtype=torch.float64)
    out.backward(dout)
    grads = {}
    for i, l in enumerate(lins):
        grads[f"grad/lins.{i}.weight"] = l.weight.grad
        grads[f"grad/lins.{i}.bias"] = l.bias.grad
    for i, bn in enumerate(norms):
        grads[f"grad/norms.{i}.weight"] = bn.weight.grad
        grads[f"grad/norms.{i}.bias"] = bn.bias.grad
        grads[f"after/norms.{i}.running_mean"] = bn.running_mean
        grads[f"after/norms.{i}.running_var"] = bn.running_var
    for m in norms:
        m.eval()
    xe = torch.randn(4, widths[0], dtype=torch.float64)
    with torch.no_grad():
        oute = forward(xe)
    save("mlp_bn", x1=x1, x=x, out=out, dout=dout, dx=x.grad, x_eval=xe, out_eval=oute,
         **{"init/" + k: v for k, v in init.items()}, **grads)


def recurrent(kind, dtype, suffix):
    torch.manual_seed(3 if kind == "rnn" else 4)
    T, B, D, H = 7, 3, 4, 5
    net = (nn.RNN(D, H) if kind == "rnn" else nn.GRU(D, H)).to(dtype)
    with torch.no_grad():  # larger weights reach the nonlinearities
        for p in net.parameters():
            p.mul_(2.0)
    x = torch.randn(T, B, D, dtype=dtype, requires_grad=True)
    h0 = torch.randn(1, B, H, dtype=dtype, requires_grad=True)
    hs, _ = net(x, h0)
    dhs = torch.randn(T, B, H, dtype=dtype)
    hs.backward(dhs)
    save(kind + suffix, x=x, h0=h0[0], hs=hs, dhs=dhs, dx=x.grad, dh0=h0.grad[0],
         weight_ih=net.weight_ih_l0, weight_hh=net.weight_hh_l0, bias_ih=net.bias_ih_l0,
         bias_hh=net.bias_hh_l0, dweight_ih=net.weight_ih_l0.grad,
         dweight_hh=net.weight_hh_l0.grad, dbias_ih=net.bias_ih_l0.grad,
         dbias_hh=net.bias_hh_l0.grad)


def losses():
    torch.manual_seed(5)
    B, D = 6, 3
    d = {}

    def rec(name, fn, *inputs):
        ts = [torch.tensor(v, requires_grad=True) for v in inputs]
        loss = fn(*ts)
        loss.backward()
        d[name + "/loss"] = loss.detach()
        for i, t in enumerate(ts):
            d[f"{name}/grad{i}"] = t.grad

    x = torch.randn(B, D, dtype=torch.float64).numpy()
    y = torch.randn(B, D, dtype=torch.float64).numpy()
    lv = (0.5 * torch.randn(D, dtype=torch.float64)).numpy()
    lvs = (0.5 * torch.randn(B, D, dtype=torch.float64)).numpy()
    cnt = torch.poisson(torch.full((B, D), 2.0, dtype=torch.float64)).numpy()
    prob = torch.rand(B, D, dtype=torch.float64).numpy()
    d.update(x=x, y=y, logvar=lv, logvar_s=lvs, counts=cnt, prob=prob)
    rec("mse", lambda a: F.mse_loss(a, torch.tensor(y)), x)
    rec("mse_sum", lambda a: F.mse_loss(a, torch.tensor(y), reduction="sum"), x)
    gnll = nn.GaussianNLLLoss(full=True)
    rec("gnll", lambda a, l: gnll(a, torch.tensor(y), torch.exp(l).expand(B, D)), x, lv)
    rec("gnll_s", lambda a, l: nn.GaussianNLLLoss(reduction="sum")(a, torch.tensor(y),
                                                                      torch.exp(l)), x, lvs)
    rec("gnll_fixed", lambda a: gnll(a, torch.tensor(y), torch.full((B, D), 0.37,
                                                                     dtype=torch.float64)), x)
    rec("poisson_log", lambda a: F.poisson_nll_loss(a, torch.tensor(cnt), log_input=True), x)
    rec("poisson_softplus", lambda a: F.poisson_nll_loss(F.softplus(a), torch.tensor(cnt),
                                                         log_input=False, eps=1e-8), x)
    rec("bce", lambda a: F.binary_cross_entropy_with_logits(a, torch.tensor(prob)), x)
    c = torch.randn(B, D, dtype=torch.float64).numpy()
    cr = torch.randn(B, dtype=torch.float64).numpy()
    d.update(c=c, c_row=cr)
    xa = 3.0 * x
    d["xa"] = xa
    ct = torch.tensor(c)
    rec("softmax", lambda a: (F.softmax(a, dim=1) * ct).sum(), xa)
    rec("logsoftmax", lambda a: (F.log_softmax(a, dim=1) * ct).sum(), xa)
    rec("logsumexp", lambda a: (torch.logsumexp(a, dim=1) * torch.tensor(cr)).sum(), xa)
    rec("logsigmoid", lambda a: (F.logsigmoid(a) * ct).sum(), xa)
    rec("softplus", lambda a: (F.softplus(a) * ct).sum(), xa)
    rec("sigmoid", lambda a: (torch.sigmoid(a) * ct).sum(), xa)
    rec("tanh", lambda a: (torch.tanh(a) * ct).sum(), xa)
    save("losses", **d)


def optim():
    """Linear 4 -> 3 fitted by MSE to fixed data; parameters after each of 6
    steps for several optimisers."""
    torch.manual_seed(6)
    x = torch.randn(8, 4, dtype=torch.float64)
    y = torch.randn(8, 3, dtype=torch.float64)
    lin0 = nn.Linear(4, 3).double()
    d = dict(x=x, y=y, weight=lin0.weight, bias=lin0.bias)
    configs = {
        "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                                  weight_decay=0.01),
        "sgd_dampening": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.3),
        "adam": lambda p: torch.optim.Adam(p, lr=0.01),
        "adam_wd": lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
        "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
        "adam_clip": lambda p: torch.optim.Adam(p, lr=0.01),
    }
    steps = 6
    for name, make in configs.items():
        lin = nn.Linear(4, 3).double()
        with torch.no_grad():
            lin.weight.copy_(lin0.weight)
            lin.bias.copy_(lin0.bias)
        opt = make(lin.parameters())
        ws, bs, norms = [], [], []
        for _ in range(steps):
            opt.zero_grad()
            F.mse_loss(lin(x), y).backward()
            if name == "adam_clip":
                norms.append(float(torch.nn.utils.clip_grad_norm_(lin.parameters(), 0.05)))
            opt.step()
            ws.append(lin.weight.detach().clone())
            bs.append(lin.bias.detach().clone())
        d[name + "/weight"] = torch.stack(ws)
        d[name + "/bias"] = torch.stack(bs)
        if norms:
            d[name + "/norm"] = np.array(norms)
    save("optim", **d)


def sched():
    d = {}
    p = [torch.zeros(1, requires_grad=True)]
    opt = torch.optim.SGD(p, lr=1.0)
    s = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(10):
        opt.step()
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
    d["steplr/lr"] = np.array(lrs)
    rng = np.random.default_rng(7)
    # decreasing, then a plateau with small noise, then a drop, then flat
    metric = np.concatenate([np.linspace(1.0, 0.5, 15), 0.5 + 1e-5 * rng.standard_normal(20),
                             np.linspace(0.49, 0.3, 10), np.full(30, 0.3)])
    d["metric"] = metric
    for name, kw in {"plateau": {},
                     "plateau_max": dict(mode="max", patience=3, threshold=0.01,
                                         threshold_mode="abs", cooldown=2, min_lr=0.02,
                                         factor=0.5)}.items():
        opt = torch.optim.SGD(p, lr=1.0)
        s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        lrs = []
        m = metric if name == "plateau" else -metric
        for v in m:
            opt.step()
            s.step(float(v))
            lrs.append(opt.param_groups[0]["lr"])
        d[name + "/lr"] = np.array(lrs)
    save("sched", **d)


def _crc_array(crc, name, a):
    crc = zlib.crc32(name.encode() + b"\0", crc)
    crc = zlib.crc32(a.dtype.name.encode() + b"\0", crc)
    for d in a.shape:
        crc = zlib.crc32(int(d).to_bytes(8, "little"), crc)
    return zlib.crc32(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes(), crc)


def _model_text(kind, tensors, hparams, optim=None, sched=None, extra=()):
    """meta and hparams texts of an ndyn model file, written from the
    format description in docs/nn.md (independently of ndyn's writer)."""
    meta = f"format\tndyn-nn-model\nversion\t1\nkind\t{kind}\nndyn\tpython\n"
    meta += f"ntensors\t{len(tensors)}\n"
    for name, flags, a in tensors:
        shape = ",".join(str(d) for d in a.shape) if a.ndim else "-"
        meta += f"tensor\t{name}\t{flags}\t{shape}\n"
    for k, v in (optim or {}).items():
        meta += f"{k}\t{v}\n"
    for k, v in (sched or {}).items():
        meta += f"{k}\t{v}\n"
    meta += f"nextra\t{len(extra)}\n"
    for name, _ in extra:
        meta += f"extra\t{name}\n"
    hp = "".join(f"{k}\t{t}\t{v}\n" for k, t, v in hparams)
    return meta, hp


def model_file():
    """A model file written by NumPy from the documented format: ndyn must
    read it (tests/test_nn_model.c). Also the seed of fuzz/fuzz_nnmodel.c."""
    w = (np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5) / 7.0
    b = np.array([0.25, -1.5, 3.0])
    rm = np.array([0.1, 0.2, 0.3])
    t = np.array(0.125)
    tensors = [("lin.weight", 0, w), ("lin.bias", 0, b), ("bn.running_mean", 1, rm),
               ("t", 2, t)]
    m = {n: a * 0.5 for n, _, a in tensors}
    v = {n: a * a for n, _, a in tensors}
    optim = {"optim": "adam", "optim.lr": repr(1e-3 / 3), "optim.initial_lr": "0.001",
             "optim.momentum": "0", "optim.dampening": "0", "optim.nesterov": "0",
             "optim.weight_decay": "0", "optim.beta1": "0.9", "optim.beta2": "0.999",
             "optim.eps": "1e-08", "optim.t": "7", "optim.state": "mv"}
    sched = {"sched": "plateau", "sched.last_epoch": "12", "sched.step_size": "0",
             "sched.gamma": "0", "sched.mode_max": "0", "sched.factor": "0.1",
             "sched.patience": "10", "sched.threshold": "0.0001", "sched.threshold_abs": "0",
             "sched.cooldown": "0", "sched.min_lr": "0", "sched.eps": "1e-08",
             "sched.best": "0.4375", "sched.num_bad_epochs": "3", "sched.cooldown_counter": "0"}
    labels = np.array([3, 1, 4, 1, 5], dtype=np.int32)
    extra = [("labels", labels)]
    hparams = [("hidden", "int", 32), ("lr", "num", repr(0.01)), ("name", "str", "py fixture")]
    meta, hp = _model_text("pyfixture", tensors, hparams, optim, sched, extra)
    arrays = [("param/" + n, a) for n, _, a in tensors]
    arrays += [("optim/m/" + n, m[n]) for n, _, _ in tensors]
    arrays += [("optim/v/" + n, v[n]) for n, _, _ in tensors]
    arrays += [("extra/" + n, a) for n, a in extra]
    crc = zlib.crc32(meta.encode())
    crc = zlib.crc32(hp.encode(), crc)
    for n, a in arrays:
        crc = _crc_array(crc, n, a)
    meta += f"checksum\tcrc32:{crc:08x}\n"
    save("model_v1", meta=np.frombuffer(meta.encode(), dtype=np.uint8),
         hparams=np.frombuffer(hp.encode(), dtype=np.uint8), **dict(arrays))

    # fuzz seed: meta NUL hparams for the harness's arrays param/a (2, 3), param/b ()
    a, bb = np.zeros((2, 3)), np.array(0.0)
    meta, hp = _model_text("seed", [("a", 0, a), ("b", 0, bb)], hparams, optim, sched)
    crc = zlib.crc32(meta.encode())
    crc = zlib.crc32(hp.encode(), crc)
    crc = _crc_array(_crc_array(crc, "param/a", a), "param/b", bb)
    meta += f"checksum\tcrc32:{crc:08x}\n"
    path = os.path.join(OUT, "seed.nnmodel")
    with open(path, "wb") as fh:
        fh.write(meta.encode() + b"\0" + hp.encode())
    print("wrote", os.path.relpath(path))


if __name__ == "__main__":
    torch.set_num_threads(1)
    linear(torch.float64, "")
    linear(torch.float32, "_f32")
    mlp_bn()
    recurrent("rnn", torch.float64, "")
    recurrent("rnn", torch.float32, "_f32")
    recurrent("gru", torch.float64, "")
    losses()
    optim()
    sched()
    model_file()
