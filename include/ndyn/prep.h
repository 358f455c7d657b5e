/* ndyn prep: from recordings to the inputs of the methods.
 *
 *   trials ............. ndyn_trials*          (variable-length trials, or one
 *                                              recording cut at boundaries)
 *   binning ............ ndyn_prep_bin*        (spike times or 1-ms trains -> counts)
 *   smoothing .......... ndyn_prep_smooth*     (Gaussian, causal exponential, boxcar)
 *                        ndyn_prep_savgol      (Savitzky-Golay, scipy's mode "interp")
 *   transforms ......... ndyn_prep_sqrt, _scale, _zscore, _pca, _subsample
 *   windows ............ ndyn_prep_window      (time windows, alignment to an event)
 *   flows .............. ndyn_prep_flow        (pos = x[:-1], vel = diff(x) per trial)
 *   splits ............. ndyn_prep_split_*     (folds by trial or time block, seeded)
 *
 * Conventions
 *  - A trial set holds N trials of T_i time steps of D channels each, all
 *    rows concatenated in one row-major (sum T_i, D) block: trial i is rows
 *    off[i] .. off[i+1]-1. Nothing ever mixes rows of different trials
 *    (smoothing, differences and windows stop at trial boundaries).
 *  - dt is the duration of one time step in seconds (0 when unknown; the
 *    functions taking seconds then fail and say so).
 *  - Functions that keep the shape work in place; the others return a new
 *    trial set. Every function validates its input and returns a status.
 *  - Folds follow analysis.h: fold[i] in [0, nfolds) is tested in that fold,
 *    NDYN_FOLD_TRAIN is always training, NDYN_FOLD_SKIP is unused.
 */
#ifndef NDYN_PREP_H
#define NDYN_PREP_H

#include <stdint.h>

#include "ndyn/analysis.h"
#include "ndyn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ trials */

typedef struct ndyn_trials {
    size_t n;        /* number of trials */
    size_t d;        /* channels per time step */
    size_t *off;     /* (n + 1) row offsets; off[0] == 0, off[n] == total rows */
    double *data;    /* (off[n], d) */
    double dt;       /* seconds per time step, 0 if unknown */
} ndyn_trials;

/* Zero-filled trials of lengths len[0..n) (each >= 1) with d channels. */
int ndyn_trials_new(size_t n, const size_t *len, size_t d, double dt, ndyn_trials **out);
/* Copy of x (n, t, d): n trials of equal length t. */
int ndyn_trials_from_array(const double *x, size_t n, size_t t, size_t d, double dt, ndyn_trials **out);
/* One recording x (t, d) cut into trials at the row indices start[0..n)
 * (strictly increasing, start[0] may be > 0: earlier rows are dropped);
 * trial i is rows start[i] .. start[i+1]-1, the last one runs to row t-1.
 * start == NULL (n ignored): the whole recording is one trial. */
int ndyn_trials_from_recording(const double *x, size_t t, size_t d, const size_t *start, size_t n, double dt,
                               ndyn_trials **out);
int ndyn_trials_copy(const ndyn_trials *in, ndyn_trials **out);
void ndyn_trials_free(ndyn_trials *t);
/* Length of trial i. */
static inline size_t ndyn_trials_len(const ndyn_trials *t, size_t i) { return t->off[i + 1] - t->off[i]; }
/* Total number of rows (time steps of all trials). */
static inline size_t ndyn_trials_rows(const ndyn_trials *t) { return t->off[t->n]; }
/* The common length of all trials, or 0 when the lengths differ. */
size_t ndyn_trials_common_length(const ndyn_trials *t);
/* Checks the structure and that every value is finite. */
int ndyn_trials_check(const ndyn_trials *t, const char *what);

/* ----------------------------------------------------------------- binning */

/* Sum each run of `w` consecutive time steps of every trial (e.g. 1-ms spike
 * trains into counts per w ms); a trailing partial bin is dropped; dt is
 * multiplied by w. Fails when a trial is shorter than one bin. */
int ndyn_prep_bin(const ndyn_trials *in, size_t w, ndyn_trials **out);
/* The same with the bin width in seconds, which must be a whole multiple of
 * in->dt (within 1e-6 relative). */
int ndyn_prep_bin_seconds(const ndyn_trials *in, double bin, ndyn_trials **out);
/* Count spike times into bins: spike s of unit unit[s] (in [0, n_units)) at
 * time times[s] (seconds) falls in bin floor((times[s] - t0) / bin) when
 * t0 <= times[s] < t0 + nbins bin, where nbins = floor((t1 - t0) / bin)
 * (+1e-9 slack); others are ignored. *counts is malloc'ed (nbins, n_units). */
int ndyn_prep_bin_spike_times(const double *times, const int *unit, size_t n_spikes, int n_units, double t0,
                              double t1, double bin, double **counts, size_t *nbins);

/* --------------------------------------------------------------- smoothing */

typedef enum {
    NDYN_SMOOTH_GAUSSIAN = 0,  /* width = standard deviation; kernel truncated at 4 sd
                                  (radius floor(4 sd + 0.5) steps, as scipy's
                                  gaussian_filter1d) and normalised to sum 1 */
    NDYN_SMOOTH_EXP = 1,       /* causal: y[t] = a y[t-1] + (1 - a) x[t], a = exp(-1/width);
                                  width = time constant */
    NDYN_SMOOTH_BOXCAR = 2     /* mean over round(width) steps, window as scipy's
                                  uniform_filter1d: t - w/2 .. t - w/2 + w - 1 */
} ndyn_smooth_kind;

