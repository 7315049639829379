/* berth-shim: the per-container monitor berthd starts.  Only argument
 * parsing lives here; the contract is in src/shim/shim.h. */
#include "shim/shim.h"
#include "util/log.h"
#include "util/util.h"
#include <getopt.h>
#include <stdio.h>

static void print_usage(void)
{
        puts("usage: berth-shim --id ID --bundle DIR --runtime-root DIR --state-dir DIR --log FILE\n"
             "                  [--log-max-size BYTES] [--log-max-files N] [--tty] [--stdin] [--keep-stdin]\n"
             "                  [--exit-file FILE] [--runtime PATH]\n"
             "Creates the container, detaches, and monitors it; part of Berth.");
}

/* "10m", "512k", "1g", "2048": bytes, as Docker's max-size takes them. */
static long long parse_size(const char *s)
{
        char *end;
        long long v = strtoll(s, &end, 10);

        if (end == s || v < 0)
                return -1;
        switch (*end) {
        case 'k': case 'K': v <<= 10; end++; break;
        case 'm': case 'M': v <<= 20; end++; break;
        case 'g': case 'G': v <<= 30; end++; break;
        default: break;
        }
        if (*end == 'b' || *end == 'B')
                end++;
        return *end ? -1 : v;
}

static int parse_args(int argc, char **argv, struct shim_opts *o, berth_error_t **err)
{
        static const struct option opts[] = {
                { "id", required_argument, NULL, 'i' },          { "bundle", required_argument, NULL, 'b' },
                { "runtime-root", required_argument, NULL, 'r' }, { "state-dir", required_argument, NULL, 's' },
                { "log", required_argument, NULL, 'l' },         { "log-max-size", required_argument, NULL, 'm' },
                { "log-max-files", required_argument, NULL, 'n' }, { "tty", no_argument, NULL, 't' },
                { "stdin", no_argument, NULL, 'I' },             { "keep-stdin", no_argument, NULL, 'k' },
                { "exit-file", required_argument, NULL, 'e' },   { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'v' },           { "runtime", required_argument, NULL, 'R' },
                { NULL, 0, NULL, 0 },
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'i': o->id = optarg; break;
                case 'b': o->bundle = optarg; break;
                case 'r': o->runtime_root = optarg; break;
                case 's': o->state_dir = optarg; break;
                case 'l': o->log_path = optarg; break;
                case 'e': o->exit_file = optarg; break;
                case 'R': o->runtime = optarg; break;
                case 't': o->tty = true; break;
                case 'I': o->open_stdin = true; break;
                case 'k': o->keep_stdin = true; break;
                case 'm':
                        if ((o->log_max_size = parse_size(optarg)) < 0)
                                return berth_error(err, 0, "--log-max-size: bad size \"%s\"", optarg);
                        break;
                case 'n':
                        if ((o->log_max_files = (int)parse_ll(optarg)) < 1)
                                return berth_error(err, 0, "--log-max-files: expects a number >= 1: \"%s\"", optarg);
                        break;
                case 'h': print_usage(); exit(0);
                case 'v': printf("berth-shim version %s\n", BERTH_VERSION); exit(0);
                default: return berth_error(err, 0, "%s: unknown option or missing value", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return berth_error(err, 0, "unexpected argument \"%s\"", argv[optind]);
        if (!o->id || !o->bundle || !o->runtime_root || !o->state_dir || !o->log_path)
                return berth_error(err, 0, "--id, --bundle, --runtime-root, --state-dir and --log are required");
        return 0;
}

int main(int argc, char **argv)
{
        struct shim_opts o = { .log_max_files = 1 };
        berth_error_t *err = NULL;

        berth_log_set_program("berth-shim");
        if (parse_args(argc, argv, &o, &err) == 0)
                shim_launch(&o, &err);
        if (err) {
                berth_error_print("berth-shim", err);
                berth_error_free(&err);
                return 1;
        }
        return 0;
}
