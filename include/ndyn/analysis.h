/* ndyn analysis: what one measures on representations of neural activity.
 *
 *   k-means ............ ndyn_kmeans*          (k-means++ init, seeded restarts)
 *   matching ........... ndyn_hungarian, ndyn_match_labels
 *   metrics ............ ndyn_metric_*         (R², errors, accuracy, confusion)
 *   PCA ................ ndyn_pca_*
 *   linear regression .. ndyn_linreg_*         (OLS / ridge with an unpenalised bias)
 *   nearest neighbours . ndyn_knn_*            (regression and classification)
 *   decoders ........... ndyn_decode_*         (cross-validated decoding)
 *   consistency ........ ndyn_consistency_*    (R² of the best linear map between
 *                                              two aligned representations)
 *
 * The module is a toolbox of small, separate tools, so each tool carries its
 * own prefix (ndyn_kmeans_, ndyn_pca_, ...) in the GSL manner rather than one
 * shared ndyn_analysis_ prefix.
 *
 * Conventions
 *  - Data matrices are row-major (n, d): one sample per row. Shapes are given
 *    in comments: `x is (n, d)`.
 *  - Discrete labels are `int` in [0, n_classes).
 *  - Cross-validation folds are described by one int per sample, `fold[i]`:
 *      fold[i] in [0, nfolds)   sample i is tested in fold fold[i] and used for
 *                               training in every other fold;
 *      fold[i] == NDYN_FOLD_TRAIN  always training, never tested (e.g. the
 *                               first 80 % of a recording in a time split);
 *      fold[i] == NDYN_FOLD_SKIP   not used at all.
 *    The generators live in prep.h (ndyn_prep_split_*).
 *  - Every function validates its input (sizes, NaN/Inf, label ranges) and
 *    returns an ndyn_status with a message; nothing is printed.
 */
#ifndef NDYN_ANALYSIS_H
#define NDYN_ANALYSIS_H

#include <stdint.h>

#include "ndyn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NDYN_FOLD_TRAIN (-1)
#define NDYN_FOLD_SKIP (-2)

/* ------------------------------------------------------------------ k-means */

typedef struct ndyn_kmeans_params {
    size_t k;          /* number of clusters (required, >= 1) */
    size_t n_init;     /* independent restarts, best inertia kept (default 10) */
    size_t max_iter;   /* Lloyd iterations per restart (default 300) */
    double tol;        /* stop when the squared centre shift summed over centres
                          is <= tol * (mean per-feature variance) (default 1e-4,
                          as scikit-learn) */
    uint64_t seed;     /* restart r draws from stream r of this seed (default 0) */
} ndyn_kmeans_params;

void ndyn_kmeans_params_default(ndyn_kmeans_params *p, size_t k);

/* Cluster x (n, d) into p->k clusters: k-means++ initialisation (greedy, with
 * 2 + floor(ln k) candidates per centre, as scikit-learn), then Lloyd
 * iterations; an emptied cluster is moved to the point farthest from its
 * centre. The same seed gives the same result whatever the thread count.
 * Outputs (any may be NULL): centers (k, d), labels (n), inertia = sum of
 * squared distances of points to their centres. Fails if n < k. */
int ndyn_kmeans(const double *x, size_t n, size_t d, const ndyn_kmeans_params *p,
                double *centers, int *labels, double *inertia);

/* Label of the nearest centre for each row of x (n, d); centers is (k, d).
 * Ties go to the lower centre index. */
int ndyn_kmeans_predict(const double *centers, size_t k, size_t d, const double *x, size_t n,
                        int *labels);

/* -------------------------------------------------------- optimal transport */

/* Discrete optimal transport between a (na) and b (nb), nonnegative weights
 * on the rows and columns of cost (na, nb) (finite, any sign). Weights:
 * NULL means uniform (1/na, 1/nb); otherwise each must have a positive sum,
 * and the two sums must agree to 1e-6 relative (b is then rescaled to the
 * sum of a, as POT's emd does). Plans are (na, nb) with row sums a and
 * column sums b. */

/* Exact earth mover's distance: the minimum of <P, cost> over plans P,
 * solved by the network simplex (written here: no well-kept C solver is
 * packaged in Debian). total (may be NULL) = <P, cost>; plan (na, nb) may
 * be NULL. The optimal plan is a vertex: at most na + nb - 1 nonzeros. */
int ndyn_ot_emd(const double *a, size_t na, const double *b, size_t nb, const double *cost,
                double *plan, double *total);

