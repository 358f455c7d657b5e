/* ndyn: the command-line tool. Dispatches to one function per subcommand. */
#include "cli.h"

#include <string.h>

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command;

static const command k_commands[] = {
#define NDYN_COMMAND(name, fn, summary) {name, fn, summary},
#include "commands.def"
#undef NDYN_COMMAND
    {NULL, NULL, NULL}};
static const size_t k_ncommands = sizeof k_commands / sizeof k_commands[0] - 1;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ndyn [--version] [--help] <command> [options]\n"
            "\n"
            "Infer the dynamics of neural populations: MARBLE (local flow fields on\n"
            "neural manifolds, compared by optimal transport) and SRNN (switching\n"
            "recurrent neural networks).\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < k_ncommands; i++)
        fprintf(f, "  %-12s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(f,
            "\n"
            "Run 'ndyn <command> --help' for the options of a command.\n"
            "Exit status: 0 success, 1 run-time failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) {
        if (argc >= 3 && strcmp(c, "help") == 0) {
            for (size_t i = 0; i < k_ncommands; i++)
                if (!strcmp(argv[2], k_commands[i].name)) {
                    char *args[] = {argv[2], "--help", NULL};
                    cli_reset_getopt();
                    return k_commands[i].fn(2, args);
                }
        }
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(c, "--version") || !strcmp(c, "-V")) {
        printf("ndyn %s\n", NDYN_VERSION_STRING);
        return CLI_OK;
    }
    for (size_t i = 0; i < k_ncommands; i++) {
        if (!strcmp(c, k_commands[i].name)) {
            cli_reset_getopt();
            return k_commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "ndyn: unknown command '%s'. Run 'ndyn --help' for the list of commands.\n", c);
    return CLI_USAGE;
}
