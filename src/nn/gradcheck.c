/* Central finite-difference gradient checker (double precision). */
#include <math.h>

#include "nn/nn_internal.h"

int ndyn_nn_gradcheck(double *x, const double *grad, size_t n, ndyn_nn_loss_fn f, void *user,
                      double h, double floor, ndyn_nn_gradcheck_result *res)
{
    if (!x || !grad || !f || !(h > 0))
        return ndyn_error(NDYN_EINVAL, "gradcheck: x, grad, f and a positive step h are required");
    double worst = 0, dd = 0, na = 0, nn = 0;
    size_t wi = 0;
    double wa = 0, wn = 0;
    for (size_t i = 0; i < n; i++) {
        double x0 = x[i], lp, lm;
        x[i] = x0 + h;
        int rc = f(user, &lp);
        x[i] = x0 - h;
        if (!rc) rc = f(user, &lm);
        x[i] = x0;
        if (rc) return rc;
        double num = (lp - lm) / (2 * h), a = grad[i];
        double den = fmax(fmax(fabs(a), fabs(num)), floor);
        double e = den > 0 ? fabs(a - num) / den : 0.0;
        if (!(e <= worst)) {   /* also catches NaN */
            worst = e;
            wi = i;
            wa = a;
            wn = num;
        }
        dd += (a - num) * (a - num);
        na += a * a;
        nn += num * num;
    }
    if (res) {
        res->max_rel_err = worst;
        res->worst = wi;
        res->analytic = wa;
        res->numeric = wn;
        double m = fmax(sqrt(fmax(na, nn)), floor);
        res->norm_rel_err = m > 0 ? sqrt(dd) / m : 0.0;
    }
    return NDYN_OK;
}