typedef struct ndyn_sinkhorn_params {
    double eps;        /* entropic regularisation, in the units of cost (required, > 0) */
    size_t max_iter;   /* iterations (one row and one column update each; default 10000) */
    double tol;        /* stop when the L1 error of the row marginal is <= tol * sum(a)
                          (the columns are exact after each iteration; default 1e-9) */
} ndyn_sinkhorn_params;

void ndyn_sinkhorn_params_default(ndyn_sinkhorn_params *p, double eps);

typedef struct ndyn_sinkhorn_info {
    size_t iters;           /* iterations run */
    double marginal_error;  /* final L1 error of the row marginal, relative to sum(a) */
    int converged;          /* marginal_error <= tol */
} ndyn_sinkhorn_info;

/* Entropic OT: the plan minimising <P, cost> - eps H(P), by Sinkhorn
 * iterations on the dual potentials in the log domain (stable for any eps).
 * total (may be NULL) = <P, cost> of that plan (POT's sinkhorn2), which
 * tends to the exact EMD as eps -> 0. plan (na, nb) and info may be NULL.
 * Not converging within max_iter is reported in info (and by a warning),
 * not as an error. */
int ndyn_ot_sinkhorn(const double *a, size_t na, const double *b, size_t nb, const double *cost,
                     const ndyn_sinkhorn_params *p, double *plan, double *total,
                     ndyn_sinkhorn_info *info);

typedef struct ndyn_ot_params {
    int sinkhorn;          /* 0: exact EMD (default); 1: entropic Sinkhorn with .sk */
    ndyn_sinkhorn_params sk; /* used when sinkhorn != 0 */
} ndyn_ot_params;

void ndyn_ot_params_default(ndyn_ot_params *p);

/* Distances between the empirical distributions of the conditions: emb
 * (n, d) latent points, condition (n) in [0, n_cond), every condition
 * non-empty. For each pair (i, j), uniform weights on the points of each
 * condition and the Euclidean cost between them (an n_i x n_j matrix, never
 * the n x n one); dist (n_cond, n_cond) is symmetric with a zero diagonal.
 * One condition gives [[0]]. p may be NULL (exact). Exact OT costs about
 * O(m^3) per pair for m points: use the cluster variant beyond a few
 * thousand points per condition. */
int ndyn_ot_condition_distances(const double *emb, const int *condition, size_t n, size_t d,
                                int n_cond, const ndyn_ot_params *p, double *dist);

/* The k-means histogram variant (MARBLE's n_clusters): k-means (km) on all
 * of emb (n, d); each condition becomes its histogram over the k clusters
 * (fraction of its points in each); cost = Euclidean distance between
 * centroids; dist (n_cond, n_cond) by OT between histograms (p may be NULL:
 * exact), symmetric with zero diagonal. Optional outputs (NULL to skip):
 * gamma (n_cond, n_cond, k, k), the plan from condition i to condition j
 * (gamma[i][i] is the diagonal plan of histogram i); centers (k, d);
 * labels (n) the cluster of each point; hist (n_cond, k). */
int ndyn_ot_cluster_distances(const double *emb, const int *condition, size_t n, size_t d,
                              int n_cond, const ndyn_kmeans_params *km, const ndyn_ot_params *p,
                              double *dist, double *gamma, double *centers, int *labels,
                              double *hist);

/* ---------------------------------------------------------------------- MDS */

/* Classical (Torgerson) multidimensional scaling of a distance matrix dist
 * (n, n) (symmetric, zero diagonal, finite, >= 0): B = -1/2 J D.^2 J with
 * J = I - 11^T/n, eigendecomposed (LAPACK dsyevr); coords (n, k) =
 * V_k sqrt(max(lambda_k, 0)), by decreasing eigenvalue, the entry of largest
 * magnitude of each column made positive. For Euclidean distances of points
 * x this equals the PCA scores of x up to sign. k <= n. Optional (NULL to
 * skip): eigenvalues (n) of B in decreasing order (negative ones show how
 * far dist is from Euclidean); stress = Kruskal's stress-1
 * sqrt(sum (d_ij - |c_i - c_j|)^2 / sum d_ij^2) of the k-D configuration. */
int ndyn_mds_classical(const double *dist, size_t n, size_t k, double *coords,
                       double *eigenvalues, double *stress);

/* ------------------------------------------------------------- Gaussian HMM */

