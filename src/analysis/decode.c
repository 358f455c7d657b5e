/* Cross-validated decoding over caller-given folds: linear (OLS / ridge with
 * an inner choice of penalty) and kNN decoders, for continuous targets or
 * class labels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"

void ndyn_decoder_params_default(ndyn_decoder_params *p, ndyn_decoder_kind kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->classify = 0;
    p->n_classes = 0;
    p->lambda = -1.0;
    p->inner_folds = 5;
    p->k = 36;
    p->dist = NDYN_DIST_COSINE;
}

/* Labels stored as doubles must be whole numbers in [0, n_classes). */
static int labels_from_double(const double *y, size_t n, int *n_classes, int *lab)
{
    int mx = -1;
    for (size_t i = 0; i < n; i++) {
        double v = y[i];
        if (!(v >= 0) || v != floor(v) || v > 1e9)
            return ndyn_error(NDYN_EINVAL,
                              "decoding classes: target %zu is %g; class labels must be whole numbers >= 0", i, v);
        lab[i] = (int)v;
        if (lab[i] > mx) mx = lab[i];
    }
    if (*n_classes <= 0) *n_classes = mx + 1;
    else if (mx >= *n_classes)
        return ndyn_error(NDYN_EINVAL, "decoding classes: label %d but n_classes = %d; raise n_classes", mx,
                          *n_classes);
    return NDYN_OK;
}

