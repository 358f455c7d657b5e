/* The hyper-parameter list's layout and text form, shared by hparams.c and
 * model_file.c. */
#ifndef NDYN_NN_HPARAMS_INTERNAL_H
#define NDYN_NN_HPARAMS_INTERNAL_H

#include "ndyn/nn.h"

enum { NN_HP_NUM = 0, NN_HP_INT = 1, NN_HP_STR = 2 };

typedef struct nn_hp_item {
    char *key;
    int type;
    double num;
    int64_t i;
    char *str;
} nn_hp_item;

struct ndyn_nn_hparams {
    size_t n, cap;
    nn_hp_item *items;
};

int nn_hparams_to_text(const ndyn_nn_hparams *h, char **out, size_t *len);
int nn_hparams_from_text(const char *text, size_t len, ndyn_nn_hparams **out);

#endif
