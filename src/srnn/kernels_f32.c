/* Elementwise kernels of the float32 training path: tanh through a
 * branch-free exp (Cody-Waite range reduction and a degree-6 polynomial,
 * relative error ~2e-7) that the compiler vectorises, with an AVX2 clone
 * chosen at run time where the CPU has it (the default clone runs on any
 * x86-64). */
#include <stdint.h>
#include <string.h>

#include "srnn_internal.h"

/* exp(x) for x in [-88, 0] (callers clamp) */
static inline float expf_poly(float x)
{
    const float l2e = 1.44269504f, c1 = 0.693359375f, c2 = -2.12194440e-4f;
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float n = (x * l2e + magic) - magic;
    float r = x - n * c1;
    r = r - n * c2;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &e, sizeof s);
    return p * s;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SRNN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SRNN_CLONES
#endif

SRNN_CLONES void srnn_tanh_f32(float *x, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float v = x[i], a = v < 0 ? -v : v;
        a = a < 9.0f ? a : 9.0f;
        /* tanh |v| = (1 - e) / (1 + e), e = exp(-2 |v|); the small-|v| branch keeps the relative accuracy */
        float e = expf_poly(-2.0f * a);
        float t = (1.0f - e) / (1.0f + e);
        float v2 = v * v;
        float ts = a * (1.0f + v2 * (-0.333333333f + v2 * (0.133333333f + v2 * (-0.0539682540f + v2 * 0.0218694885f))));
        t = a < 0.25f ? ts : t;
        x[i] = v < 0 ? -t : t;
    }
}
