/* libFuzzer target for the .npy readers: ndyn_npy_read_mem (numbers) and
 * ndyn_npy_read_text_mem (unicode strings) on arbitrary bytes. Neither may
 * crash, leak or hang; an array that is read must survive a write/read round
 * trip bit for bit. Run: scripts/fuzz build-fuzz SECONDS. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ndyn_set_quiet(1);
    ndyn_array *a = NULL;
    if (ndyn_npy_read_mem(data, size, &a) == NDYN_OK) {
        void *buf = NULL;
        size_t len = 0;
        if (ndyn_npy_write_mem(a, &buf, &len) != NDYN_OK) abort();
        ndyn_array *b = NULL;
        if (ndyn_npy_read_mem(buf, len, &b) != NDYN_OK) abort();
        if (b->dtype != a->dtype || b->ndim != a->ndim || b->size != a->size ||
            memcmp(b->shape, a->shape, sizeof a->shape) != 0 ||
            memcmp(b->data, a->data, ndyn_array_nbytes(a)) != 0)
            abort();
        ndyn_array_free(b);
        free(buf);
        ndyn_array_free(a);
    } else if (a != NULL) {
        abort(); /* a failed read must not hand out an array */
    }
    char *text = NULL;
    if (ndyn_npy_read_text_mem(data, size, &text) == NDYN_OK) {
        /* Written back and read again, the text is unchanged (it is valid UTF-8). */
        void *buf = NULL;
        size_t len = 0;
        if (ndyn_npy_write_text_mem(text, &buf, &len) != NDYN_OK) abort();
        char *again = NULL;
        if (ndyn_npy_read_text_mem(buf, len, &again) != NDYN_OK) abort();
        /* NUL characters inside a string end it, so compare the shorter form. */
        if (strcmp(again, text) != 0) abort();
        free(again);
        free(buf);
        free(text);
    } else if (text != NULL) {
        abort();
    }
    return 0;
}
