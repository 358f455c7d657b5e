/* ndyn sim: simulated systems with known ground truth, seeded.
 *
 *   Lorenz attractor ......... ndyn_sim_lorenz     trajectories + lobe labels
 *   van der Pol sweep ........ ndyn_sim_vdp        one condition per mu (MARBLE toy example)
 *   planar vector fields ..... ndyn_sim_fields     linear / vortex fields (MARBLE Ext. Data Fig. 1)
 *   switching RNN ............ ndyn_sim_switching  K tanh-RNN regimes, sticky Markov switching,
 *                                                  linear emission with Gaussian or Poisson noise
 *
 * Each generator takes a parameter struct (fill it with the matching
 * ndyn_sim_*_defaults first, then change what you need), validates it (the
 * ndyn_sim_*_check functions return a message naming the bad field before any
 * work) and returns a dataset whose arrays are named as docs/FORMATS.md says,
 * so ndyn_dataset_save() writes exactly what `ndyn simulate` writes.
 *
 * Randomness: trial (trajectory) i draws from ndyn_rng stream (seed, i + 1);
 * stream 0 draws the shared quantities (e.g. emission weights). The same seed
 * gives the same data whatever the number of threads. Conventions: float64,
 * row-major; labels and states int32.
 */
#ifndef NDYN_SIM_H
#define NDYN_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "ndyn/core.h"
#include "ndyn/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ Lorenz */

/* dx/dt = sigma (y - x), dy/dt = x (rho - z) - y, dz/dt = x y - beta z,
 * integrated by classical RK4 with `substeps` steps per sample interval dt.
 * Initial states are drawn uniformly in a box around the attractor and run
 * for `burn_in` samples (discarded) so every trial starts on the attractor. */
typedef struct ndyn_sim_lorenz_params {
    size_t trials;      /* N trajectories (default 8) */
    size_t steps;       /* T samples per trajectory (default 1000) */
    double dt;          /* sample interval (default 0.01) */
    size_t substeps;    /* RK4 steps per dt (default 2) */
    size_t burn_in;     /* samples discarded before recording (default 500) */
    double sigma, rho, beta;  /* defaults 10, 28, 8/3 */
    double noise;       /* std of Gaussian noise added to y, in y's units (default 0) */
    int standardize;    /* 1: y = (x - (0, 0, rho - 1)) / 15 before noise (default 0) */
    uint64_t seed;      /* default 1 */
} ndyn_sim_lorenz_params;

void ndyn_sim_lorenz_defaults(ndyn_sim_lorenz_params *p);
int ndyn_sim_lorenz_check(const ndyn_sim_lorenz_params *p);
/* Dataset: y (N, T, 3) observed (noisy, possibly standardised) states;
 * x (N, T, 3) the noise-free states in the original units; states (N, T)
 * int32 lobe labels, 1 where x > 0 and 0 where x <= 0 (the lobe around
 * (+sqrt(beta (rho-1)), ., rho-1) is 1); dt scalar. */
int ndyn_sim_lorenz(const ndyn_sim_lorenz_params *p, ndyn_dataset **out);

/* One RK4 step of length h of the Lorenz system, in place on s[3]. */
void ndyn_sim_lorenz_rk4(double s[3], double h, double sigma, double rho, double beta);

/* ------------------------------------------------------------- van der Pol */

/* dx/dt = y, dy/dt = mu (1 - x^2) y - x (the MARBLE toy example): for each of
 * C values of mu evenly spaced in [mu_min, mu_max], `trials` initial
 * conditions uniform in [-ic_range, ic_range]^2, each sampled at `steps`
 * times 0, dt, ..., (steps-1) dt (RK4 with `substeps` steps per dt). With
 * alpha > 0 the plane is mapped onto the paraboloid
 * z = -(alpha x)^2 - (alpha y)^2 (D = 3); with alpha == 0 it stays planar
 * (D = 2). Per trajectory pos = X[:-1] and vel = diff(X) of the mapped
 * samples X, so each trajectory gives steps - 1 points. As in the
 * reference (which drops points outside (-3, 3)), a trajectory is cut at its
 * first sample with |x| >= bound or |y| >= bound (for mu < 0 trajectories
 * starting outside the unstable cycle blow up in finite time); n is then
 * smaller than C * trials * (steps - 1). */
