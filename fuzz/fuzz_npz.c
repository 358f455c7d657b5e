/* libFuzzer target for the .npz reader: ndyn_npz_read_mem on arbitrary
 * bytes (zip headers, zip64 records, data descriptors, deflate streams,
 * the .npy members inside). It may fail but never crash, leak or hang; a
 * dataset that is read must hold consistent entries. Run: scripts/fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ndyn_set_quiet(1);
    ndyn_dataset *ds = NULL;
    if (ndyn_npz_read_mem(data, size, &ds) == NDYN_OK) {
        for (size_t i = 0; i < ds->n; i++) {
            const ndyn_named_array *it = &ds->items[i];
            if (!it->name || !it->name[0]) abort();
            if (!it->array == !it->text) abort(); /* exactly one of the two */
            if (it->array) {
                size_t n = 1;
                for (int d = 0; d < it->array->ndim; d++) n *= it->array->shape[d];
                if (n != it->array->size) abort();
                /* Touch every byte (ASan catches a short buffer). */
                volatile unsigned char s = 0;
                const unsigned char *p = it->array->data;
                for (size_t k = 0; k < ndyn_array_nbytes(it->array); k++) s ^= p[k];
                (void)s;
            }
            if (ndyn_dataset_find(ds, it->name) != it) abort(); /* names are unique */
        }
        ndyn_dataset_free(ds);
    } else if (ds != NULL) {
        abort();
    }
    return 0;
}
