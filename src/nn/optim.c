/* Optimisers over a whole store: SGD (momentum, dampening, Nesterov, weight
 * decay), Adam (L2 decay) and AdamW (decoupled decay), PyTorch's update
 * rules; and gradient-norm clipping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"

void ndyn_nn_optim_params_default(ndyn_nn_optim_params *p, ndyn_nn_optim_kind kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->lr = kind == NDYN_NN_SGD ? 0.01 : 1e-3;
    p->weight_decay = kind == NDYN_NN_ADAMW ? 1e-2 : 0.0;
    p->beta1 = 0.9;
    p->beta2 = 0.999;
    p->eps = 1e-8;
}

int ndyn_nn_optim_params_check(const ndyn_nn_optim_params *p)
{
    if (p->kind < NDYN_NN_SGD || p->kind > NDYN_NN_ADAMW)
        return ndyn_error(NDYN_EINVAL, "optimiser kind %d is unknown (0 SGD, 1 Adam, 2 AdamW)",
                          (int)p->kind);
    if (!(p->lr >= 0 && isfinite(p->lr)))
        return ndyn_error(NDYN_EINVAL, "learning rate %g must be finite and >= 0", p->lr);
    if (!(p->weight_decay >= 0 && isfinite(p->weight_decay)))
        return ndyn_error(NDYN_EINVAL, "weight decay %g must be finite and >= 0",
                          p->weight_decay);
    if (p->kind == NDYN_NN_SGD) {
        if (!(p->momentum >= 0 && isfinite(p->momentum)))
            return ndyn_error(NDYN_EINVAL, "SGD momentum %g must be finite and >= 0", p->momentum);
        if (!(p->dampening >= 0 && p->dampening <= 1))
            return ndyn_error(NDYN_EINVAL, "SGD dampening %g must be in [0, 1]", p->dampening);
        if (p->nesterov && (p->momentum <= 0 || p->dampening != 0))
            return ndyn_error(NDYN_EINVAL, "Nesterov momentum needs momentum > 0 (now %g) and "
                              "dampening 0 (now %g)", p->momentum, p->dampening);
    } else {
        if (!(p->beta1 >= 0 && p->beta1 < 1) || !(p->beta2 >= 0 && p->beta2 < 1))
            return ndyn_error(NDYN_EINVAL, "Adam betas (%g, %g) must be in [0, 1)", p->beta1,
                              p->beta2);
        if (!(p->eps >= 0 && isfinite(p->eps)))
            return ndyn_error(NDYN_EINVAL, "Adam eps %g must be finite and >= 0", p->eps);
    }
    return NDYN_OK;
}

int ndyn_nn_optim_alloc(const ndyn_nn_optim_params *p, const ndyn_nn_store *s,
                        ndyn_nn_optim **out)
{
    *out = NULL;
    int rc = ndyn_nn_optim_params_check(p);
    if (rc) return rc;
    ndyn_nn_optim *o = ndyn_calloc(1, sizeof *o);
    if (!o) return NDYN_ENOMEM;
    o->p = *p;
    o->initial_lr = p->lr;
    o->size = s->size;
    size_t n = s->size ? s->size : 1;
    int need_m = p->kind != NDYN_NN_SGD || p->momentum > 0;
    if (need_m && !(o->m = ndyn_calloc(n, sizeof(double)))) goto oom;
    if (p->kind != NDYN_NN_SGD && !(o->v = ndyn_calloc(n, sizeof(double)))) goto oom;
    *out = o;
    return NDYN_OK;
oom:
    ndyn_nn_optim_free(o);
    return NDYN_ENOMEM;
}

void ndyn_nn_optim_free(ndyn_nn_optim *o)
{
    if (!o) return;
    free(o->m);
    free(o->v);
    free(o);
}

void ndyn_nn_optim_reset(ndyn_nn_optim *o)
{
    o->t = 0;
    if (o->m) memset(o->m, 0, (o->size ? o->size : 1) * sizeof(double));
    if (o->v) memset(o->v, 0, (o->size ? o->size : 1) * sizeof(double));
}

int ndyn_nn_optim_step(ndyn_nn_optim *o, ndyn_nn_store *s)
{
    if (s->size != o->size)
        return ndyn_error(NDYN_ESHAPE, "optimiser was made for a store of %zu values, this one "
                          "has %zu; make the optimiser after adding every tensor", o->size,
                          s->size);
    int rc = ndyn_nn_optim_params_check(&o->p);
    if (rc) return rc;
    for (size_t i = 0; i < s->n; i++) {
        const ndyn_nn_param *p = &s->params[i];
        if (p->flags & NDYN_NN_BUFFER) continue;
        const double *g = s->grad + p->offset;
        for (size_t j = 0; j < p->size; j++)
            if (!isfinite(g[j]))
                return ndyn_error(NDYN_ENONFINITE, "gradient of '%s' has a non-finite value at "
                                  "%zu; lower the learning rate or clip gradients", p->name, j);
    }
    const ndyn_nn_optim_params *q = &o->p;
    o->t++;
    double lr = q->lr;
    double bc1 = 1.0 - pow(q->beta1, (double)o->t), bc2 = 1.0 - pow(q->beta2, (double)o->t);
    double step_size = lr / bc1, bc2s = sqrt(bc2);
    for (size_t i = 0; i < s->n; i++) {
        const ndyn_nn_param *p = &s->params[i];
        if (p->flags & NDYN_NN_BUFFER) continue;
        double wd = (p->flags & NDYN_NN_NO_DECAY) ? 0.0 : q->weight_decay;
        double *w = s->data + p->offset;
        const double *gr = s->grad + p->offset;
        double *m = o->m ? o->m + p->offset : NULL, *v = o->v ? o->v + p->offset : NULL;
        if (q->kind == NDYN_NN_SGD) {
            for (size_t j = 0; j < p->size; j++) {
                double g = gr[j] + wd * w[j];
                if (q->momentum > 0) {
                    m[j] = o->t == 1 ? g : q->momentum * m[j] + (1.0 - q->dampening) * g;
                    g = q->nesterov ? g + q->momentum * m[j] : m[j];
                }
                w[j] -= lr * g;
            }
        } else {
            for (size_t j = 0; j < p->size; j++) {
                double g = gr[j];
                if (q->kind == NDYN_NN_ADAMW) w[j] *= 1.0 - lr * wd;
                else g += wd * w[j];
                m[j] = q->beta1 * m[j] + (1.0 - q->beta1) * g;
                v[j] = q->beta2 * v[j] + (1.0 - q->beta2) * g * g;
                w[j] -= step_size * m[j] / (sqrt(v[j]) / bc2s + q->eps);
            }
        }
    }
    return NDYN_OK;
}

int ndyn_nn_clip_grad_norm(ndyn_nn_store *s, double max_norm, double *total_norm)
{
    if (!(max_norm > 0))
        return ndyn_error(NDYN_EINVAL, "max_norm %g for gradient clipping must be positive",
                          max_norm);
    double total = ndyn_nn_store_grad_norm(s);
    if (total_norm) *total_norm = total;
    if (!isfinite(total))
        return ndyn_error(NDYN_ENONFINITE, "gradient norm is not finite; lower the learning "
                          "rate or check the loss");
    double coef = max_norm / (total + 1e-6);
    if (coef < 1.0)
        for (size_t i = 0; i < s->n; i++) {
            const ndyn_nn_param *p = &s->params[i];
            if (p->flags & NDYN_NN_BUFFER) continue;
            double *g = s->grad + p->offset;
            for (size_t j = 0; j < p->size; j++) g[j] *= coef;
        }
    return NDYN_OK;
}