typedef struct ndyn_sim_vdp_params {
    size_t conditions;  /* C values of mu (default 40) */
    double mu_min, mu_max;  /* defaults -1, 1 */
    size_t trials;      /* initial conditions per mu (default 100) */
    size_t steps;       /* samples per trajectory, >= 2 (default 6: t = 0..2.5) */
    double dt;          /* sample interval (default 0.5) */
    size_t substeps;    /* RK4 steps per dt (default 50) */
    double ic_range;    /* initial conditions in [-ic_range, ic_range]^2 (default 3) */
    double bound;       /* trajectories are cut where |x| or |y| reaches it (default 3) */
    double alpha;       /* paraboloid curvature (default 0.05); 0: planar */
    double noise;       /* std of Gaussian noise added to the sampled x, y (default 0) */
    uint64_t seed;      /* default 1 */
} ndyn_sim_vdp_params;

void ndyn_sim_vdp_defaults(ndyn_sim_vdp_params *p);
int ndyn_sim_vdp_check(const ndyn_sim_vdp_params *p);
/* Dataset: pos (n, D), vel (n, D), condition (n,) int32 in 0..C-1, mu (C,),
 * trajectory (n,) int32 global trajectory index (condition * trials + i),
 * t (n,) float64 time of each point, dt scalar; n <= C * trials * (steps - 1)
 * (see bound). */
int ndyn_sim_vdp(const ndyn_sim_vdp_params *p, ndyn_dataset **out);

/* Integrate van der Pol from (x0, y0): xy (T, 2) receives the states at
 * t = 0, dt, ..., (T-1) dt, RK4 with `substeps` steps per dt. */
int ndyn_sim_vdp_trajectory(double mu, double x0, double y0, double dt, size_t substeps,
                            size_t T, double *xy);

/* --------------------------------------------------------- planar fields */

/* The four toy fields of MARBLE's Extended Data Fig. 1, each on its own n
 * points uniform in [-1, 1]^2:
 *   0 "linear left"   v = (-1, -1)
 *   1 "linear right"  v = ( 1,  1)
 *   2 "vortex right"  clockwise vortex around (-1, 1):
 *                     v = (y - 1, -(x + 1)) / sqrt((x + 1)^2 + (y - 1)^2 + eps)
 *   3 "vortex left"   clockwise vortex around (1, 1):
 *                     v = (y - 1, -(x - 1)) / sqrt((x - 1)^2 + (y - 1)^2 + eps)
 * (names and formulas as in the reference toy example). */
#define NDYN_SIM_NFIELDS 4
typedef struct ndyn_sim_fields_params {
    size_t n;           /* points per field (default 512) */
    double eps;         /* vortex regulariser (default 0.1) */
    double noise;       /* std of Gaussian noise added to vel (default 0) */
    uint64_t seed;      /* default 1 */
} ndyn_sim_fields_params;

void ndyn_sim_fields_defaults(ndyn_sim_fields_params *p);
int ndyn_sim_fields_check(const ndyn_sim_fields_params *p);
/* Name of field c (0..3), e.g. "linear left"; NULL when out of range. */
const char *ndyn_sim_field_name(int c);
/* The noise-free velocity of field c at (x, y) into v[2]. */
void ndyn_sim_field_eval(int c, double eps, double x, double y, double v[2]);
/* Dataset: pos (4n, 2), vel (4n, 2), condition (4n,) int32 in 0..3, and
 * the text entry `names`, one field name per line (saved to .npz as a NumPy
 * unicode array of shape (4,)). */
int ndyn_sim_fields(const ndyn_sim_fields_params *p, ndyn_dataset **out);

/* ------------------------------------------------------- switching system */

