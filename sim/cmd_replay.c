/* cmd_replay.c — `wfpsim replay`: being written (placeholder that says so). */
#include "commands.h"

#include <stdio.h>

int wfp_cmd_replay(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "wfpsim replay: not available in this build yet\n");
    return 2;
}
