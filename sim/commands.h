/* commands.h — the wfpsim subcommands, one function per command.
 *
 * Convention: argv[0] is the command name ("layers"), options follow; the
 * return value is the process exit code (0 ok, 1 failure, 2 unusable
 * input or usage). Each command lives in sim/cmd_<name>.c. */
#ifndef WFP_COMMANDS_H
#define WFP_COMMANDS_H

/* wfpsim layers [--json] [--compact]: the built-in layers, sorted by id. */
int wfp_cmd_layers(int argc, char **argv);

/* wfpsim classify --policy FILE --layer NAME [FIELD=VALUE...] [--json]
 * [--trace]: one classification against a policy, for people and scripts. */
int wfp_cmd_classify(int argc, char **argv);

/* wfpsim run [--json] [--junit FILE] [--trace] [--shard K/N] PATH...:
 * scenario files and directories; PASS/FAIL lines and "N passed, M failed". */
int wfp_cmd_run(int argc, char **argv);
/* wfpsim check PATH...: validate scenarios without running traffic. */
int wfp_cmd_check(int argc, char **argv);

/* wfpsim replay (--scenario FILE | --policy FILE --local ADDR...) [--json]
 * [--write-permitted F] [--write-dropped F] CAPTURE...: captures through a host. */
int wfp_cmd_replay(int argc, char **argv);
/* wfpsim graph SCENARIO --layer NAME [--packet N] [--journey N] -o OUT: Graphviz pictures. */
int wfp_cmd_graph(int argc, char **argv);
/* wfpsim import DUMP.xml [-o policy.yaml] [--check-weights]: real Windows WFP state. */
int wfp_cmd_import(int argc, char **argv);

#endif