/* Discrete states z_t in 0..K-1 follow a sticky Markov chain: z_0 uniform,
 * P(z_t = j | z_{t-1} = i) = stay if i == j, else (1 - stay) / (K - 1).
 * Latents h_t in R^H follow the regime's tanh RNN
 *     h_t = tanh(W_k h_{t-1} + b_k) + latent_noise * e_t,   k = z_t,
 * with regimes chosen to be clearly distinct (ndyn_sim_switching_regime):
 *     k = 0: slow counter-clockwise rotation (limit cycle),
 *     k = 1: fast clockwise rotation (limit cycle),
 *     k = 2: contraction onto a fixed point,
 *     k = 3: very fast counter-clockwise rotation, k = 4: a second fixed
 *     point, k = 5: very slow clockwise rotation.
 * Rotations act on the pairs of latent coordinates (0,1), (2,3), ...; a
 * left-over odd coordinate decays. Rotations have gain 1.3 (tanh bounds
 * them to a limit cycle; the saturation also slows the turn: regime 0 turns
 * ~0.11 rad/step); fixed points are +-0.4 per coordinate with
 * alternating signs (gain 0.5). h_0 ~ N(0, 0.5^2 I).
 * Emission: a = C h_t + d with C (Y, H) entries N(0, 1/H) and d (Y,)
 * (stream 0 of the seed); with emission_hidden = M > 0 a one-hidden-layer
 * MLP instead: a = C u + d, u = tanh(C1 h_t + c1), C1 (M, H) entries
 * N(0, 4/H), c1 (M,) entries N(0, 0.25), C (Y, M) entries N(0, 1/M).
 *   gaussian: y = a + noise * N(0, I), d ~ N(0, 0.1^2);
 *   poisson:  y ~ Poisson(rate), rate = exp(gain * a) * base_rate, d = 0
 *             (counts per bin; `noise` unused). */
enum { NDYN_SIM_EMIT_GAUSSIAN = 0, NDYN_SIM_EMIT_POISSON = 1 };
#define NDYN_SIM_SWITCHING_MAX_K 6
typedef struct ndyn_sim_switching_params {
    size_t trials;      /* N (default 10) */
    size_t steps;       /* T (default 500) */
    int K;              /* discrete states, 1..6 (default 3) */
    size_t H;           /* latent dimension, >= 2 (default 2) */
    size_t Y;           /* observed dimensions (default 30) */
    double stay;        /* self-transition probability (default 0.98; with K == 1 unused) */
    double latent_noise;/* std of the latent innovation (default 0.01) */
    int emission;       /* NDYN_SIM_EMIT_GAUSSIAN (default) or NDYN_SIM_EMIT_POISSON */
    double noise;       /* Gaussian observation noise std (default 0.1) */
    double base_rate;   /* Poisson: counts per bin at a = 0 (default 2) */
    double gain;        /* Poisson: log-rate gain (default 1) */
    size_t emission_hidden; /* 0: linear emission (default); M > 0: MLP with M tanh units */
    uint64_t seed;      /* default 1 */
} ndyn_sim_switching_params;

void ndyn_sim_switching_defaults(ndyn_sim_switching_params *p);
int ndyn_sim_switching_check(const ndyn_sim_switching_params *p);
/* Dataset: y (N, T, Y) observations (Poisson: non-negative integer counts
 * stored as float64); states (N, T) int32; h (N, T, H) true latents;
 * rate (N, T, Y) the noise-free emission mean (Gaussian: C h + d; Poisson:
 * the rate); transition (K, K) with transition[i][j] = P(z_t=j | z_{t-1}=i);
 * W (K, H, H), b (K, H) the regimes; C (Y, H) (MLP: (Y, M)), d (Y,) the
 * emission, and with the MLP also C1 (M, H), c1 (M,). */
int ndyn_sim_switching(const ndyn_sim_switching_params *p, ndyn_dataset **out);

/* The dynamics of regime k (0..5) in H dimensions: W is (H, H), b is (H,). */
int ndyn_sim_switching_regime(int k, size_t H, double *W, double *b);

#ifdef __cplusplus
}
#endif
#endif
