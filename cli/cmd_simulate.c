/* ndyn simulate SYSTEM: synthetic data with known ground truth (Lorenz, van
 * der Pol sweep, planar toy fields, switching RNN), written as .npz with the
 * arrays docs/FORMATS.md lists, and a one-paragraph summary on stdout. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/io.h"
#include "ndyn/sim.h"

#define CMD "simulate"

enum { S_LORENZ = 1, S_VDP = 2, S_FIELDS = 4, S_SWITCHING = 8, S_ANY = 15 };

static const struct {
    const char *name;
    int bit;
} k_systems[] = {{"lorenz", S_LORENZ}, {"vdp", S_VDP}, {"fields", S_FIELDS}, {"switching", S_SWITCHING}};

enum {
    O_OUT = 'o', O_SEED = 2000, O_TRIALS, O_STEPS, O_NOISE, O_DT, O_SUBSTEPS, O_BURN, O_SIGMA,
    O_RHO, O_BETA, O_STANDARDIZE, O_CONDITIONS, O_MUMIN, O_MUMAX, O_ICRANGE, O_BOUND, O_ALPHA,
    O_POINTS, O_EPS, O_STATES, O_LATENT, O_OBS, O_STAY, O_LNOISE, O_EMISSION, O_RATE, O_GAIN,
    O_HIDDEN, O_COMPRESS = 'z', O_HELP = 'h'
};

/* Which systems each option applies to. */
static int applies(int opt)
{
    switch (opt) {
    case O_TRIALS: case O_STEPS: return S_LORENZ | S_VDP | S_SWITCHING;
    case O_DT: case O_SUBSTEPS: return S_LORENZ | S_VDP;
    case O_BURN: case O_SIGMA: case O_RHO: case O_BETA: case O_STANDARDIZE: return S_LORENZ;
    case O_CONDITIONS: case O_MUMIN: case O_MUMAX: case O_ICRANGE: case O_BOUND: case O_ALPHA:
        return S_VDP;
    case O_POINTS: case O_EPS: return S_FIELDS;
    case O_STATES: case O_LATENT: case O_OBS: case O_STAY: case O_LNOISE: case O_EMISSION:
    case O_RATE: case O_GAIN: case O_HIDDEN: return S_SWITCHING;
    default: return S_ANY;
    }
}

