/* libFuzzer target for the model-file reader (src/nn/model_file.c). The
 * input supplies the two text members of a model file: bytes up to the
 * first NUL are the `meta` text, the rest the `hparams` text; the harness
 * wraps them in a valid .npz with two parameter arrays ("param/a" (2, 3)
 * and "param/b" scalar) and reads it back, then loads it into a matching
 * store. Nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ndyn/io.h"
#include "ndyn/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz_nnmodel_%d.npz", (int)getpid());
    ndyn_set_quiet(1);
    const uint8_t *z = memchr(data, 0, size);
    size_t ml = z ? (size_t)(z - data) : size;
    size_t hl = z ? size - ml - 1 : 0;
    size_t s23[2] = {2, 3};
    uint8_t dummy = 0;
    ndyn_array *meta = ndyn_array_view(NDYN_U8, 1, &ml, ml ? (void *)data : &dummy);
    ndyn_array *hp = ndyn_array_view(NDYN_U8, 1, &hl, hl ? (void *)(z + 1) : &dummy);
    ndyn_array *a = ndyn_array_alloc(NDYN_F64, 2, s23);
    ndyn_array *b = ndyn_array_alloc(NDYN_F64, 0, NULL);
    const char *names[4] = {"meta", "hparams", "param/a", "param/b"};
    const ndyn_array *arrs[4] = {meta, hp, a, b};
    if (meta && hp && a && b && ndyn_npz_write(path, 4, names, arrs, 0) == 0) {
        ndyn_nn_file *f = NULL;
        if (ndyn_nn_file_read(path, NULL, &f) == 0) {
            ndyn_nn_store *s = ndyn_nn_store_new();
            ndyn_nn_store_add(s, "a", 2, s23, 0, NULL);
            ndyn_nn_store_add(s, "b", 0, NULL, 0, NULL);
            ndyn_nn_file_load_store(f, s);
            ndyn_nn_optim_params p;
            ndyn_nn_optim_params_default(&p, NDYN_NN_ADAM);
            ndyn_nn_optim *o = NULL;
            if (ndyn_nn_optim_alloc(&p, s, &o) == 0) ndyn_nn_file_load_optim(f, s, o);
            ndyn_nn_sched sc;
            ndyn_nn_file_load_sched(f, &sc);
            ndyn_nn_optim_free(o);
            ndyn_nn_store_free(s);
            ndyn_nn_file_free(f);
        }
    }
    ndyn_array_free(meta);
    ndyn_array_free(hp);
    ndyn_array_free(a);
    ndyn_array_free(b);
    return 0;
}
