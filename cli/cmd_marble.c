/* ndyn marble: dispatch to the verbs prepare | fit | embed | distance. */
#include "cli.h"
#include "marble_cli.h"

#include <string.h>

static void marble_usage(FILE *f)
{
    fprintf(f,
            "Usage: ndyn marble <verb> [options]\n"
            "\n"
            "MARBLE: local flow fields on neural manifolds, embedded by geometric deep\n"
            "learning and compared by optimal transport.\n"
            "\n"
            "Verbs:\n"
            "  prepare    point clouds (pos, vel, condition) -> graph and operators (prepared.npz)\n"
            "  fit        train the network on a prepared dataset or raw point clouds\n"
            "  embed      latent embedding of every point with a trained model\n"
            "  distance   optimal-transport distances between conditions\n"
            "\n"
            "Run 'ndyn marble <verb> --help' for the options of a verb.\n");
}

int cmd_marble(int argc, char **argv)
{
    if (argc < 2) {
        marble_usage(stderr);
        return CLI_USAGE;
    }
    const char *verb = argv[1];
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
        marble_usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(verb, "prepare")) return marble_prepare(argc - 1, argv + 1);
    if (!strcmp(verb, "fit")) return marble_fit(argc - 1, argv + 1);
    if (!strcmp(verb, "embed")) return marble_embed(argc - 1, argv + 1);
    if (!strcmp(verb, "distance")) return marble_distance(argc - 1, argv + 1);
    return cli_usage("marble", "unknown verb '%s'; use prepare, fit, embed or distance", verb);
}
