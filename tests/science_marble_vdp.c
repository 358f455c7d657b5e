/* MARBLE on the van der Pol sweep (spec §18 toy example, reduced for one
 * core): conditions mu in [-1, 1]; prepare (CkNN), fit the default model
 * (order 2, hidden [32], diffusion on) with fewer epochs, exact OT between
 * the conditions' latent distributions. Ground truth: the distance matrix
 * must rank like |mu_i - mu_j| (Spearman >= 0.9) and the first MDS
 * coordinate must order the conditions by mu (|Spearman| >= 0.9).
 * Reduced sizes: 12 values of mu, 60 initial conditions each (the
 * reference: 40 and 100), 30 epochs (reference 50), no spacing. */
#include "test.h"
#include "ndyn/analysis.h"
#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "ndyn/marble.h"
#include "ndyn/sim.h"

static void ranks(const double *x, size_t n, double *r)
{
    for (size_t i = 0; i < n; i++) {
        double less = 0, eq = 0;
        for (size_t j = 0; j < n; j++) {
            if (x[j] < x[i]) less++;
            else if (x[j] == x[i]) eq++;
        }
        r[i] = less + (eq - 1) / 2.0;
    }
}

static double spearman(const double *a, const double *b, size_t n)
{
    double *ra = malloc(n * sizeof(double)), *rb = malloc(n * sizeof(double));
    ranks(a, n, ra);
    ranks(b, n, rb);
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) { ma += ra[i]; mb += rb[i]; }
    ma /= (double)n; mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    free(ra); free(rb);
    return sab / sqrt(saa * sbb);
}

TEST(vdp_distances_follow_mu)
{
    ndyn_sim_vdp_params sp;
    ndyn_sim_vdp_defaults(&sp);
    ndyn_set_num_threads(1);
    sp.conditions = getenv("VDP_C") ? (size_t)atoi(getenv("VDP_C")) : 16;
    sp.trials = getenv("VDP_TRIALS") ? (size_t)atoi(getenv("VDP_TRIALS")) : 100;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_vdp(&sp, &ds));
    if (!ds) return;
    const ndyn_array *pos, *vel, *cond, *mu;
    CHECK_OK(ndyn_dataset_get(ds, "pos", &pos));
    CHECK_OK(ndyn_dataset_get(ds, "vel", &vel));
    CHECK_OK(ndyn_dataset_get(ds, "condition", &cond));
    CHECK_OK(ndyn_dataset_get(ds, "mu", &mu));
    size_t n = pos->shape[0], D = pos->shape[1];
    ndyn_geom_params gp;
    ndyn_geom_params_default(&gp);
    gp.spacing = 0.03;
    if (getenv("VDP_SPACING")) gp.spacing = atof(getenv("VDP_SPACING"));
    ndyn_geom_data *g = NULL;
    double t0 = ndyn_time_now();
    CHECK_OK(ndyn_geom_prepare_arrays(pos->data, vel->data, n, D, D, cond->data, NULL, NULL, &gp, &g));
    if (!g) { ndyn_dataset_free(ds); return; }
    double t1 = ndyn_time_now();
    ndyn_marble_ops *ops = NULL;
    CHECK_OK(ndyn_marble_ops_from_geom(g, &ops));
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    p.epochs = getenv("VDP_EPOCHS") ? atoi(getenv("VDP_EPOCHS")) : 20;
    p.out_channels = 5;
    if (getenv("VDP_SEED")) p.seed = (uint64_t)atoi(getenv("VDP_SEED"));
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, g->s, (size_t)g->d, g->D, &m));
    ndyn_marble_history h;
    CHECK_OK(ndyn_marble_fit(m, &ops->data, &h));
    double t2 = ndyn_time_now();
    size_t E = (size_t)p.out_channels, C = (size_t)g->C;
    double *emb = malloc(g->n * E * sizeof(double));
    CHECK_OK(ndyn_marble_transform(m, &ops->data, emb));
    double *dist = malloc(C * C * sizeof(double)), *mds = malloc(C * 2 * sizeof(double));
    int *ci = malloc(g->n * sizeof(int));
    for (size_t i = 0; i < g->n; i++) ci[i] = g->condition[i];
    CHECK_OK(ndyn_ot_condition_distances(emb, ci, g->n, E, (int)C, NULL, dist));
    CHECK_OK(ndyn_mds_classical(dist, C, 2, mds, NULL, NULL));
    double t3 = ndyn_time_now();
    const double *muv = mu->data;
    size_t np = C * (C - 1) / 2, k = 0;
    double *dv = calloc(np + 1, sizeof(double)), *dm = calloc(np + 1, sizeof(double));
    for (size_t i = 0; i < C; i++)
        for (size_t j = i + 1; j < C; j++) {
            dv[k] = dist[i * C + j];
            dm[k++] = fabs(muv[i] - muv[j]);
        }
    double rho = spearman(dv, dm, np);
    double *x0 = malloc(C * sizeof(double));
    for (size_t i = 0; i < C; i++) x0[i] = mds[i * 2];
    double rho_mds = spearman(x0, muv, C);
    fprintf(stderr, "vdp: n %zu, prepare %.1fs, fit %.1fs (%d epochs, final train %.4f val %.4f, "
            "t %.3g), OT+MDS %.1fs\n", g->n, t1 - t0, t2 - t1, p.epochs, h.train_loss[h.n - 1],
            h.val_loss[h.n - 1], ndyn_marble_model_diffusion_time(m), t3 - t2);
    fprintf(stderr, "vdp: Spearman(dist, |dmu|) = %.3f, Spearman(MDS1, mu) = %.3f\n", rho, rho_mds);
    CHECKF(rho >= 0.9, "Spearman %.3f", rho);
    CHECKF(fabs(rho_mds) >= 0.9, "MDS Spearman %.3f", rho_mds);
    for (size_t i = 0; i < C; i++) CHECK(dist[i * C + i] == 0);
    free(x0); free(dv); free(dm); free(ci); free(dist); free(mds); free(emb);
    ndyn_marble_history_free(&h);
    ndyn_marble_model_free(m);
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(g);
    ndyn_dataset_free(ds);
}

RUN_TESTS(T(vdp_distances_follow_mu))