static void help(void)
{
    printf(
        "Usage: ndyn simulate SYSTEM [options]\n"
        "\n"
        "Simulate a system with known ground truth and write it as .npz (see docs/FORMATS.md\n"
        "and docs/simulate.md). The same --seed gives the same file whatever --threads.\n"
        "SYSTEM is one of:\n"
        "  lorenz     Lorenz attractor trajectories (RK4) with the lobe (x > 0) as state.\n"
        "             Writes y (N, T, 3), x (N, T, 3) noise-free, states (N, T) int32, dt.\n"
        "  vdp        van der Pol dx/dt = y, dy/dt = mu (1 - x^2) y - x swept over mu, one\n"
        "             condition per mu, short trajectories from random starts mapped onto\n"
        "             z = -(alpha x)^2 - (alpha y)^2; pos = X[:-1], vel = diff(X) per trajectory.\n"
        "             Writes pos (n, D), vel (n, D) with D = 3 (2 with --alpha 0), condition\n"
        "             (n,) int32, mu (C,), trajectory (n,) int32, t (n,), dt.\n"
        "  fields     the four planar toy fields (linear left/right, vortex right/left) on\n"
        "             uniform points of [-1, 1]^2. Writes pos (4n, 2), vel (4n, 2), condition\n"
        "             (4n,) int32, names (4,) strings.\n"
        "  switching  K tanh-RNN regimes (distinct rotations, fixed points) switched by a sticky\n"
        "             Markov chain, emitted to Y dims by a random linear map (or MLP) with\n"
        "             Gaussian or Poisson noise. Writes y (N, T, Y), states (N, T) int32, h (N, T, H),\n"
        "             rate (N, T, Y), transition (K, K), W (K, H, H), b (K, H), C (Y, H), d (Y,).\n"
        "\n"
        "Options for every system:\n"
        "  -o, --out FILE       output .npz (default: SYSTEM.npz); missing directories are created\n"
        "      --seed N         random seed (default 1)\n"
        "      --noise X        noise std: lorenz on y (default 0), vdp on the sampled x, y\n"
        "                       (default 0), fields on vel (default 0), switching Gaussian\n"
        "                       observation noise (default 0.1)\n"
        "  -z, --compress       deflate the .npz members (default: stored)\n"
        "  -h, --help           show this help\n"
        CLI_COMMON_HELP
        "lorenz, vdp, switching:\n"
        "      --trials N       lorenz: trajectories (default 8); vdp: initial conditions per mu\n"
        "                       (default 100); switching: trials (default 10)\n"
        "      --steps T        samples per trajectory: lorenz 1000, vdp 6, switching 500\n"
        "lorenz, vdp:\n"
        "      --dt X           sample interval (lorenz 0.01, vdp 0.5)\n"
        "      --substeps N     RK4 steps per dt (lorenz 2, vdp 50)\n"
        "lorenz:\n"
        "      --burn-in N      samples discarded before recording (default 500)\n"
        "      --sigma X, --rho X, --beta X   parameters (default 10, 28, 8/3)\n"
        "      --standardize    y = (x - (0, 0, rho - 1)) / 15 (default: raw units)\n"
        "vdp:\n"
        "      --conditions C   number of mu values, evenly spaced (default 40)\n"
        "      --mu-min X, --mu-max X   range of mu (default -1, 1)\n"
        "      --ic-range X     initial conditions uniform in [-X, X]^2 (default 3)\n"
        "      --bound X        trajectories are cut where |x| or |y| reaches X (default 3)\n"
        "      --alpha X        paraboloid curvature (default 0.05; 0 keeps the plane, D = 2)\n"
        "fields:\n"
        "      --points N       points per field (default 512)\n"
        "      --eps X          vortex regulariser (default 0.1)\n"
        "switching:\n"
        "      --states K       discrete states, 1..6 (default 3)\n"
        "      --latent H       latent dimension, >= 2 (default 2)\n"
        "      --obs Y          observed dimensions (default 30)\n"
        "      --stay P         self-transition probability (default 0.98: mean dwell 50 steps)\n"
        "      --latent-noise X std of the latent innovation (default 0.01)\n"
        "      --emission E     gaussian or poisson (default gaussian)\n"
        "      --base-rate X    poisson: counts per bin at zero drive (default 2)\n"
        "      --gain X         poisson: log-rate gain (default 1)\n"
        "      --emission-hidden M  emit through an MLP with M tanh units instead of a\n"
        "                       linear map (default 0: linear); writes C1 (M, H), c1 (M,)\n"
        "\n"
        "Example: ndyn simulate switching --out out/switching.npz --trials 20 --emission poisson\n");
}

/* Summaries of the simulated data. */
static void summary_states(const int32_t *s, size_t N, size_t T, int K)
{
    size_t sw = 0, occ[NDYN_SIM_SWITCHING_MAX_K] = {0};
    for (size_t n = 0; n < N; n++)
        for (size_t t = 0; t < T; t++) {
            int z = s[n * T + t];
            if (z >= 0 && z < K && z < NDYN_SIM_SWITCHING_MAX_K) occ[z]++;
            if (t) sw += s[n * T + t] != s[n * T + t - 1];
        }
    printf("%zu switches (%.3g per trial), state occupancy", sw, (double)sw / (double)N);
    for (int k = 0; k < K && k < NDYN_SIM_SWITCHING_MAX_K; k++)
        printf("%s%.2f", k ? "/" : " ", (double)occ[k] / (double)(N * T));
}

static void summary_arrays(const ndyn_dataset *ds)
{
    for (size_t i = 0; i < ds->n; i++) {
        const ndyn_named_array *it = &ds->items[i];
        char sh[160];
        if (it->array)
            printf("%s%s %s", i ? ", " : "", it->name, ndyn_shape_str(it->array, sh, sizeof sh));
        else
            printf("%s%s (text)", i ? ", " : "", it->name);
    }
}

