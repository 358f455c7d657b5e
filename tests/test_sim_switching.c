/* Switching tanh-RNN simulator: the Markov chain against its transition
 * matrix (frequencies and dwell times), latents against the regimes'
 * equations, distinct regimes (rotation direction and speed, fixed points),
 * Gaussian and Poisson emission statistics, seeding, validation. */
#include "sim_test_util.h"

#include <omp.h>

#include "ndyn/sim.h"

static ndyn_sim_switching_params small(void)
{
    ndyn_sim_switching_params p;
    ndyn_sim_switching_defaults(&p);
    p.trials = 8;
    p.steps = 400;
    p.Y = 10;
    return p;
}

TEST(switching_shapes_and_equations)
{
    ndyn_sim_switching_params p = small();
    p.H = 3;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_switching(&p, &ds));
    if (!ds) return;
    const ndyn_array *y = t_get(ds, "y", NDYN_F64, 3, (size_t[]){8, 400, 10});
    const ndyn_array *s = t_get(ds, "states", NDYN_I32, 2, (size_t[]){8, 400});
    const ndyn_array *h = t_get(ds, "h", NDYN_F64, 3, (size_t[]){8, 400, 3});
    const ndyn_array *rate = t_get(ds, "rate", NDYN_F64, 3, (size_t[]){8, 400, 10});
    const ndyn_array *W = t_get(ds, "W", NDYN_F64, 3, (size_t[]){3, 3, 3});
    const ndyn_array *b = t_get(ds, "b", NDYN_F64, 2, (size_t[]){3, 3});
    const ndyn_array *C = t_get(ds, "C", NDYN_F64, 2, (size_t[]){10, 3});
    const ndyn_array *d = t_get(ds, "d", NDYN_F64, 1, (size_t[]){10});
    const ndyn_array *P = t_get(ds, "transition", NDYN_F64, 2, (size_t[]){3, 3});
    if (!y || !s || !h || !rate || !W || !b || !C || !d || !P) goto done;
    const double *Pd = P->data;
    for (int i = 0; i < 3; i++) {
        double row = 0;
        for (int j = 0; j < 3; j++) row += Pd[3 * i + j];
        CHECK_CLOSE(row, 1, 1e-15, 0);
        CHECK(Pd[4 * i] == 0.98);
    }
    /* h_t - tanh(W_z h_{t-1} + b_z) is the latent noise (sd 0.01); y - (C h + d)
     * the observation noise (sd 0.1). */
    const double *H = h->data, *Wd = W->data, *B = b->data, *Cd = C->data, *D = d->data,
                 *Yd = y->data, *R = rate->data;
    const int32_t *Z = s->data;
    double e2 = 0, o2 = 0, rmax = 0;
    size_t ne = 0, no = 0;
    for (size_t n = 0; n < 8; n++)
        for (size_t t = 0; t < 400; t++) {
            size_t k = n * 400 + t;
            CHECK(Z[k] >= 0 && Z[k] < 3);
            if (t) {
                for (int i = 0; i < 3; i++) {
                    double a = B[Z[k] * 3 + i];
                    for (int j = 0; j < 3; j++) a += Wd[(Z[k] * 3 + i) * 3 + j] * H[(k - 1) * 3 + j];
                    e2 += (H[k * 3 + i] - tanh(a)) * (H[k * 3 + i] - tanh(a));
                    ne++;
                }
            }
            for (int i = 0; i < 10; i++) {
                double a = D[i];
                for (int j = 0; j < 3; j++) a += Cd[i * 3 + j] * H[k * 3 + j];
                CHECK_CLOSE(R[k * 10 + i], a, 1e-12, 0);
                o2 += (Yd[k * 10 + i] - a) * (Yd[k * 10 + i] - a);
                no++;
            }
            if (t)
                for (int i = 0; i < 3; i++) rmax = fmax(rmax, fabs(H[k * 3 + i]));
        }
    CHECK_CLOSE(sqrt(e2 / ne), 0.01, 0, 0.03);
    CHECK_CLOSE(sqrt(o2 / no), 0.1, 0, 0.03);
    CHECK(rmax < 1.1); /* tanh keeps latents bounded */
done:
    ndyn_dataset_free(ds);
}

