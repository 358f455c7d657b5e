/* A program outside ndyn that uses the installed library: simulate, save,
 * load back, check the shape. Built by tests/install/check-install with
 * pkg-config and with CMake's find_package(ndyn). */
#include <stdio.h>

#include <ndyn/io.h>
#include <ndyn/sim.h>

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : "consumer.npz";
    ndyn_sim_switching_params p;
    ndyn_sim_switching_defaults(&p);
    p.trials = 2;
    p.steps = 20;
    ndyn_dataset *ds = NULL, *back = NULL;
    const ndyn_array *y = NULL;
    if (ndyn_sim_switching(&p, &ds) || ndyn_dataset_save(out, ds, 1) ||
        ndyn_dataset_load(out, &back) || ndyn_dataset_get(back, "y", &y)) {
        fprintf(stderr, "consumer: %s\n", ndyn_errmsg());
        return 1;
    }
    int ok = y->ndim == 3 && y->shape[0] == 2 && y->shape[1] == 20 && y->shape[2] == p.Y;
    printf("consumer: ndyn %s, y %s\n", NDYN_VERSION_STRING, ok ? "ok" : "has the wrong shape");
    ndyn_dataset_free(ds);
    ndyn_dataset_free(back);
    return ok ? 0 : 1;
}
