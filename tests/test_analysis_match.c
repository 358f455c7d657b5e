/* Hungarian assignment and label matching against brute-force enumeration
 * and hand-computed cases (ties, more states than labels and vice versa). */
#include "test.h"

#include "ndyn/analysis.h"

/* Best total over every injective map of the smaller side into the larger. */
static double brute_rec(const double *c, size_t nr, size_t nc, int transpose, size_t i,
                        unsigned used, int maximize)
{
    size_t ns = transpose ? nc : nr, nb = transpose ? nr : nc;
    if (i == ns) return 0.0;
    double best = maximize ? -INFINITY : INFINITY;
    for (size_t j = 0; j < nb; j++) {
        if (used & (1u << j)) continue;
        double v = transpose ? c[j * nc + i] : c[i * nc + j];
        double t = v + brute_rec(c, nr, nc, transpose, i + 1, used | (1u << j), maximize);
        if (maximize ? t > best : t < best) best = t;
    }
    return best;
}

static double brute(const double *c, size_t nr, size_t nc, int maximize)
{
    return brute_rec(c, nr, nc, nr > nc, 0, 0u, maximize);
}

TEST(hungarian_hand_square)
{
    /* 4 1 3 / 2 0 5 / 3 2 2: optimum rows -> columns 1, 0, 2, total 5. */
    const double c[9] = {4, 1, 3, 2, 0, 5, 3, 2, 2};
    int a[3];
    double tot;
    CHECK_OK(ndyn_hungarian(c, 3, 3, 0, a, &tot));
    CHECK(a[0] == 1 && a[1] == 0 && a[2] == 2);
    CHECK_CLOSE(tot, 5.0, 0, 0);
    /* Maximum: 4 + 5 + 2 = 11 (0->0, 1->2, 2->1 gives 4+5+2). */
    CHECK_OK(ndyn_hungarian(c, 3, 3, 1, a, &tot));
    CHECK_CLOSE(tot, 11.0, 0, 0);
}

TEST(hungarian_rectangular_hand)
{
    /* 2 rows, 3 columns: rows take columns 2 and 0 (1 + 2 = 3). */
    const double c[6] = {5, 4, 1, 2, 3, 9};
    int a[3];
    double tot;
    CHECK_OK(ndyn_hungarian(c, 2, 3, 0, a, &tot));
    CHECK(a[0] == 2 && a[1] == 0);
    CHECK_CLOSE(tot, 3.0, 0, 0);
    /* Its transpose, 3 rows and 2 columns: row 1 is left out. */
    const double ct[6] = {5, 2, 4, 3, 1, 9};
    CHECK_OK(ndyn_hungarian(ct, 3, 2, 0, a, &tot));
    CHECK(a[0] == 1 && a[1] == -1 && a[2] == 0);
    CHECK_CLOSE(tot, 3.0, 0, 0);
}

TEST(hungarian_equals_brute_force)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 7, 0);
    double c[64];
    int a[8];
    for (int trial = 0; trial < 400; trial++) {
        size_t nr = 1 + ndyn_rng_below(&r, 6), nc = 1 + ndyn_rng_below(&r, 6);
        int ints = trial % 2; /* half the cases with small integers: many ties */
        for (size_t t = 0; t < nr * nc; t++)
            c[t] = ints ? (double)ndyn_rng_below(&r, 3) : ndyn_rng_normal(&r);
        for (int mx = 0; mx < 2; mx++) {
            double tot;
            CHECK_OK(ndyn_hungarian(c, nr, nc, mx, a, &tot));
            /* Valid: distinct columns, min(nr, nc) rows assigned, total consistent. */
            unsigned used = 0;
            size_t assigned = 0;
            double s = 0;
            for (size_t i = 0; i < nr; i++) {
                if (a[i] < 0) continue;
                CHECK(a[i] < (int)nc);
                CHECK(!(used & (1u << a[i])));
                used |= 1u << a[i];
                assigned++;
                s += c[i * nc + (size_t)a[i]];
            }
            CHECK(assigned == (nr < nc ? nr : nc));
            CHECK_CLOSE(s, tot, 1e-12, 0);
            CHECK_CLOSE(tot, brute(c, nr, nc, mx), 1e-12, 1e-12);
        }
    }
}

TEST(hungarian_bad_input)
{
    double c[4] = {1, NAN, 2, 3};
    int a[2];
    CHECK_FAILS(ndyn_hungarian(c, 2, 2, 0, a, NULL), NDYN_ENONFINITE);
    CHECK_FAILS(ndyn_hungarian(c, 0, 2, 0, a, NULL), NDYN_EINVAL);
}

