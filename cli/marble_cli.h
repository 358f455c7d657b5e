/* Verbs of `ndyn marble`, one file each (cli/marble_<verb>.c). */
#ifndef NDYN_MARBLE_CLI_H
#define NDYN_MARBLE_CLI_H

int marble_prepare(int argc, char **argv);

#endif
