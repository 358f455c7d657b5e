/* Seeded random numbers: xoshiro256** (Blackman & Vigna) seeded by
 * splitmix64 from (seed, stream). Streams are derived by hashing, so any
 * work item can own a reproducible stream independent of the thread count. */
#include "ndyn/core.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ndyn_rng_init(ndyn_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    /* Mix the stream index into the state seed through a second splitmix. */
    uint64_t y = h ^ (stream * 0xd1b54a32d192ed03ULL + 0x8bb84b93962eacc9ULL);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&y);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
    r->has_spare = 0;
    r->spare_normal = 0.0;
}

uint64_t ndyn_rng_u64(ndyn_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ndyn_rng_uniform(ndyn_rng *r) { return (double)(ndyn_rng_u64(r) >> 11) * 0x1.0p-53; }

double ndyn_rng_uniform_range(ndyn_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * ndyn_rng_uniform(r);
}

double ndyn_rng_normal(ndyn_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare_normal;
    }
    /* Marsaglia polar method: two normals per accepted pair. */
    double u, v, s;
    do {
        u = 2.0 * ndyn_rng_uniform(r) - 1.0;
        v = 2.0 * ndyn_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double m = sqrt(-2.0 * log(s) / s);
    r->spare_normal = v * m;
    r->has_spare = 1;
    return u * m;
}

uint64_t ndyn_rng_below(ndyn_rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    /* Rejection on the top of the range removes modulo bias. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    uint64_t x;
    do x = ndyn_rng_u64(r);
    while (x >= limit);
    return x % n;
}

size_t ndyn_rng_categorical(ndyn_rng *r, const double *p, size_t n)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++) total += p[i];
    double u = ndyn_rng_uniform(r) * total;
    double acc = 0.0;
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] <= 0) continue;
        acc += p[i];
        last = i;
        if (u < acc) return i;
    }
    return last; /* rounding: u landed on the total */
}

void ndyn_rng_shuffle(ndyn_rng *r, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ndyn_rng_below(r, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

void ndyn_rng_permutation(ndyn_rng *r, size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++) idx[i] = i;
    ndyn_rng_shuffle(r, idx, n);
}

double ndyn_rng_poisson(ndyn_rng *r, double lambda)
{
    if (!(lambda > 0)) return 0.0;
    if (lambda < 30.0) {
        /* Knuth's multiplication method. */
        double L = exp(-lambda), p = 1.0;
        double k = 0;
        do {
            k += 1;
            p *= ndyn_rng_uniform(r);
        } while (p > L);
        return k - 1;
    }
    /* Atkinson's rejection method (PA) for large lambda. */
    double c = 0.767 - 3.36 / lambda;
    double beta = M_PI / sqrt(3.0 * lambda);
    double alpha = beta * lambda;
    double k = log(c) - lambda - log(beta);
    for (;;) {
        double u = ndyn_rng_uniform(r);
        if (u <= 0.0 || u >= 1.0) continue;
        double x = (alpha - log((1.0 - u) / u)) / beta;
        double n = floor(x + 0.5);
        if (n < 0) continue;
        double v = ndyn_rng_uniform(r);
        if (v <= 0.0) continue;
        double y = alpha - beta * x;
        double t = 1.0 + exp(y);
        double lhs = y + log(v / (t * t));
        double rhs = k + n * log(lambda) - lgamma(n + 1.0);
        if (lhs <= rhs) return n;
    }
}