int ndyn_decode_cv(const double *x, size_t n, size_t d, const double *y, size_t dy, const int *fold,
                   int nfolds, const ndyn_decoder_params *p, double *pred, double *lambda_used)
{
    int rc = ana_check_matrix(x, n, d, "decoder inputs");
    if (rc) return rc;
    if ((rc = ana_check_matrix(y, n, dy, "decoder targets"))) return rc;
    if (!fold || !p || !pred) return ndyn_error(NDYN_EINVAL, "decode: folds, parameters or output is NULL");
    if (nfolds < 1) return ndyn_error(NDYN_EINVAL, "decode: need at least one fold (got %d)", nfolds);
    if (p->kind != NDYN_DECODER_LINEAR && p->kind != NDYN_DECODER_RIDGE && p->kind != NDYN_DECODER_KNN)
        return ndyn_error(NDYN_EINVAL, "decode: unknown decoder kind %d", (int)p->kind);
    if (p->classify && dy != 1)
        return ndyn_error(NDYN_ESHAPE, "decode: class labels must be one column (got %zu)", dy);
    if (p->kind == NDYN_DECODER_KNN && p->k == 0) return ndyn_error(NDYN_EINVAL, "decode: kNN needs k >= 1");
    for (size_t i = 0; i < n; i++)
        if (fold[i] >= nfolds || (fold[i] < 0 && fold[i] != NDYN_FOLD_TRAIN && fold[i] != NDYN_FOLD_SKIP))
            return ndyn_error(NDYN_EINVAL, "decode: fold[%zu] = %d; use 0..%d, NDYN_FOLD_TRAIN or NDYN_FOLD_SKIP",
                              i, fold[i], nfolds - 1);
    /* Non-finite values only matter in rows that are used. */
    for (size_t i = 0; i < n; i++) {
        if (fold[i] == NDYN_FOLD_SKIP) continue;
        for (size_t j = 0; j < d; j++)
            if (!isfinite(x[i * d + j]))
                return ndyn_error(NDYN_ENONFINITE, "decoder inputs: row %zu column %zu is %g; drop or mark it SKIP", i,
                                  j, x[i * d + j]);
        for (size_t j = 0; j < dy; j++)
            if (!isfinite(y[i * dy + j]))
                return ndyn_error(NDYN_ENONFINITE, "decoder targets: row %zu column %zu is %g; drop or mark it SKIP",
                                  i, j, y[i * dy + j]);
    }
    int ncl = p->n_classes;
    int *lab = NULL;
    double *xtr = NULL, *ytr = NULL, *xte = NULL, *yte = NULL, *onehot = NULL;
    int *ltr = NULL, *lte = NULL;
    size_t *tr = NULL, *te = NULL;
    ndyn_linreg *m = NULL;
    if (p->classify) {
        lab = ndyn_malloc_array(n, sizeof *lab);
        if (!lab) return NDYN_ENOMEM;
        for (size_t i = 0; i < n; i++) lab[i] = 0;
        /* Convert only used rows; others may hold anything finite or not. */
        double *tmp = ndyn_malloc_array(n, sizeof *tmp);
        if (!tmp) {
            free(lab);
            return NDYN_ENOMEM;
        }
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
            if (fold[i] != NDYN_FOLD_SKIP) tmp[u++] = y[i];
        int *tl = ndyn_malloc_array(u ? u : 1, sizeof *tl);
        if (!tl) {
            free(tmp);
            free(lab);
            return NDYN_ENOMEM;
        }
        rc = labels_from_double(tmp, u, &ncl, tl);
        for (size_t i = 0, v = 0; !rc && i < n; i++)
            if (fold[i] != NDYN_FOLD_SKIP) lab[i] = tl[v++];
        free(tmp);
        free(tl);
        if (rc) goto done;
        if (ncl < 1) {
            rc = ndyn_error(NDYN_EINVAL, "decode: no class labels");
            goto done;
        }
    }
    const size_t dt = p->classify ? (size_t)ncl : dy; /* regression target width */
    tr = ndyn_malloc_array(n, sizeof *tr);
    te = ndyn_malloc_array(n, sizeof *te);
    xtr = ndyn_malloc_array(n * d, sizeof *xtr);
    xte = ndyn_malloc_array(n * d, sizeof *xte);
    ytr = ndyn_malloc_array(n * dt, sizeof *ytr);
    yte = ndyn_malloc_array(n * dt, sizeof *yte);
    ltr = ndyn_malloc_array(n, sizeof *ltr);
    lte = ndyn_malloc_array(n, sizeof *lte);
    if (!tr || !te || !xtr || !xte || !ytr || !yte || !ltr || !lte) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n * dy; i++) pred[i] = NAN;
    for (int f = 0; f < nfolds; f++) {
        if (lambda_used) lambda_used[f] = NAN;
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == NDYN_FOLD_SKIP) continue;
            if (fold[i] == f) te[nte++] = i;
            else tr[ntr++] = i;
        }
        if (nte == 0) continue;
        if (ntr < 2) {
            rc = ndyn_error(NDYN_EINVAL, "decode: fold %d leaves %zu training rows; need at least 2", f, ntr);
            goto done;
        }
        for (size_t a = 0; a < ntr; a++) {
            memcpy(xtr + a * d, x + tr[a] * d, d * sizeof *x);
            if (p->classify) {
                ltr[a] = lab[tr[a]];
                for (size_t c = 0; c < dt; c++) ytr[a * dt + c] = c == (size_t)ltr[a] ? 1.0 : 0.0;
            } else {
                memcpy(ytr + a * dt, y + tr[a] * dy, dy * sizeof *y);
            }
        }
        for (size_t a = 0; a < nte; a++) memcpy(xte + a * d, x + te[a] * d, d * sizeof *x);
        if (p->kind == NDYN_DECODER_KNN) {
            if (p->k > ntr) {
                rc = ndyn_error(NDYN_EINVAL, "decode: k = %zu exceeds the %zu training rows of fold %d; lower --k",
                                p->k, ntr, f);
                goto done;
            }
            if (p->classify) {
                if ((rc = ndyn_knn_classify(xtr, ltr, ntr, d, ncl, xte, nte, p->k, p->dist, lte))) goto done;
                for (size_t a = 0; a < nte; a++) pred[te[a]] = (double)lte[a];
            } else {
                if ((rc = ndyn_knn_regress(xtr, ytr, ntr, d, dy, xte, nte, p->k, p->dist, yte))) goto done;
                for (size_t a = 0; a < nte; a++) memcpy(pred + te[a] * dy, yte + a * dy, dy * sizeof *y);
            }
        } else {
            double lam = p->lambda;
            if (lam < 0) {
                size_t inner = p->inner_folds ? p->inner_folds : 5;
                if (ntr < 2 * inner) inner = ntr / 2;
                if (inner < 2) {
                    rc = ndyn_error(NDYN_EINVAL, "decode: fold %d has %zu training rows, too few to choose the penalty; "
                                    "give a fixed lambda", f, ntr);
                    goto done;
                }
                rc = ndyn_linreg_fit_cv(xtr, ytr, ntr, d, dt, NULL, 0, inner, &lam, NULL, &m);
            } else {
                rc = ndyn_linreg_fit(xtr, ytr, ntr, d, dt, lam, &m);
            }
            if (rc) goto done;
            if (lambda_used) lambda_used[f] = lam;
            if ((rc = ndyn_linreg_predict(m, xte, nte, yte))) goto done;
            ndyn_linreg_free(m);
            m = NULL;
            for (size_t a = 0; a < nte; a++) {
                if (p->classify) {
                    size_t bc = 0;
                    for (size_t c = 1; c < dt; c++)
                        if (yte[a * dt + c] > yte[a * dt + bc]) bc = c;
                    pred[te[a]] = (double)bc;
                } else {
                    memcpy(pred + te[a] * dy, yte + a * dy, dy * sizeof *y);
                }
            }
        }
    }
    rc = NDYN_OK;
done:
    ndyn_linreg_free(m);
    free(lab);
    free(tr);
    free(te);
    free(xtr);
    free(xte);
    free(ytr);
    free(yte);
    free(ltr);
    free(lte);
    free(onehot);
    return rc;
}
