/* main.c — the wfpsim command: dispatches to the subcommands of
 * commands.h. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"check", wfp_cmd_check, "validate scenario files without running them"},
    {"classify", wfp_cmd_classify, "classify one set of field values against a policy"},
    {"graph", wfp_cmd_graph, "draw a layer's arbitration or a packet's path (Graphviz)"},
    {"import", wfp_cmd_import, "import a netsh wfp state/filters dump as a policy"},
    {"layers", wfp_cmd_layers, "print the built-in layer catalogue (--json)"},
    {"replay", wfp_cmd_replay, "replay captures through a simulated host"},
    {"run", wfp_cmd_run, "run scenario files and directories (the conformance suite)"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: wfpsim COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'wfpsim COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("wfpsim 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "wfpsim: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
