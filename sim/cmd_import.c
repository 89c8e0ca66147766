/* cmd_import.c — `wfpsim import`: being written (placeholder that says so). */
#include "commands.h"

#include <stdio.h>

int wfp_cmd_import(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "wfpsim import: not available in this build yet\n");
    return 2;
}
