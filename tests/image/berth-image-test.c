/* berth-image-test: drives the image library (src/image, src/storage) from
 * the test suite until the daemon serves it.  Not a product CLI: one
 * command per run, output meant for tests to check.
 *
 *   berth-image-test --root DIR [--insecure HOST]... [--auth-config FILE]
 *                    [--user U --password P] COMMAND ARGS...
 *
 *   pull [--platform P] [--jobs N] [--progress] REF   prints the image id
 *   push [--chunk BYTES] [--progress] NAME [DEST]     prints the manifest digest
 *   images | inspect NAME | history NAME              JSON, as the API answers
 *   tag SRC DST | rmi [-f] NAME
 *   prune [-a] | gc | check
 *   save -o FILE NAME... | load -i FILE | import FILE [REF] [-c CHANGE]...
 *   export-oci DIR NAME...
 *   rootfs-create ID NAME TARGET [--read-only] [--vfs] | rootfs-remove ID TARGET
 *   login HOST USER PASSWORD | logout HOST            (--auth-config file)
 */
#include "image/archive.h"
#include "image/auth-config.h"
#include "image/image.h"
#include "image/imagedb.h"
#include "storage/rootfs.h"
#include "util/log.h"
#include "util/util.h"
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>

#define MAX_LIST 16

struct globals {
        const char *root;
        const char *insecure[MAX_LIST + 1];
        size_t n_insecure;
        struct image_registry_opts reg;
        bool progress;
};

static struct globals g;

static int usage(void)
{
        fprintf(stderr, "usage: berth-image-test --root DIR [--insecure HOST] COMMAND ARGS...\n");
        return 2;
}

static void print_json(json_t *j)
{
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
        puts(s);
        free(s);
        json_decref(j);
}

static void on_progress(void *data, const struct image_progress *p)
{
        (void)data;
        /* byte counts only when asked: they make the output nondeterministic */
        if (strcmp(p->status, "Downloading") == 0 || strcmp(p->status, "Pushing") == 0) {
                if (g.progress)
                        fprintf(stderr, "%s: %s %lld/%lld\n", p->id, p->status, (long long)p->current,
                                (long long)p->total);
                return;
        }
        if (p->id)
                fprintf(stderr, "%s: %s\n", p->id, p->status);
        else
                fprintf(stderr, "%s\n", p->status);
}

static void on_removed(void *data, const char *what, const char *name)
{
        (void)data;
        printf("%s: %s\n", what, name);
}

static int cmd_pull(struct image_store *s, int argc, char **argv, berth_error_t **err)
{
        struct image_pull_opts o = { .reg = g.reg, .progress = on_progress };
        _cleanup_free_ char *id = NULL;
        int c;

        static const struct option longopts[] = {
                { "platform", required_argument, NULL, 'p' },
                { "jobs", required_argument, NULL, 'j' },
                { "progress", no_argument, NULL, 'P' },
                { NULL, 0, NULL, 0 },
        };

        while ((c = getopt_long(argc, argv, "p:j:P", longopts, NULL)) != -1) {
                if (c == 'p')
                        o.platform = optarg;
                else if (c == 'j')
                        o.jobs = (unsigned)atoi(optarg);
                else if (c == 'P')
                        g.progress = true;
                else
                        return usage();
        }
        if (optind + 1 != argc)
                return usage();
        if (image_pull(s, argv[optind], &o, &id, err) < 0)
                return -1;
        puts(id);
        return 0;
}

static int cmd_push(struct image_store *s, int argc, char **argv, berth_error_t **err)
{
        struct image_push_opts o = { .reg = g.reg, .progress = on_progress };
        _cleanup_free_ char *digest = NULL;
        int c;

        static const struct option longopts[] = {
                { "chunk", required_argument, NULL, 'c' },
                { "progress", no_argument, NULL, 'P' },
                { NULL, 0, NULL, 0 },
        };

        while ((c = getopt_long(argc, argv, "c:P", longopts, NULL)) != -1) {
                if (c == 'c')
                        o.chunk_size = (size_t)atol(optarg);
                else if (c == 'P')
                        g.progress = true;
                else
                        return usage();
        }
        if (optind >= argc || argc - optind > 2)
                return usage();
        if (image_push(s, argv[optind], argv[optind + 1], &o, &digest, err) < 0)
                return -1;
        puts(digest);
        return 0;
}