/* Write ds to out, creating missing directories. */
static int save(const char *out, const ndyn_dataset *ds, int compress)
{
    int rc = ndyn_make_parent_dirs(out);
    return rc ? rc : ndyn_dataset_save(out, ds, compress);
}

static const ndyn_array *get(const ndyn_dataset *ds, const char *name)
{
    const ndyn_array *a = NULL;
    ndyn_dataset_get(ds, name, &a);
    return a;
}

int cmd_simulate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, O_OUT},       {"seed", required_argument, 0, O_SEED},
        {"trials", required_argument, 0, O_TRIALS}, {"steps", required_argument, 0, O_STEPS},
        {"noise", required_argument, 0, O_NOISE},   {"dt", required_argument, 0, O_DT},
        {"substeps", required_argument, 0, O_SUBSTEPS},
        {"burn-in", required_argument, 0, O_BURN},  {"sigma", required_argument, 0, O_SIGMA},
        {"rho", required_argument, 0, O_RHO},       {"beta", required_argument, 0, O_BETA},
        {"standardize", no_argument, 0, O_STANDARDIZE},
        {"conditions", required_argument, 0, O_CONDITIONS},
        {"mu-min", required_argument, 0, O_MUMIN},  {"mu-max", required_argument, 0, O_MUMAX},
        {"ic-range", required_argument, 0, O_ICRANGE},
        {"bound", required_argument, 0, O_BOUND},   {"alpha", required_argument, 0, O_ALPHA},
        {"points", required_argument, 0, O_POINTS}, {"eps", required_argument, 0, O_EPS},
        {"states", required_argument, 0, O_STATES}, {"latent", required_argument, 0, O_LATENT},
        {"obs", required_argument, 0, O_OBS},       {"stay", required_argument, 0, O_STAY},
        {"latent-noise", required_argument, 0, O_LNOISE},
        {"emission", required_argument, 0, O_EMISSION},
        {"base-rate", required_argument, 0, O_RATE}, {"gain", required_argument, 0, O_GAIN},
        {"emission-hidden", required_argument, 0, O_HIDDEN},
        {"compress", no_argument, 0, O_COMPRESS},   {"help", no_argument, 0, O_HELP},
        CLI_COMMON_LONGOPTS,                        {0, 0, 0, 0}};
    /* Options are parsed into these and copied into the chosen system's
     * parameters afterwards (the system may come after the options). */
    struct {
        int set;
        const char *arg;
    } given[64] = {{0, 0}};
    const char *given_name[64] = {0};
    const char *out = NULL;
    int compress = 0, c, rc = CLI_OK, longidx;
    while ((c = getopt_long(argc, argv, ":o:zqh", opts, &longidx)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) {
            if (rc) return rc;
            continue;
        }
        if (c == O_HELP) {
            help();
            return CLI_OK;
        }
        if (c == ':') return cli_usage(CMD, "option '%s' needs a value", argv[optind - 1]);
        if (c == '?') return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        if (c == O_OUT) {
            out = optarg;
            continue;
        }
        if (c == O_COMPRESS) {
            compress = 1;
            continue;
        }
        int slot = c - O_SEED;
        if (slot < 0 || slot >= 64) return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        given[slot].set = 1;
        given[slot].arg = optarg;
        for (const struct option *o = opts; o->name; o++)
            if (o->val == c) given_name[slot] = o->name;
    }
    if (optind >= argc)
        return cli_usage(CMD, "give a SYSTEM: lorenz, vdp, fields or switching");
    if (argc - optind > 1)
        return cli_usage(CMD, "give one SYSTEM; unexpected argument '%s'", argv[optind + 1]);
    const char *sys = argv[optind];
    int bit = 0;
    for (size_t i = 0; i < sizeof k_systems / sizeof k_systems[0]; i++)
        if (!strcmp(sys, k_systems[i].name)) bit = k_systems[i].bit;
    if (!bit)
        return cli_usage(CMD, "unknown SYSTEM '%s'; choose lorenz, vdp, fields or switching", sys);
    for (int s = 0; s < 64; s++)
        if (given[s].set && !(applies(s + O_SEED) & bit))
            return cli_usage(CMD, "--%s does not apply to %s; see 'ndyn simulate --help' for the "
                             "options of each system", given_name[s], sys);
    char defout[64];
    if (!out) {
        snprintf(defout, sizeof defout, "%s.npz", sys);
        out = defout;
    }

    /* Parse the values (ranges are checked again by the library). */
    /* The value of option o, "" for a flag, NULL when not given. */