/* Hidden Markov model with Gaussian emissions, fitted by EM (Baum-Welch)
 * over a list of trials of possibly different lengths: trial r is y[r]
 * (len[r], d), row-major. Used to initialise SRNN (method `hmm`).
 * Transitions are row-stochastic: trans[i * k + j] = p(z_{t+1} = j | z_t = i). */

typedef enum {
    NDYN_HMM_COV_FULL = 0,   /* one full covariance per state */
    NDYN_HMM_COV_DIAG = 1    /* one diagonal covariance per state */
} ndyn_hmm_cov;

typedef struct ndyn_hmm {
    size_t k, d;
    ndyn_hmm_cov cov;
    double *pi;      /* (k): initial state distribution */
    double *trans;   /* (k, k): row-stochastic transition matrix */
    double *means;   /* (k, d) */
    double *covs;    /* full: (k, d, d); diag: (k, d), the variances */
} ndyn_hmm;

/* A model with uniform pi and trans, zero means and identity covariances,
 * for the caller to fill in. */
ndyn_hmm *ndyn_hmm_alloc(size_t k, size_t d, ndyn_hmm_cov cov);
void ndyn_hmm_free(ndyn_hmm *m);
/* Checks that pi and the rows of trans are distributions and that every
 * covariance is symmetric positive definite. */
int ndyn_hmm_check(const ndyn_hmm *m);

typedef struct ndyn_hmm_params {
    size_t k;            /* states (required, >= 1) */
    ndyn_hmm_cov cov;    /* default NDYN_HMM_COV_FULL */
    size_t max_iter;     /* EM iterations (default 20, as the SRNN reference) */
    double tol;          /* stop when an iteration gains less than tol * (number of
                            time points) in log-likelihood (default 1e-6; 0: never) */
    double ridge;        /* rho = ridge * (mean per-feature variance of the data);
                            each covariance is (S_k + rho I) / N_k with S_k the
                            posterior-weighted scatter and N_k the state's weight:
                            the MAP estimate under the prior exp(-rho tr(Sigma^-1) / 2),
                            which keeps a state of few points from collapsing
                            (default 1e-4; 0: maximum likelihood) */
    size_t kmeans_n_init;/* restarts of the k-means initialisation (default 10) */
    uint64_t seed;       /* k-means seed (default 0) */
} ndyn_hmm_params;

void ndyn_hmm_params_default(ndyn_hmm_params *p, size_t k);

/* Fit: k-means (ndyn_kmeans) on all time points stacked gives hard labels;
 * means and covariances are those of the clusters, pi and trans the label
 * frequencies and transition counts (plus one pseudo-count each); then EM.
 * Each trial needs len >= 1 (>= 2 somewhere for trans to be learnt) and the
 * total number of points must be >= k. loglik (p->max_iter + 1) may be NULL:
 * loglik[i] is the total log-likelihood after i EM iterations (loglik[0]
 * under the initial parameters). EM never decreases the penalised
 * log-likelihood loglik - rho/2 sum_k tr(Sigma_k^-1) (with ridge 0: loglik
 * itself), so with a small ridge loglik too is non-decreasing in practice.
 * n_iter (may be NULL): the iterations run, so loglik[0 .. n_iter] are set.
 * *out is a new model (free with ndyn_hmm_free). */
int ndyn_hmm_fit(const double *const *y, const size_t *len, size_t n_trials, size_t d,
                 const ndyn_hmm_params *p, ndyn_hmm **out, double *loglik, size_t *n_iter);

/* log N(y_t | mean_k, cov_k) for one trial y (T, d): logb (T, k). */
int ndyn_hmm_log_emission(const ndyn_hmm *m, const double *y, size_t T, double *logb);

/* Forward-backward on one trial y (T, d), in the log domain (stable for any
 * scale of the emission densities; zero transition probabilities allowed).
 * Outputs (NULL to skip): gamma (T, k) posterior state
 * probabilities; xi (T - 1, k, k), xi[t][i][j] = p(z_t = i, z_{t+1} = j | y);
 * loglik = log p(y). */
int ndyn_hmm_posterior(const ndyn_hmm *m, const double *y, size_t T, double *gamma, double *xi,
                       double *loglik);

/* Total log-likelihood over trials; per_trial (n_trials) may be NULL. */
int ndyn_hmm_loglik(const ndyn_hmm *m, const double *const *y, const size_t *len,
                    size_t n_trials, double *per_trial, double *total);