TEST(match_more_states_than_labels)
{
    /* Contingency (state x label): s0 [1 2], s1 [3 0], s2 [1 3]. Best
     * one-to-one: s1 -> 0, s2 -> 1, 6 of 10 right; s0 unmatched. */
    const int st[10] = {0, 0, 0, 1, 1, 2, 2, 2, 2, 1};
    const int lb[10] = {1, 1, 0, 0, 0, 1, 1, 1, 0, 0};
    int map[3];
    double sc;
    CHECK_OK(ndyn_match_labels(st, lb, 10, 3, 2, NDYN_MATCH_ACCURACY, map, &sc));
    CHECK(map[0] == -1 && map[1] == 0 && map[2] == 1);
    CHECK_CLOSE(sc, 0.6, 1e-15, 0);
    /* Both labels have 5 points: balanced accuracy (3/5 + 3/5)/2 = 0.6. */
    CHECK_OK(ndyn_match_labels(st, lb, 10, 3, 2, NDYN_MATCH_BALANCED, map, &sc));
    CHECK(map[0] == -1 && map[1] == 0 && map[2] == 1);
    CHECK_CLOSE(sc, 0.6, 1e-15, 0);
}

TEST(match_fewer_states_than_labels)
{
    /* 2 states, 3 labels: s0 mostly label 2, s1 mostly label 0; label 1 unmatched. */
    const int st[8] = {0, 0, 0, 1, 1, 1, 0, 1};
    const int lb[8] = {2, 2, 1, 0, 0, 1, 2, 2};
    int map[2];
    double sc;
    CHECK_OK(ndyn_match_labels(st, lb, 8, 2, 3, NDYN_MATCH_ACCURACY, map, &sc));
    CHECK(map[0] == 2 && map[1] == 0);
    CHECK_CLOSE(sc, 5.0 / 8.0, 1e-15, 0);
}

TEST(match_ties)
{
    /* Symmetric contingency [2 2; 2 2]: every map scores 4/8; the result must
     * be a valid permutation with that score. */
    const int st[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    const int lb[8] = {0, 0, 1, 1, 0, 0, 1, 1};
    int map[2];
    double sc;
    CHECK_OK(ndyn_match_labels(st, lb, 8, 2, 2, NDYN_MATCH_ACCURACY, map, &sc));
    CHECK(map[0] != map[1] && map[0] >= 0 && map[1] >= 0);
    CHECK_CLOSE(sc, 0.5, 1e-15, 0);
}

TEST(match_balanced_differs_from_accuracy)
{
    /* 8 points of label 0, 2 of label 1. Contingency s0 [1 0], s1 [7 2].
     * Accuracy: s1 -> 0, s0 -> 1 gets 7/10. Balanced: s0 -> 0, s1 -> 1 gets
     * (1/8 + 2/2)/2 = 0.5625 against (7/8 + 0)/2 = 0.4375. */
    const int lb[10] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    const int st[10] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    int map[2];
    double sc;
    CHECK_OK(ndyn_match_labels(st, lb, 10, 2, 2, NDYN_MATCH_ACCURACY, map, &sc));
    CHECK(map[0] == 1 && map[1] == 0);
    CHECK_CLOSE(sc, 0.7, 1e-15, 0);
    CHECK_OK(ndyn_match_labels(st, lb, 10, 2, 2, NDYN_MATCH_BALANCED, map, &sc));
    CHECK(map[0] == 0 && map[1] == 1);
    CHECK_CLOSE(sc, 0.5625, 1e-15, 0);
    /* The score equals the balanced accuracy of the relabelled states. */
    int rel[10];
    for (int i = 0; i < 10; i++) rel[i] = map[st[i]];
    double ba;
    CHECK_OK(ndyn_metric_balanced_accuracy(lb, rel, 10, 2, &ba));
    CHECK_CLOSE(ba, sc, 1e-15, 0);
}

TEST(match_bad_labels)
{
    const int st[3] = {0, 1, 3};
    const int lb[3] = {0, 1, 1};
    int map[3];
    CHECK_FAILS(ndyn_match_labels(st, lb, 3, 3, 2, NDYN_MATCH_ACCURACY, map, NULL), NDYN_EINVAL);
    CHECK_FAILS(ndyn_match_labels(st, lb, 0, 3, 2, NDYN_MATCH_ACCURACY, map, NULL), NDYN_EINVAL);
}

RUN_TESTS(T(hungarian_hand_square), T(hungarian_rectangular_hand), T(hungarian_equals_brute_force),
          T(hungarian_bad_input), T(match_more_states_than_labels), T(match_fewer_states_than_labels),
          T(match_ties), T(match_balanced_differs_from_accuracy), T(match_bad_labels))