TEST(switching_transitions_and_dwell)
{
    /* One long trial, stay = 0.95: the empirical transition frequencies match
     * the matrix, and complete runs of a state have the geometric mean length
     * 1 / (1 - stay) = 20. */
    ndyn_sim_switching_params p = small();
    p.trials = 1;
    p.steps = 40000;
    p.Y = 2;
    p.stay = 0.95;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_switching(&p, &ds));
    if (!ds) return;
    const ndyn_array *s = t_get(ds, "states", NDYN_I32, 2, (size_t[]){1, 40000});
    if (s) {
        const int32_t *Z = s->data;
        double cnt[3][3] = {{0}};
        size_t runs = 0, runlen = 0, cur = 1, occ[3] = {0};
        int first = 1;
        for (size_t t = 1; t < 40000; t++) {
            cnt[Z[t - 1]][Z[t]]++;
            if (Z[t] == Z[t - 1]) {
                cur++;
            } else {
                if (!first) runs++, runlen += cur; /* the first run is cut by the start */
                first = 0;
                cur = 1;
            }
            occ[Z[t]]++;
        }
        for (int i = 0; i < 3; i++) {
            double row = cnt[i][0] + cnt[i][1] + cnt[i][2];
            double f = cnt[i][i] / row, se = sqrt(0.95 * 0.05 / row);
            CHECKF(fabs(f - 0.95) < 4 * se, "state %d: stays with frequency %g (se %g)", i, f, se);
            for (int j = 0; j < 3; j++)
                if (j != i) CHECK_CLOSE(cnt[i][j] / (row - cnt[i][i]), 0.5, 0.12, 0);
            CHECK_CLOSE(occ[i] / 40000.0, 1.0 / 3, 0.06, 0);
        }
        double mean = (double)runlen / runs;
        /* sd of a geometric(0.05) run length is sqrt(0.95)/0.05 ~ 19.5; ~2000 runs. */
        CHECKF(fabs(mean - 20) < 4 * 19.5 / sqrt((double)runs), "mean dwell %g over %zu runs",
               mean, runs);
    }
    ndyn_dataset_free(ds);
}

TEST(switching_regimes_are_distinct)
{
    /* Within each regime (no noise): state 0 turns counter-clockwise (W turns by
     * 0.15 rad per step), state 1 clockwise and faster (W: 0.45), state 2 settles on its fixed
     * point h* = tanh(0.5 h* + b) = (0.4, -0.4). */
    ndyn_sim_switching_params p = small();
    p.latent_noise = 0;
    p.trials = 4;
    p.steps = 2000;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_switching(&p, &ds));
    if (!ds) return;
    const ndyn_array *s = t_get(ds, "states", NDYN_I32, 2, (size_t[]){4, 2000});
    const ndyn_array *h = t_get(ds, "h", NDYN_F64, 3, (size_t[]){4, 2000, 2});
    if (s && h) {
        const int32_t *Z = s->data;
        const double *H = h->data;
        double turn[2] = {0}, fixerr = 0;
        size_t nt[2] = {0}, nf = 0;
        for (size_t n = 0; n < 4; n++)
            for (size_t t = 20; t < 2000; t++) {
                size_t k = n * 2000 + t;
                /* Only well inside a run (20 steps in the same state). */
                int inside = 1;
                for (size_t u = k - 20; u < k; u++) inside &= Z[u] == Z[k];
                if (!inside) continue;
                const double *a = H + 2 * (k - 1), *c = H + 2 * k;
                if (Z[k] < 2) {
                    double da = atan2(a[0] * c[1] - a[1] * c[0], a[0] * c[0] + a[1] * c[1]);
                    turn[Z[k]] += da;
                    nt[Z[k]]++;
                } else {
                    fixerr = fmax(fixerr, hypot(c[0] - 0.4, c[1] + 0.4));
                    nf++;
                }
            }
        CHECK(nt[0] > 100 && nt[1] > 100 && nf > 100);
        /* Component-wise tanh on the cycle slows the turn below the angle of W
         * (0.15 -> ~0.11); direction and the ratio of speeds stay. */
        double t0 = turn[0] / nt[0], t1 = turn[1] / nt[1];
        CHECKF(t0 > 0.08 && t0 < 0.16, "state 0 turns %g rad/step", t0);
        CHECKF(t1 < -0.3 && t1 > -0.5, "state 1 turns %g rad/step", t1);
        CHECKF(-t1 > 2.5 * t0, "state 1 (%g) is not much faster than state 0 (%g)", t1, t0);
        CHECKF(fixerr < 1e-3, "distance to the fixed point %g", fixerr);
    }
    ndyn_dataset_free(ds);
}

TEST(switching_poisson)
{
    ndyn_sim_switching_params p = small();
    p.emission = NDYN_SIM_EMIT_POISSON;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_switching(&p, &ds));
    if (!ds) return;
    const ndyn_array *y = t_get(ds, "y", NDYN_F64, 3, (size_t[]){8, 400, 10});
    const ndyn_array *rate = t_get(ds, "rate", NDYN_F64, 3, (size_t[]){8, 400, 10});
    if (y && rate) {
        const double *Yd = y->data, *R = rate->data;
        double sum_d = 0, sum_r = 0, sum_v = 0;
        int ok = 1;
        for (size_t i = 0; i < y->size; i++) {
            ok &= Yd[i] >= 0 && Yd[i] == floor(Yd[i]) && R[i] > 0;
            sum_d += Yd[i] - R[i];
            sum_v += (Yd[i] - R[i]) * (Yd[i] - R[i]);
            sum_r += R[i];
        }
        CHECK(ok);
        /* Mean matches the rate (z-score of the total), variance matches the mean. */
        CHECKF(fabs(sum_d / sqrt(sum_r)) < 4, "z = %g", sum_d / sqrt(sum_r));
        CHECK_CLOSE(sum_v / sum_r, 1.0, 0.05, 0);
    }
    ndyn_dataset_free(ds);
}

