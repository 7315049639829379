/* tmpfs mount options as Docker merges them: its defaults (noexec, nosuid,
 * nodev, rprivate) first, the user's after, and for each flag family
 * (exec/noexec, ro/rw, the propagation modes...) and each key=value the
 * last one wins, in the order given. */
#include "engine/docker-spec-internal.h"

/* Flags in the same family cancel each other. */
static const struct { const char *name; int family; } tmpfs_flags[] = {
        { "ro", 1 },         { "rw", 1 },           { "suid", 2 },          { "nosuid", 2 },
        { "dev", 3 },        { "nodev", 3 },        { "exec", 4 },          { "noexec", 4 },
        { "sync", 5 },       { "async", 5 },        { "dirsync", 6 },       { "remount", 7 },
        { "mand", 8 },       { "nomand", 8 },       { "atime", 9 },         { "noatime", 9 },
        { "diratime", 10 },  { "nodiratime", 10 },  { "relatime", 11 },     { "norelatime", 11 },
        { "strictatime", 12 }, { "nostrictatime", 12 },
        { "private", 13 },   { "rprivate", 13 },    { "shared", 13 },       { "rshared", 13 },
        { "slave", 13 },     { "rslave", 13 },      { "unbindable", 13 },   { "runbindable", 13 },
};

/* The options tmpfs itself takes. */
static const char *const tmpfs_keys[] = { "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol" };

static int flag_family(const char *opt)
{
        for (size_t i = 0; i < ARRAY_SIZE(tmpfs_flags); i++)
                if (strcmp(opt, tmpfs_flags[i].name) == 0)
                        return tmpfs_flags[i].family;
        return 0;
}

static bool key_known(const char *opt)
{
        size_t n = strcspn(opt, "=");

        if (opt[n] != '=')
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(tmpfs_keys); i++)
                if (strlen(tmpfs_keys[i]) == n && strncmp(opt, tmpfs_keys[i], n) == 0)
                        return true;
        return false;
}

/* Does a later option (after index i) override opts[i]? */
static bool overridden(const char *const *opts, size_t n, size_t i)
{
        int fam = flag_family(opts[i]);
        size_t klen = strcspn(opts[i], "=");

        for (size_t j = i + 1; j < n; j++) {
                if (fam ? flag_family(opts[j]) == fam
                        : strncmp(opts[j], opts[i], klen) == 0 && opts[j][klen] == '=')
                        return true;
        }
        return false;
}

/* Far more than any real mount has; keeps the quadratic merge cheap. */
#define TMPFS_MAX_OPTIONS 64

int tmpfs_options_merge(const char *const *opts, size_t n, char ***out, berth_error_t **err)
{
        char **merged;
        size_t k = 0;

        if (n > TMPFS_MAX_OPTIONS)
                return berth_error(err, 0, "too many tmpfs options (at most %d)", TMPFS_MAX_OPTIONS);
        merged = xcalloc(n + 1, sizeof(char *));

        for (size_t i = 0; i < n; i++) {
                if (strcmp(opts[i], "defaults") == 0)
                        continue;
                if (!flag_family(opts[i]) && !key_known(opts[i])) {
                        _cleanup_free_ char *q = printable(opts[i]);
                        strv_free_owned(merged);
                        return berth_error(err, 0, "invalid tmpfs option %s", q);
                }
                if (!overridden(opts, n, i))
                        merged[k++] = xstrdup(opts[i]);
        }
        *out = merged;
        return 0;
}