static int cmd_json(struct image_store *s, const char *cmd, int argc, char **argv, berth_error_t **err)
{
        json_t *out = NULL;
        int r;

        if (strcmp(cmd, "images") == 0)
                r = image_list(s, false, &out, err);
        else if (argc != 2)
                return usage();
        else if (strcmp(cmd, "inspect") == 0)
                r = image_inspect(s, argv[1], &out, err);
        else
                r = image_history(s, argv[1], &out, err);
        if (r == 0)
                print_json(out);
        return r;
}

static int cmd_rmi(struct image_store *s, int argc, char **argv, berth_error_t **err)
{
        bool force = argc == 3 && strcmp(argv[1], "-f") == 0;

        if (argc != 2 + force)
                return usage();
        return image_remove(s, argv[argc - 1], force, on_removed, NULL, err);
}

static int cmd_prune(struct image_store *s, int argc, char **argv, berth_error_t **err)
{
        json_t *out;

        if (image_prune(s, argc == 2 && strcmp(argv[1], "-a") == 0, &out, err) < 0)
                return -1;
        print_json(out);
        return 0;
}

static int cmd_gc(struct image_store *s, berth_error_t **err)
{
        struct image_gc_report r;

        if (image_store_gc(s, &r, err) < 0)
                return -1;
        printf("removed %u layer(s), %u blob(s), %llu bytes\n", r.layers, r.blobs, (unsigned long long)r.bytes);
        return 0;
}

static int cmd_check(struct image_store *s, berth_error_t **err)
{
        struct image_check_report r;

        if (image_store_check(s, &r, err) < 0)
                return -1;
        printf("checked %u blob(s), %u image(s), %u layer(s)\n", r.blobs, r.images, r.layers);
        for (size_t i = 0; r.repaired && r.repaired[i]; i++)
                printf("repaired: %s\n", r.repaired[i]);
        if (r.repaired == NULL)
                printf("nothing to repair\n");
        image_check_report_clear(&r);
        return 0;
}

static int cmd_save(struct image_store *s, int argc, char **argv, berth_error_t **err)
{
        _cleanup_close_ int fd = -1;

        if (argc < 4 || strcmp(argv[1], "-o") != 0)
                return usage();
        fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return berth_error(err, errno, "open %s", argv[2]);
        return image_save(s, (const char *const *)argv + 3, fd, err);
}

