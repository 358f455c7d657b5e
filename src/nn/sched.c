/* Learning-rate schedules: StepLR and ReduceLROnPlateau, PyTorch semantics. */
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

void ndyn_nn_steplr_init(ndyn_nn_sched *s, int64_t step_size, double gamma)
{
    memset(s, 0, sizeof *s);
    s->kind = NDYN_NN_SCHED_STEP;
    s->step_size = step_size;
    s->gamma = gamma;
}

void ndyn_nn_plateau_init(ndyn_nn_sched *s)
{
    memset(s, 0, sizeof *s);
    s->kind = NDYN_NN_SCHED_PLATEAU;
    s->factor = 0.1;
    s->patience = 10;
    s->threshold = 1e-4;
    s->min_lr = 0.0;
    s->eps = 1e-8;
    s->best = INFINITY;   /* mode min; set to -inf when switching to max before the first step */
}

int ndyn_nn_sched_check(const ndyn_nn_sched *s)
{
    switch (s->kind) {
    case NDYN_NN_SCHED_NONE: return NDYN_OK;
    case NDYN_NN_SCHED_STEP:
        if (s->step_size <= 0 || !(s->gamma > 0 && isfinite(s->gamma)))
            return ndyn_error(NDYN_EINVAL, "StepLR: step_size %lld must be positive and gamma %g "
                              "positive", (long long)s->step_size, s->gamma);
        return NDYN_OK;
    case NDYN_NN_SCHED_PLATEAU:
        if (!(s->factor > 0 && s->factor < 1))
            return ndyn_error(NDYN_EINVAL, "ReduceLROnPlateau: factor %g must be in (0, 1)",
                              s->factor);
        if (s->patience < 0 || s->cooldown < 0 || !(s->threshold >= 0) || !(s->min_lr >= 0) ||
            !(s->eps >= 0))
            return ndyn_error(NDYN_EINVAL, "ReduceLROnPlateau: patience, cooldown, threshold, "
                              "min_lr and eps must be >= 0");
        return NDYN_OK;
    }
    return ndyn_error(NDYN_EINVAL, "schedule kind %d is unknown", (int)s->kind);
}

static int is_better(const ndyn_nn_sched *s, double a)
{
    double best = s->best;
    if (!s->mode_max && !s->threshold_abs) return a < best * (1.0 - s->threshold);
    if (!s->mode_max) return a < best - s->threshold;
    if (!s->threshold_abs) return a > best * (1.0 + s->threshold);
    return a > best + s->threshold;
}

int ndyn_nn_sched_step(ndyn_nn_sched *s, ndyn_nn_optim *o, double metric, int *reduced)
{
    if (reduced) *reduced = 0;
    int rc = ndyn_nn_sched_check(s);
    if (rc) return rc;
    if (s->kind == NDYN_NN_SCHED_NONE) {
        s->last_epoch++;
        return NDYN_OK;
    }
    if (s->kind == NDYN_NN_SCHED_STEP) {
        /* PyTorch's chainable form: lr *= gamma when the new epoch is a multiple */
        s->last_epoch++;
        if (s->last_epoch % s->step_size == 0) {
            o->p.lr *= s->gamma;
            if (reduced) *reduced = 1;
        }
        return NDYN_OK;
    }
    /* ReduceLROnPlateau */
    if (s->last_epoch == 0 && s->num_bad_epochs == 0 && s->mode_max && s->best == INFINITY)
        s->best = -INFINITY;
    s->last_epoch++;
    if (is_better(s, metric)) {
        s->best = metric;
        s->num_bad_epochs = 0;
    } else {
        s->num_bad_epochs++;
    }
    if (s->cooldown_counter > 0) {
        s->cooldown_counter--;
        s->num_bad_epochs = 0;
    }
    if (s->num_bad_epochs > s->patience) {
        double old = o->p.lr, nl = fmax(old * s->factor, s->min_lr);
        if (old - nl > s->eps) {
            o->p.lr = nl;
            if (reduced) *reduced = 1;
        }
        s->cooldown_counter = s->cooldown;
        s->num_bad_epochs = 0;
    }
    return NDYN_OK;
}
