/* cmd_graph.c — `wfpsim graph`: being written (placeholder that says so). */
#include "commands.h"

#include <stdio.h>

int wfp_cmd_graph(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "wfpsim graph: not available in this build yet\n");
    return 2;
}