static int cmd_load(struct image_store *s, int argc, char **argv, berth_error_t **err)
{
        _cleanup_close_ int fd = -1;

        if (argc != 3 || strcmp(argv[1], "-i") != 0)
                return usage();
        fd = strcmp(argv[2], "-") == 0 ? dup(0) : open(argv[2], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open %s", argv[2]);
        return image_load(s, fd, on_removed, NULL, err);
}

static int cmd_import(struct image_store *s, int argc, char **argv, berth_error_t **err)
{
        const char *changes[MAX_LIST + 1] = { 0 };
        const char *message = NULL;
        _cleanup_free_ char *id = NULL;
        _cleanup_close_ int fd = -1;
        size_t n = 0;
        int c;

        while ((c = getopt(argc, argv, "c:m:")) != -1) {
                if (c == 'c' && n < MAX_LIST)
                        changes[n++] = optarg;
                else if (c == 'm')
                        message = optarg;
                else
                        return usage();
        }
        if (optind >= argc || argc - optind > 2)
                return usage();
        fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open %s", argv[optind]);
        if (image_import_tar(s, fd, argv[optind + 1], changes, message, &id, err) < 0)
                return -1;
        puts(id);
        return 0;
}

static int cmd_rootfs(struct image_store *s, const char *cmd, int argc, char **argv, berth_error_t **err)
{
        struct rootfs_opts o = { 0 };

        for (int i = 4; i < argc; i++) {
                if (strcmp(argv[i], "--read-only") == 0)
                        o.read_only = true;
                else if (strcmp(argv[i], "--vfs") == 0)
                        o.force_vfs = true;
        }
        if (strcmp(cmd, "rootfs-create") == 0) {
                if (argc < 4)
                        return usage();
                return rootfs_create(s, argv[1], argv[2], argv[3], &o, err);
        }
        if (argc != 3)
                return usage();
        return rootfs_remove(s, argv[1], argv[2], err);
}

static int cmd_login(int argc, char **argv, berth_error_t **err)
{
        if (strcmp(argv[0], "login") == 0)
                return argc == 4 ? auth_config_set(g.reg.auth_config, argv[1], argv[2], argv[3], err) : usage();
        return argc == 2 ? auth_config_remove(g.reg.auth_config, argv[1], err) : usage();
}

static int run(const char *cmd, int argc, char **argv, berth_error_t **err)
{
        __attribute__((cleanup(image_store_closep))) struct image_store *s = NULL;

        if (strcmp(cmd, "login") == 0 || strcmp(cmd, "logout") == 0)
                return cmd_login(argc, argv, err);
        if (image_store_open(g.root, &s, err) < 0)
                return -1;
        optind = 1;
        if (strcmp(cmd, "pull") == 0)
                return cmd_pull(s, argc, argv, err);
        if (strcmp(cmd, "push") == 0)
                return cmd_push(s, argc, argv, err);
        if (strcmp(cmd, "images") == 0 || strcmp(cmd, "inspect") == 0 || strcmp(cmd, "history") == 0)
                return cmd_json(s, cmd, argc, argv, err);
        if (strcmp(cmd, "tag") == 0)
                return argc == 3 ? image_tag(s, argv[1], argv[2], err) : usage();
        if (strcmp(cmd, "rmi") == 0)
                return cmd_rmi(s, argc, argv, err);
        if (strcmp(cmd, "prune") == 0)
                return cmd_prune(s, argc, argv, err);
        if (strcmp(cmd, "gc") == 0)
                return cmd_gc(s, err);
        if (strcmp(cmd, "check") == 0)
                return cmd_check(s, err);
        if (strcmp(cmd, "save") == 0)
                return cmd_save(s, argc, argv, err);
        if (strcmp(cmd, "load") == 0)
                return cmd_load(s, argc, argv, err);
        if (strcmp(cmd, "import") == 0)
                return cmd_import(s, argc, argv, err);
        if (strcmp(cmd, "export-oci") == 0)
                return argc >= 3 ? image_export_oci(s, (const char *const *)argv + 2, argv[1], err) : usage();
        if (strcmp(cmd, "rootfs-create") == 0 || strcmp(cmd, "rootfs-remove") == 0)
                return cmd_rootfs(s, cmd, argc, argv, err);
        return usage();
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },
                { "insecure", required_argument, NULL, 'i' },
                { "auth-config", required_argument, NULL, 'a' },
                { "user", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'p' },
                { NULL, 0, NULL, 0 },
        };
        _cleanup_error_ berth_error_t *err = NULL;
        int c, r;

        berth_log_set_program("berth-image-test");
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                switch (c) {
                case 'r': g.root = optarg; break;
                case 'i':
                        if (g.n_insecure < MAX_LIST)
                                g.insecure[g.n_insecure++] = optarg;
                        break;
                case 'a': g.reg.auth_config = optarg; break;
                case 'u': g.reg.username = optarg; break;
                case 'p': g.reg.password = optarg; break;
                default: return usage();
                }
        }
        g.reg.insecure = g.insecure;
        if (optind >= argc || (g.root == NULL && strcmp(argv[optind], "login") != 0 &&
                               strcmp(argv[optind], "logout") != 0))
                return usage();
        argv += optind;
        argc -= optind;
        r = run(argv[0], argc, argv, &err);
        if (r == 2)
                return 2;
        if (r < 0) {
                berth_error_print("berth-image-test", err);
                return 1;
        }
        fflush(stdout);
        return 0;
}