TEST(switching_mlp_emission)
{
    /* rate = C tanh(C1 h + c1) + d, recomputed here from the stored weights. */
    ndyn_sim_switching_params p = small();
    p.emission_hidden = 8;
    p.H = 3;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_switching(&p, &ds));
    if (!ds) return;
    const ndyn_array *h = t_get(ds, "h", NDYN_F64, 3, (size_t[]){8, 400, 3});
    const ndyn_array *rate = t_get(ds, "rate", NDYN_F64, 3, (size_t[]){8, 400, 10});
    const ndyn_array *C = t_get(ds, "C", NDYN_F64, 2, (size_t[]){10, 8});
    const ndyn_array *C1 = t_get(ds, "C1", NDYN_F64, 2, (size_t[]){8, 3});
    const ndyn_array *c1 = t_get(ds, "c1", NDYN_F64, 1, (size_t[]){8});
    const ndyn_array *d = t_get(ds, "d", NDYN_F64, 1, (size_t[]){10});
    if (h && rate && C && C1 && c1 && d) {
        const double *H = h->data, *R = rate->data, *Cd = C->data, *A = C1->data, *a = c1->data,
                     *D = d->data;
        double worst = 0, lin_dev = 0;
        for (size_t k = 0; k < 8 * 400; k++) {
            double u[8];
            for (int m = 0; m < 8; m++) {
                double s0 = a[m];
                for (int j = 0; j < 3; j++) s0 += A[m * 3 + j] * H[k * 3 + j];
                u[m] = tanh(s0);
                lin_dev = fmax(lin_dev, fabs(u[m] - s0)); /* tanh is not linear here */
            }
            for (int i = 0; i < 10; i++) {
                double v = D[i];
                for (int m = 0; m < 8; m++) v += Cd[i * 8 + m] * u[m];
                worst = fmax(worst, fabs(v - R[k * 10 + i]));
            }
        }
        CHECKF(worst < 1e-12, "worst %g", worst);
        CHECKF(lin_dev > 0.3, "hidden layer is nearly linear (max |tanh(s) - s| %g)", lin_dev);
    }
    ndyn_dataset_free(ds);
    p.emission_hidden = 5000;
    CHECK_FAILS(ndyn_sim_switching(&p, &ds), NDYN_EINVAL);
}

TEST(switching_seeded)
{
    ndyn_sim_switching_params p = small();
    ndyn_dataset *a = NULL, *b = NULL, *c = NULL;
    omp_set_num_threads(1);
    CHECK_OK(ndyn_sim_switching(&p, &a));
    omp_set_num_threads(4);
    CHECK_OK(ndyn_sim_switching(&p, &b));
    p.seed = 77;
    CHECK_OK(ndyn_sim_switching(&p, &c));
    T_CHECK_SEEDED(a, b, c);
}

TEST(switching_bad_params)
{
    ndyn_dataset *ds = NULL;
    ndyn_sim_switching_params p = small();
    p.K = 0;
    CHECK_FAILS(ndyn_sim_switching(&p, &ds), NDYN_EINVAL);
    p.K = 7;
    CHECK_FAILS(ndyn_sim_switching(&p, &ds), NDYN_EINVAL);
    p = small();
    p.stay = 1.0;
    CHECK_FAILS(ndyn_sim_switching(&p, &ds), NDYN_EINVAL);
    p = small();
    p.H = 1;
    CHECK_FAILS(ndyn_sim_switching(&p, &ds), NDYN_EINVAL);
    p = small();
    p.emission = 5;
    CHECK_FAILS(ndyn_sim_switching(&p, &ds), NDYN_EINVAL);
    p = small();
    p.noise = NAN;
    CHECK_FAILS(ndyn_sim_switching(&p, &ds), NDYN_EINVAL);
    CHECK(ds == NULL);
    /* K = 1 is a plain (non-switching) RNN. */
    p = small();
    p.K = 1;
    CHECK_OK(ndyn_sim_switching(&p, &ds));
    ndyn_dataset_free(ds);
    double W[4], b[2];
    CHECK_FAILS(ndyn_sim_switching_regime(6, 2, W, b), NDYN_EINVAL);
}

RUN_TESTS(T(switching_shapes_and_equations), T(switching_transitions_and_dwell),
          T(switching_regimes_are_distinct), T(switching_poisson), T(switching_mlp_emission),
          T(switching_seeded),
          T(switching_bad_params))