typedef enum {
    NDYN_EDGE_REFLECT = 0,     /* d c b a | a b c d | d c b a (scipy "reflect");
                                  exponential: the signal before t = 0 is x[0] */
    NDYN_EDGE_ZERO = 1         /* zeros outside the trial (scipy "constant") */
} ndyn_edge;

/* Smooth every channel of every trial in place, width in time steps (> 0).
 * The smoothed values keep the units of the input (counts per step); use
 * ndyn_prep_scale(t, 1 / dt) for rates in Hz. */
int ndyn_prep_smooth_steps(ndyn_trials *t, ndyn_smooth_kind kind, double width, ndyn_edge edge);
/* The same with the width in seconds (needs t->dt > 0). */
int ndyn_prep_smooth(ndyn_trials *t, ndyn_smooth_kind kind, double width_sec, ndyn_edge edge);
/* Savitzky-Golay filter along time (polynomial of `order` fitted by least
 * squares in a centred window of `window` steps, odd, order < window), with
 * scipy.signal.savgol_filter's default mode "interp": the first and last
 * window/2 steps take the values of the polynomial fitted to the first and
 * last window. Every trial needs at least `window` steps. */
int ndyn_prep_savgol(ndyn_trials *t, size_t window, size_t order);

/* -------------------------------------------------------------- transforms */

/* x <- sqrt(x); fails on negative values. */
int ndyn_prep_sqrt(ndyn_trials *t);
/* x <- 1 where x > 0, else 0: whether a bin holds any spike. MARBLE's rat
 * example smooths spike times taken as np.where(counts) and so counts a bin
 * with several spikes once; binarize first to reproduce it. */
int ndyn_prep_binarize(ndyn_trials *t);
/* x <- factor x. */
int ndyn_prep_scale(ndyn_trials *t, double factor);
/* Per channel, subtract the mean and divide by the standard deviation
 * (ddof 0) computed over the rows with fit_rows[r] != 0 (NULL: all rows);
 * a constant channel is only centred. mean, sd (d) may be NULL. */
int ndyn_prep_zscore(ndyn_trials *t, const unsigned char *fit_rows, double *mean, double *sd);
/* Fit PCA with k components on the rows with fit_rows[r] != 0 (NULL: all)
 * and replace every row by its k scores (t->d becomes k). *pca (may be
 * NULL) receives the model; free it with ndyn_pca_free. */
int ndyn_prep_pca(ndyn_trials *t, const unsigned char *fit_rows, size_t k, ndyn_pca **pca);
/* Keep every `step`-th time step of each trial starting at `first`
 * (e.g. rates smoothed at 1 ms sampled every 20 ms); dt is multiplied by
 * step. Fails when a trial has no step left. */
int ndyn_prep_subsample(const ndyn_trials *in, size_t step, size_t first, ndyn_trials **out);

/* ----------------------------------------------------------------- windows */

/* Cut the window [from, to) seconds around an event from each trial: trial i
 * keeps the rows round((event[i] + from) / dt) .. + round((to - from) / dt)
 * - 1, event[i] in seconds from the trial's start (event == NULL: 0, a plain
 * time window). Fails, naming the trial, when a window leaves its trial. */
int ndyn_prep_window(const ndyn_trials *in, const double *event, double from, double to, ndyn_trials **out);
/* The same in time steps: rows start[i] + from .. start[i] + to - 1. */
int ndyn_prep_window_steps(const ndyn_trials *in, const long *start, long from, long to, ndyn_trials **out);

/* ------------------------------------------------------------------- flows */

/* Positions and velocities of trajectories, per trial, never across trial
 * boundaries: pos = x[:-1], vel = x[1:] - x[:-1] (differences per step, not
 * divided by dt: MARBLE's convention). Both outputs have T_i - 1 rows per
 * trial. Fails on a trial with a single step. */
int ndyn_prep_flow(const ndyn_trials *x, ndyn_trials **pos, ndyn_trials **vel);

/* Integrate velocities back to positions within each trial from given start
 * positions: pos[0] = start[i], pos[t + 1] = pos[t] + scale vel[t] (the
 * inverse of ndyn_prep_flow with scale 1; scale = dt for velocities in
 * units per second). start is (vel->n, vel->d); out has vel's shape. Used to
 * score decoded velocities as positions from the true start (MARBLE's
 * macaque "optimal linear estimator"). */
int ndyn_prep_integrate(const ndyn_trials *vel, const double *start, double scale, ndyn_trials **pos);

/* ------------------------------------------------------------------ splits */

/* Assign n_trials trials to nfolds folds at random (seed): the trials are
 * shuffled and dealt in turn, so fold sizes differ by at most one; with
 * strata (n_trials labels, e.g. conditions; may be NULL) each stratum is
 * dealt separately, continuing the turn, so every fold holds every condition
 * as evenly as possible. trial_fold (n_trials). */
int ndyn_prep_split_trials(size_t n_trials, int nfolds, uint64_t seed, const int *strata, int *trial_fold);
/* nfolds contiguous time blocks of n rows: row i is in the fold f with
 * floor(f n / nfolds) <= i < floor((f + 1) n / nfolds). */
int ndyn_prep_split_blocks(size_t n, int nfolds, int *fold);
/* First floor(train_frac n) rows NDYN_FOLD_TRAIN, the rest fold 0 (one
 * fold): the "first 80 % / last 20 %" split. */
int ndyn_prep_split_time(size_t n, double train_frac, int *fold);
/* Expand a fold per trial into a fold per row of t (row_fold has
 * ndyn_trials_rows(t) entries). */
int ndyn_prep_trial_folds_to_rows(const ndyn_trials *t, const int *trial_fold, int *row_fold);

#ifdef __cplusplus
}
#endif
#endif