/* Most probable state path of one trial y (T, d): path (T); logp (may be
 * NULL) = max_z log p(y, z). Ties go to the lower state index. */
int ndyn_hmm_viterbi(const ndyn_hmm *m, const double *y, size_t T, int *path, double *logp);

/* The SRNN reference's reorder_state: relabel one path (T) in place so that
 * states are numbered in order of first appearance (the first state seen
 * becomes 0, the next new one 1, ...); states that never appear keep the
 * remaining labels in increasing order of their old index. map (k) may be
 * NULL: map[old] = new. States must lie in [0, k). */
int ndyn_hmm_reorder_states(int *path, size_t T, int k, int *map);

/* ----------------------------------------------------------------- matching */

/* Optimal assignment on a rectangular cost matrix cost (nr, nc): pairs
 * min(nr, nc) rows with distinct columns so that the summed cost is minimal
 * (maximal with maximize != 0). row_to_col (nr): the column of each row, -1
 * for rows left unassigned (only when nr > nc). total (may be NULL): the
 * summed cost of the assignment. Costs must be finite. O(min^2 max). */
int ndyn_hungarian(const double *cost, size_t nr, size_t nc, int maximize, int *row_to_col,
                   double *total);

typedef enum {
    NDYN_MATCH_ACCURACY = 0,  /* maximise the number of points whose mapped state equals the label */
    NDYN_MATCH_BALANCED = 1   /* maximise balanced accuracy (mean recall over labels present) */
} ndyn_match_objective;

/* One-to-one matching of discrete states (e.g. k-means clusters or SRNN
 * states, in [0, n_states)) to labels (in [0, n_labels)) that maximises the
 * chosen score of the relabelled states. map (n_states): the label given to
 * each state, -1 for states left unmatched when n_states > n_labels (their
 * points count as errors). score (may be NULL): accuracy or balanced accuracy
 * after mapping. For a score pooled over several trials, build the matrix
 * yourself and call ndyn_hungarian with maximize = 1. */
int ndyn_match_labels(const int *states, const int *labels, size_t n, int n_states, int n_labels,
                      ndyn_match_objective objective, int *map, double *score);

/* ------------------------------------------------------------------ metrics */

/* Coefficient of determination with scikit-learn's r2_score semantics:
 * per output j, 1 - SS_res/SS_tot; an output with SS_tot == 0 scores 1 if
 * predicted exactly, else 0. y, yhat are (n, d), n >= 2. per_output (d) and
 * mean (the uniform average over outputs) may be NULL. */
int ndyn_metric_r2(const double *y, const double *yhat, size_t n, size_t d, double *per_output,
                   double *mean);
/* Mean and median of |y - yhat| per output; y, yhat (n, d); outputs (d) or NULL. */
int ndyn_metric_abs_error(const double *y, const double *yhat, size_t n, size_t d,
                          double *mean_per_output, double *median_per_output);
/* counts (n_true, n_pred): counts[t * n_pred + p] = #{i : truth[i] == t, pred[i] == p}. */
int ndyn_metric_confusion(const int *truth, const int *pred, size_t n, int n_true, int n_pred,
                          size_t *counts);
/* Fraction of pred[i] == truth[i]. */
int ndyn_metric_accuracy(const int *truth, const int *pred, size_t n, double *acc);
/* Balanced accuracy (scikit-learn semantics): the mean over the classes that
 * occur in truth of the recall of each. Labels in [0, n_classes). */
int ndyn_metric_balanced_accuracy(const int *truth, const int *pred, size_t n, int n_classes,
                                  double *ba);

/* ------------------------------------------------------------ rank tests */

typedef enum {
    NDYN_WILCOXON_AUTO = 0,   /* exact when 1 <= n <= 50 with no zero and no tied |d|, else approx */
    NDYN_WILCOXON_APPROX,     /* normal approximation with the tie correction */
    NDYN_WILCOXON_EXACT       /* exact null distribution; fails on zeros or ties */
} ndyn_wilcoxon_method;

typedef struct {
    double statistic;   /* min(r_plus, r_minus): scipy's two-sided statistic */
    double r_plus;      /* rank sum of the positive differences */
    double r_minus;     /* rank sum of the negative differences */
    double z;           /* (statistic - mean) / sd of the normal approximation
                           (NaN when the exact distribution was used) */
    double pvalue;      /* two-sided */
    size_t n_used;      /* differences ranked (zeros dropped) */
    int exact;          /* 1 if the p-value is exact */
} ndyn_wilcoxon_result;

