/* Cyclic Jacobi eigensolver for small symmetric matrices (see geom_internal.h). */
#include "geom_internal.h"

#include <math.h>
#include <string.h>

void ndyn_geom_jacobi_eig(size_t n, double *A, double *w, double *V)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) V[i * n + j] = i == j;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0, diag = 0;
        for (size_t i = 0; i < n; i++) {
            diag += A[i * n + i] * A[i * n + i];
            for (size_t j = i + 1; j < n; j++) off += A[i * n + j] * A[i * n + j];
        }
        if (off <= 1e-32 * diag || off == 0) break;
        for (size_t p = 0; p < n; p++)
            for (size_t q = p + 1; q < n; q++) {
                double apq = A[p * n + q];
                if (apq == 0) continue;
                double app = A[p * n + p], aqq = A[q * n + q];
                double theta = (aqq - app) / (2 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < n; k++) {
                    double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = c * akp - s * akq;
                    A[k * n + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < n; k++) {
                    double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = c * apk - s * aqk;
                    A[q * n + k] = s * apk + c * aqk;
                }
                for (size_t k = 0; k < n; k++) {
                    double vkp = V[k * n + p], vkq = V[k * n + q];
                    V[k * n + p] = c * vkp - s * vkq;
                    V[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    for (size_t i = 0; i < n; i++) w[i] = A[i * n + i];
    /* sort descending, permuting columns of V */
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && w[b - 1] < w[b]; b--) {
            double t = w[b]; w[b] = w[b - 1]; w[b - 1] = t;
            for (size_t k = 0; k < n; k++) {
                double v = V[k * n + b]; V[k * n + b] = V[k * n + b - 1]; V[k * n + b - 1] = v;
            }
        }
}
