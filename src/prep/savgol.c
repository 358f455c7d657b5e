/* Savitzky-Golay smoothing with scipy.signal.savgol_filter's default mode
 * "interp": interior points by the centred least-squares polynomial, the
 * edges by the polynomial fitted to the first and last window. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prep/prep_internal.h"

/* Hat matrix H (w, w) of least-squares polynomial fits of degree `order`
 * on the points -h..h: H = Q Q^T for A = QR, A[t][p] = (t - h)^p. */
static int hat_matrix(size_t w, size_t order, double *H)
{
    const size_t m = order + 1;
    const long h = (long)(w / 2);
    double *a = ndyn_malloc_array(w * m, sizeof *a);
    double *tau = ndyn_malloc_array(m, sizeof *tau);
    if (!a || !tau) {
        free(a);
        free(tau);
        return NDYN_ENOMEM;
    }
    for (size_t t = 0; t < w; t++) {
        double v = 1.0, u = (double)((long)t - h) / (double)(h ? h : 1);
        for (size_t p = 0; p < m; p++) {
            a[t * m + p] = v;
            v *= u;
        }
    }
    int rc = NDYN_OK;
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)w, (lapack_int)m, a, (lapack_int)m, tau);
    if (!info) info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)w, (lapack_int)m, (lapack_int)m, a, (lapack_int)m, tau);
    if (info) rc = ndyn_error(NDYN_EINTERNAL, "Savitzky-Golay: QR failed (LAPACK info %d)", (int)info);
    else
        for (size_t r = 0; r < w; r++)
            for (size_t c = 0; c < w; c++) {
                double s = 0.0;
                for (size_t p = 0; p < m; p++) s += a[r * m + p] * a[c * m + p];
                H[r * w + c] = s;
            }
    free(a);
    free(tau);
    return rc;
}

int ndyn_prep_savgol(ndyn_trials *t, size_t window, size_t order)
{
    int rc = ndyn_trials_check(t, "Savitzky-Golay");
    if (rc) return rc;
    if (window < 1 || window % 2 == 0)
        return ndyn_error(NDYN_EINVAL, "Savitzky-Golay: window %zu must be odd (e.g. 9)", window);
    if (order >= window)
        return ndyn_error(NDYN_EINVAL, "Savitzky-Golay: order %zu must be less than the window %zu", order, window);
    if (window > 100001) return ndyn_error(NDYN_EINVAL, "Savitzky-Golay: window %zu is too large", window);
    for (size_t i = 0; i < t->n; i++)
        if (ndyn_trials_len(t, i) < window)
            return ndyn_error(NDYN_EINVAL,
                              "Savitzky-Golay: trial %zu has %zu time steps, fewer than the window %zu; use a "
                              "smaller window",
                              i, ndyn_trials_len(t, i), window);
    const size_t w = window, h = w / 2, d = t->d;
    size_t maxlen = 0;
    for (size_t i = 0; i < t->n; i++)
        if (ndyn_trials_len(t, i) > maxlen) maxlen = ndyn_trials_len(t, i);
    double *H = ndyn_malloc_array(w * w, sizeof *H);
    double *x = ndyn_malloc_array(maxlen, sizeof *x);
    if (!H || !x) {
        free(H);
        free(x);
        return NDYN_ENOMEM;
    }
    if ((rc = hat_matrix(w, order, H))) goto done;
    const double *mid = H + h * w; /* interior coefficients */
    for (size_t i = 0; i < t->n; i++) {
        size_t n = ndyn_trials_len(t, i);
        double *base = t->data + t->off[i] * d;
        for (size_t j = 0; j < d; j++) {
            for (size_t s = 0; s < n; s++) x[s] = base[s * d + j];
            for (size_t s = 0; s < n; s++) {
                const double *row, *src;
                if (s < h) {                 /* first window, fitted row s */
                    row = H + s * w;
                    src = x;
                } else if (s + h >= n) {     /* last window, fitted row s - (n - w) */
                    row = H + (s - (n - w)) * w;
                    src = x + (n - w);
                } else {
                    row = mid;
                    src = x + (s - h);
                }
                double acc = 0.0;
                for (size_t c = 0; c < w; c++) acc += row[c] * src[c];
                base[s * d + j] = acc;
            }
        }
    }
done:
    free(H);
    free(x);
    return rc;
}