/* Paired Wilcoxon signed-rank test of d = x - y (y NULL: d = x), two-sided,
 * as scipy.stats.wilcoxon(x, y) with zero_method "wilcox" (zero differences
 * are dropped before ranking), correction False. The approximation uses
 * average ranks for ties and subtracts sum(t^3 - t)/48 from the variance per
 * group of t tied |d|. n >= 1 with at least one nonzero difference. */
int ndyn_wilcoxon(const double *x, const double *y, size_t n, ndyn_wilcoxon_method method,
                  ndyn_wilcoxon_result *out);

/* ---------------------------------------------------------------------- PCA */

typedef struct ndyn_pca {
    size_t d;                      /* input dimension */
    size_t k;                      /* components kept */
    size_t n_fit;                  /* samples it was fitted on */
    double *mean;                  /* (d) */
    double *components;            /* (k, d): orthonormal principal axes, by
                                      decreasing variance; the entry of largest
                                      magnitude of each axis is positive */
    double *explained_variance;    /* (k): variance along each axis (ddof 1) */
    double *explained_variance_ratio; /* (k): fraction of the total variance */
    double total_variance;         /* sum of the per-feature variances (ddof 1) */
} ndyn_pca;

/* Fit PCA to x (n, d) (e.g. the training rows only), keeping k components
 * (k == 0: all min(n, d)); n >= 2, k <= min(n, d). */
int ndyn_pca_fit(const double *x, size_t n, size_t d, size_t k, ndyn_pca **out);
/* z (n, k) = (x - mean) components^T for x (n, d). */
int ndyn_pca_transform(const ndyn_pca *p, const double *x, size_t n, double *z);
/* x (n, d) = z components + mean for z (n, k). */
int ndyn_pca_inverse_transform(const ndyn_pca *p, const double *z, size_t n, double *x);
/* Smallest number of leading components whose explained variance ratios sum
 * to at least frac (in (0, 1]); p->k if they never do. */
size_t ndyn_pca_components_for(const ndyn_pca *p, double frac);
/* Keep only the first k components. */
int ndyn_pca_truncate(ndyn_pca *p, size_t k);
void ndyn_pca_free(ndyn_pca *p);

/* -------------------------------------------------------- linear regression */

/* y ≈ x w + b with an unpenalised bias: minimises |y - x w - b|^2 +
 * lambda |w|^2. lambda == 0 is ordinary least squares (the minimum-norm
 * solution when x is rank-deficient). */
typedef struct ndyn_linreg {
    size_t d_in, d_out;
    double lambda;
    double *w;        /* (d_in, d_out) */
    double *b;        /* (d_out) */
} ndyn_linreg;

/* Fit on x (n, d_in), y (n, d_out), n >= 2. */
int ndyn_linreg_fit(const double *x, const double *y, size_t n, size_t d_in, size_t d_out,
                    double lambda, ndyn_linreg **out);
/* yhat (n, d_out) = x w + b. */
int ndyn_linreg_predict(const ndyn_linreg *m, const double *x, size_t n, double *yhat);
void ndyn_linreg_free(ndyn_linreg *m);

/* Choose lambda among lambdas[0..nl) by K-fold cross-validation over
 * contiguous blocks of rows (time blocks: no shuffling, so autocorrelated
 * neighbours rarely straddle train and test), scoring the mean R² over
 * outputs pooled over the held-out blocks; ties go to the larger lambda.
 * best: chosen lambda; scores (nl) or NULL: the pooled R² of each. Then fit
 * on all rows with the chosen penalty (out may be NULL to skip the fit).
 * lambdas == NULL: the default grid, s * 10^e for e = -4, -3.5, ..., 3
 * (15 values, plus lambda = 0), where s = trace(x_c^T x_c) / d_in is the mean
 * eigenvalue of the centred Gram matrix, so the grid follows the scale of x;
 * nl is then ignored and scores must hold NDYN_LINREG_GRID_SIZE values. */
#define NDYN_LINREG_GRID_SIZE 16
int ndyn_linreg_fit_cv(const double *x, const double *y, size_t n, size_t d_in, size_t d_out,
                       const double *lambdas, size_t nl, size_t folds, double *best,
                       double *scores, ndyn_linreg **out);

/* --------------------------------------------------------- nearest neighbours */

typedef enum {
    NDYN_DIST_EUCLIDEAN = 0,
    NDYN_DIST_COSINE = 1      /* 1 - cos(angle); an all-zero row is at distance 1 from every row */
} ndyn_distance;