#define G(o) (given[(o) - O_SEED].set ? (given[(o) - O_SEED].arg ? given[(o) - O_SEED].arg : "") : NULL)
    uint64_t seed = 1;
    double noise = NAN;
    long trials = -1, steps = -1, substeps = -1;
    double dt = NAN;
    if (G(O_SEED) && cli_parse_u64(CMD, "seed", G(O_SEED), &seed)) return CLI_USAGE;
    if (G(O_NOISE) && cli_parse_double(CMD, "noise", G(O_NOISE), 0, 1e6, &noise)) return CLI_USAGE;
    if (G(O_TRIALS) && cli_parse_int(CMD, "trials", G(O_TRIALS), 1, 100000000, &trials)) return CLI_USAGE;
    if (G(O_STEPS) && cli_parse_int(CMD, "steps", G(O_STEPS), bit == S_VDP ? 2 : 1, 1000000000, &steps))
        return CLI_USAGE;
    if (G(O_SUBSTEPS) && cli_parse_int(CMD, "substeps", G(O_SUBSTEPS), 1, 100000, &substeps))
        return CLI_USAGE;
    if (G(O_DT) && cli_parse_double(CMD, "dt", G(O_DT), 1e-9, 1e3, &dt)) return CLI_USAGE;

    ndyn_dataset *ds = NULL;
    int lrc = 0;
    /* What to say about the run, filled per system. */
    if (bit == S_LORENZ) {
        ndyn_sim_lorenz_params p;
        ndyn_sim_lorenz_defaults(&p);
        long burn = -1;
        p.seed = seed;
        if (trials > 0) p.trials = (size_t)trials;
        if (steps > 0) p.steps = (size_t)steps;
        if (substeps > 0) p.substeps = (size_t)substeps;
        if (!isnan(dt)) p.dt = dt;
        if (!isnan(noise)) p.noise = noise;
        if (G(O_BURN) && cli_parse_int(CMD, "burn-in", G(O_BURN), 0, 100000000, &burn)) return CLI_USAGE;
        if (burn >= 0) p.burn_in = (size_t)burn;
        if (G(O_SIGMA) && cli_parse_double(CMD, "sigma", G(O_SIGMA), 1e-6, 1e4, &p.sigma)) return CLI_USAGE;
        if (G(O_RHO) && cli_parse_double(CMD, "rho", G(O_RHO), 1.000001, 1e4, &p.rho)) return CLI_USAGE;
        if (G(O_BETA) && cli_parse_double(CMD, "beta", G(O_BETA), 1e-6, 1e4, &p.beta)) return CLI_USAGE;
        if (G(O_STANDARDIZE)) p.standardize = 1;
        if (ndyn_sim_lorenz_check(&p)) return cli_usage(CMD, "%s", ndyn_errmsg());
        lrc = ndyn_sim_lorenz(&p, &ds);
        if (!lrc) lrc = save(out, ds, compress);
        if (!lrc) {
            const ndyn_array *st = get(ds, "states");
            printf("Simulated %zu Lorenz trajectories (sigma %g, rho %g, beta %g) of %zu samples "
                   "every %g time units (RK4, %zu substeps, %zu samples of burn-in), y in %s "
                   "with Gaussian noise %g; lobe states (1 where x > 0): ",
                   p.trials, p.sigma, p.rho, p.beta, p.steps, p.dt, p.substeps, p.burn_in,
                   p.standardize ? "standardised units (x - (0, 0, rho-1)) / 15" : "raw units",
                   p.noise);
            if (st) summary_states(st->data, p.trials, p.steps, 2);
            printf("; seed %llu. Wrote %s: ", (unsigned long long)p.seed, out);
        }
    } else if (bit == S_VDP) {
        ndyn_sim_vdp_params p;
        ndyn_sim_vdp_defaults(&p);
        long cond = -1;
        p.seed = seed;
        if (trials > 0) p.trials = (size_t)trials;
        if (steps > 0) p.steps = (size_t)steps;
        if (substeps > 0) p.substeps = (size_t)substeps;
        if (!isnan(dt)) p.dt = dt;
        if (!isnan(noise)) p.noise = noise;
        if (G(O_CONDITIONS) && cli_parse_int(CMD, "conditions", G(O_CONDITIONS), 1, 1000000, &cond))
            return CLI_USAGE;
        if (cond > 0) p.conditions = (size_t)cond;
        if (G(O_MUMIN) && cli_parse_double(CMD, "mu-min", G(O_MUMIN), -100, 100, &p.mu_min)) return CLI_USAGE;
        if (G(O_MUMAX) && cli_parse_double(CMD, "mu-max", G(O_MUMAX), -100, 100, &p.mu_max)) return CLI_USAGE;
        if (G(O_ICRANGE) && cli_parse_double(CMD, "ic-range", G(O_ICRANGE), 1e-9, 1e6, &p.ic_range))
            return CLI_USAGE;
        if (G(O_BOUND) && cli_parse_double(CMD, "bound", G(O_BOUND), 1e-9, 1e6, &p.bound)) return CLI_USAGE;
        if (G(O_ALPHA) && cli_parse_double(CMD, "alpha", G(O_ALPHA), 0, 1e3, &p.alpha)) return CLI_USAGE;
        if (ndyn_sim_vdp_check(&p)) return cli_usage(CMD, "%s", ndyn_errmsg());
        lrc = ndyn_sim_vdp(&p, &ds);
        if (!lrc) lrc = save(out, ds, compress);
        if (!lrc) {
            const ndyn_array *pos = get(ds, "pos");
            size_t n = pos ? pos->shape[0] : 0, full = p.conditions * p.trials * (p.steps - 1);
            printf("Simulated van der Pol for %zu values of mu in [%g, %g] (one condition each), "
                   "%zu initial conditions per mu uniform in [-%g, %g]^2, %zu samples every %g "
                   "(RK4, %zu substeps), %s, Gaussian noise %g: %zu points (pos = X[:-1], vel = "
                   "diff X per trajectory; %zu points lost where trajectories left |x|, |y| < %g); "
                   "seed %llu. Wrote %s: ",
                   p.conditions, p.mu_min, p.mu_max, p.trials, p.ic_range, p.ic_range, p.steps,
                   p.dt, p.substeps,
                   p.alpha > 0 ? "mapped onto the paraboloid z = -(alpha x)^2 - (alpha y)^2"
                               : "planar",
                   p.noise, n, full - n, p.bound, (unsigned long long)p.seed, out);
        }
    } else if (bit == S_FIELDS) {
        ndyn_sim_fields_params p;
        ndyn_sim_fields_defaults(&p);
        long pts = -1;
        p.seed = seed;
        if (!isnan(noise)) p.noise = noise;
        if (G(O_POINTS) && cli_parse_int(CMD, "points", G(O_POINTS), 1, 1L << 28, &pts)) return CLI_USAGE;
        if (pts > 0) p.n = (size_t)pts;
        if (G(O_EPS) && cli_parse_double(CMD, "eps", G(O_EPS), 1e-12, 1e6, &p.eps)) return CLI_USAGE;
        if (ndyn_sim_fields_check(&p)) return cli_usage(CMD, "%s", ndyn_errmsg());
        lrc = ndyn_sim_fields(&p, &ds);
        if (!lrc) lrc = save(out, ds, compress);
        if (!lrc)
            printf("Simulated the four planar toy fields (0 linear left, 1 linear right, 2 vortex "
                   "right, 3 vortex left; vortex eps %g) on %zu uniform points of [-1, 1]^2 each, "
                   "Gaussian noise %g on vel; seed %llu. Wrote %s: ",
                   p.eps, p.n, p.noise, (unsigned long long)p.seed, out);
    } else {
        ndyn_sim_switching_params p;
        ndyn_sim_switching_defaults(&p);
        long K = -1, H = -1, Y = -1;
        p.seed = seed;
        if (trials > 0) p.trials = (size_t)trials;
        if (steps > 0) p.steps = (size_t)steps;
        if (!isnan(noise)) p.noise = noise;
        if (G(O_STATES) && cli_parse_int(CMD, "states", G(O_STATES), 1, NDYN_SIM_SWITCHING_MAX_K, &K))
            return CLI_USAGE;
        if (K > 0) p.K = (int)K;
        if (G(O_LATENT) && cli_parse_int(CMD, "latent", G(O_LATENT), 2, 1024, &H)) return CLI_USAGE;
        if (H > 0) p.H = (size_t)H;
        if (G(O_OBS) && cli_parse_int(CMD, "obs", G(O_OBS), 1, 100000, &Y)) return CLI_USAGE;
        if (Y > 0) p.Y = (size_t)Y;
        if (G(O_STAY) && cli_parse_double(CMD, "stay", G(O_STAY), 0, 1, &p.stay)) return CLI_USAGE;
        if (G(O_LNOISE) && cli_parse_double(CMD, "latent-noise", G(O_LNOISE), 0, 1e3, &p.latent_noise))
            return CLI_USAGE;
        const char *em = G(O_EMISSION);
        if (em) {
            if (!strcmp(em, "gaussian")) p.emission = NDYN_SIM_EMIT_GAUSSIAN;
            else if (!strcmp(em, "poisson")) p.emission = NDYN_SIM_EMIT_POISSON;
            else return cli_usage(CMD, "--emission must be gaussian or poisson, got '%s'", em);
        }
        if (G(O_RATE) && cli_parse_double(CMD, "base-rate", G(O_RATE), 1e-12, 1e6, &p.base_rate))
            return CLI_USAGE;
        if (G(O_GAIN) && cli_parse_double(CMD, "gain", G(O_GAIN), 0, 20, &p.gain)) return CLI_USAGE;
        long hid = -1;
        if (G(O_HIDDEN) && cli_parse_int(CMD, "emission-hidden", G(O_HIDDEN), 0, 4096, &hid))
            return CLI_USAGE;
        if (hid >= 0) p.emission_hidden = (size_t)hid;
        if (p.emission == NDYN_SIM_EMIT_POISSON && G(O_NOISE))
            return cli_usage(CMD, "--noise is the Gaussian observation noise; with --emission "
                             "poisson the noise is the Poisson counts themselves (drop --noise)");
        if (ndyn_sim_switching_check(&p)) return cli_usage(CMD, "%s", ndyn_errmsg());
        lrc = ndyn_sim_switching(&p, &ds);
        if (!lrc) lrc = save(out, ds, compress);
        if (!lrc) {
            const ndyn_array *st = get(ds, "states");
            printf("Simulated a switching tanh RNN: %zu trials of %zu steps, K = %d discrete "
                   "states (sticky Markov chain, stay %g, mean dwell %.3g steps), H = %zu latents, "
                   "Y = %zu observed dimensions through a random ",
                   p.trials, p.steps, p.K, p.stay, p.K > 1 ? 1.0 / (1.0 - p.stay) : (double)p.steps,
                   p.H, p.Y);
            if (p.emission_hidden)
                printf("MLP (%zu tanh units) with ", p.emission_hidden);
            else
                printf("linear map with ");
            if (p.emission == NDYN_SIM_EMIT_POISSON)
                printf("Poisson counts (rate %g exp(%g a))", p.base_rate, p.gain);
            else
                printf("Gaussian noise %g", p.noise);
            printf(", latent noise %g; ", p.latent_noise);
            if (st) summary_states(st->data, p.trials, p.steps, p.K);
            printf("; seed %llu. Wrote %s: ", (unsigned long long)p.seed, out);
        }
    }
#undef G
    if (lrc) {
        ndyn_dataset_free(ds);
        return cli_fail(CMD);
    }
    summary_arrays(ds);
    printf(".\n");
    ndyn_dataset_free(ds);
    return CLI_OK;
}
