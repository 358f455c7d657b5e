/* Shared helpers of the ndyn command-line tool. The tool is a thin shell over
 * libndyn: it parses options, calls the library and reports errors. */
#ifndef NDYN_CLI_H
#define NDYN_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "ndyn/core.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Declarations of every subcommand's entry point. */
#define NDYN_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef NDYN_COMMAND

/* "ndyn CMD: error: <library message>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *cmd);
/* "ndyn CMD: <message>" plus "Try 'ndyn CMD --help'." on stderr; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Strict number parsing of an option value; on failure print a usage error
 * naming the option and return nonzero. */
int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
/* Comma-separated integers ("32,32") into out[0..*n); max entries cap. */
int cli_parse_int_list(const char *cmd, const char *opt, const char *s, long lo, long hi,
                       long *out, int cap, int *n);
/* Handles options every command shares (-q/--quiet, --threads N). Returns 1 if
 * `c` was one of them (and sets *rc to CLI_USAGE on a bad value). */
enum { CLI_OPT_QUIET = 1000, CLI_OPT_THREADS = 1001 };
#define CLI_COMMON_LONGOPTS {"quiet", no_argument, 0, CLI_OPT_QUIET}, \
                            {"threads", required_argument, 0, CLI_OPT_THREADS}
int cli_common_option(const char *cmd, int c, const char *arg, int *rc);
/* Short options every command accepts; append to the getopt_long option string. */
#define CLI_COMMON_SHORTOPTS "q"
#define CLI_COMMON_HELP \
    "  -q, --quiet          no progress bars or warnings on stderr\n" \
    "      --threads N      worker threads (default: all cores)\n"

/* Reset getopt before a subcommand parses its own arguments. */
void cli_reset_getopt(void);

#endif