/* Indices (nq, k) of the k nearest rows of ref (nr, d) to each row of q (nq, d),
 * nearest first; distances (nq, k) may be NULL. Ties go to the lower index.
 * Brute force through BLAS in blocks: O(nq nr d) time, O(block nr) memory. */
int ndyn_knn_search(const double *ref, size_t nr, const double *q, size_t nq, size_t d, size_t k,
                    ndyn_distance dist, size_t *idx, double *distances);

/* kNN regression with uniform weights: yhat (nq, dy) is the mean of the
 * targets ytr (nr, dy) of the k nearest training rows xtr (nr, d). */
int ndyn_knn_regress(const double *xtr, const double *ytr, size_t nr, size_t d, size_t dy,
                     const double *xq, size_t nq, size_t k, ndyn_distance dist, double *yhat);
/* kNN classification by majority vote of the k nearest; a tied vote goes to
 * the smallest label. Labels in [0, n_classes). */
int ndyn_knn_classify(const double *xtr, const int *ltr, size_t nr, size_t d, int n_classes,
                      const double *xq, size_t nq, size_t k, ndyn_distance dist, int *pred);

/* ------------------------------------------------------------------ decoders */

typedef enum {
    NDYN_DECODER_LINEAR = 0,  /* least squares with bias, penalty chosen by inner CV
                                 (lambda < 0) or fixed (lambda >= 0; 0 = OLS) */
    NDYN_DECODER_RIDGE = 1,   /* same as LINEAR; kept as a separate name for the CLI */
    NDYN_DECODER_KNN = 2
} ndyn_decoder_kind;

typedef struct ndyn_decoder_params {
    ndyn_decoder_kind kind;
    int classify;        /* targets are class labels in [0, n_classes); linear
                            classifiers regress one-hot codes and take the argmax */
    int n_classes;       /* with classify: number of classes (0: 1 + max label) */
    double lambda;       /* linear: fixed penalty >= 0, or < 0 for inner CV (default -1) */
    size_t inner_folds;  /* linear, lambda < 0: inner time-block folds (default 5) */
    size_t k;            /* knn: neighbours (default 36) */
    ndyn_distance dist;  /* knn: distance (default cosine, as the MARBLE rat decoder) */
} ndyn_decoder_params;

void ndyn_decoder_params_default(ndyn_decoder_params *p, ndyn_decoder_kind kind);

/* Cross-validated decoding of y (n, dy) from x (n, d) over the folds
 * (convention at the top of this file). For each fold f in [0, nfolds) the
 * decoder is trained on every row whose fold is not f (and not SKIP) and
 * predicts the rows of fold f. pred (n, dy) receives the held-out
 * predictions; rows that are never tested are set to NaN. With classify, y
 * holds the labels as numbers (dy == 1) and pred the predicted labels.
 * lambda_used (nfolds) may be NULL: the penalty of each fold's linear decoder. */
int ndyn_decode_cv(const double *x, size_t n, size_t d, const double *y, size_t dy,
                   const int *fold, int nfolds, const ndyn_decoder_params *p, double *pred,
                   double *lambda_used);

/* -------------------------------------------------------------- consistency */

/* R² (uniform average over the columns of b) of the least-squares linear map
 * with bias from a (n, da) to b (n, db), fitted and scored on the same rows:
 * the between-dataset consistency score of CEBRA, used by MARBLE. The rows of
 * a and b must already be aligned (see ndyn_consistency_align). */
int ndyn_consistency_r2(const double *a, const double *b, size_t n, size_t da, size_t db,
                        double *r2);

/* Align a representation x (n, d) on a 1-D behavioural label (e.g. position):
 * edges = linspace(lo, hi, n_bins); each sample's bin index is the number of
 * edges <= label (numpy.digitize); for bin b = 1 .. n_bins-1 the output row
 * b-1 of out (n_bins - 1, d) is the mean of the samples with index b, or if
 * none, with index within 1, then 2, of b (error if still none); each output
 * row is then scaled to unit norm when normalize. Use the same lo, hi (the
 * label range over all animals) for every representation to be compared.
 * This is the alignment of CEBRA's consistency_score(between="datasets"). */
int ndyn_consistency_align(const double *x, const double *label, size_t n, size_t d,
                           size_t n_bins, double lo, double hi, int normalize, double *out);

#ifdef __cplusplus
}
#endif
#endif
