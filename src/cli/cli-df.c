/* berth system df and system prune.  df computes docker's summary from
 * GET /system/df exactly as docker CLI 28 does (active images are those
 * with containers, reclaimable is what no running container holds); -v
 * prints the per-object tables.  prune runs the prunes docker runs, in
 * its order, and adds up what they reclaimed. */
#include "cli/cli.h"
#include <time.h>

static const char *str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
        return (long long)json_integer_value(json_object_get(o, key));
}

/* "1.982MB (100%)", or the size alone when the total is 0. */
static char *reclaimable_text(long long reclaimable, long long total, bool percent)
{
        _cleanup_free_ char *h = human_size4((double)reclaimable);

        if (percent && total > 0)
                return xasprintf("%s (%lld%%)", h, reclaimable * 100 / total);
        return xstrdup(h);
}

static json_t *summary_row(const char *type, long long count, long long active, long long size, char *reclaimable)
{
        _cleanup_free_ char *c = xasprintf("%lld", count), *a = xasprintf("%lld", active);
        _cleanup_free_ char *s = human_size4((double)size), *r = reclaimable;

        return json_pack("{s:s, s:s, s:s, s:s, s:s}", "Active", a, "Reclaimable", r, "Size", s, "TotalCount", c,
                         "Type", type);
}

static json_t *images_summary(json_t *df)
{
        json_t *images = json_object_get(df, "Images"), *i;
        long long total = num(df, "LayersSize"), used = 0, active = 0;
        size_t k;

        json_array_foreach(images, k, i) {
                if (num(i, "Containers") == 0)
                        continue;
                active++;
                if (num(i, "Size") != -1 && num(i, "SharedSize") != -1)
                        used += num(i, "Size") - num(i, "SharedSize");
        }
        return summary_row("Images", (long long)json_array_size(images), active, total,
                           reclaimable_text(total - used, total, true));
}

static bool container_active(json_t *ct)
{
        const char *state = str(ct, "State");
        return strstr(state, "running") || strstr(state, "paused") || strstr(state, "restarting");
}

static json_t *containers_summary(json_t *df)
{
        json_t *cts = json_object_get(df, "Containers"), *ct;
        long long size = 0, reclaimable = 0, active = 0;
        size_t k;

        json_array_foreach(cts, k, ct) {
                size += num(ct, "SizeRw");
                if (container_active(ct))
                        active++;
                else
                        reclaimable += num(ct, "SizeRw");
        }
        return summary_row("Containers", (long long)json_array_size(cts), active, size,
                           reclaimable_text(reclaimable, size, true));
}

static json_t *volumes_summary(json_t *df)
{
        json_t *vols = json_object_get(df, "Volumes"), *v;
        long long size = 0, reclaimable = 0, active = 0;
        size_t k;

        json_array_foreach(vols, k, v) {
                json_t *u = json_object_get(v, "UsageData");
                long long s = num(u, "Size");
                if (num(u, "RefCount") > 0)
                        active++;
                if (s == -1)
                        continue;
                size += s;
                if (num(u, "RefCount") == 0)
                        reclaimable += s;
        }
        return summary_row("Local Volumes", (long long)json_array_size(vols), active, size,
                           reclaimable_text(reclaimable, size, true));
}

static json_t *cache_summary(json_t *df)
{
        json_t *cache = json_object_get(df, "BuildCache"), *b;
        long long size = num(df, "BuilderSize"), in_use = 0, active = 0;
        size_t k;

        json_array_foreach(cache, k, b) {
                if (!json_is_true(json_object_get(b, "InUse")))
                        continue;
                active++;
                if (!json_is_true(json_object_get(b, "Shared")))
                        in_use += num(b, "Size");
        }
        return summary_row("Build Cache", (long long)json_array_size(cache), active, size,
                           reclaimable_text(size - in_use, size, false));
}

static json_t *image_row(json_t *i)
{
        json_t *tags = json_object_get(i, "RepoTags");
        const char *first = json_string_value(json_array_get(tags, 0));
        _cleanup_free_ char *repo = xstrdup("<none>"), *tag = xstrdup("<none>");
        long long size = num(i, "Size"), shared = num(i, "SharedSize"), created = num(i, "Created");
        _cleanup_free_ char *id = short_id(str(i, "Id")), *dur = human_duration((long long)time(NULL) - created);
        _cleanup_free_ char *since = xasprintf("%s ago", dur), *sz = human_size((double)size);
        _cleanup_free_ char *sh = shared == -1 ? xstrdup("N/A") : human_size4((double)shared);
        _cleanup_free_ char *uq = shared == -1 ? xstrdup("N/A") : human_size4((double)(size - shared));
        _cleanup_free_ char *nc = num(i, "Containers") == -1 ? xstrdup("N/A") : xasprintf("%lld", num(i, "Containers"));

        /* the first tag only, unless the image is dangling */
        if (first && strcmp(first, "<none>:<none>") != 0) {
                _cleanup_error_ berth_error_t *err = NULL;
                struct cli_ref r;
                if (cli_ref_parse(first, &r, &err) == 0 && r.tag) {
                        free(repo);
                        free(tag);
                        repo = cli_ref_familiar_name(r.name);
                        tag = xstrdup(r.tag);
                }
                if (err == NULL)
                        cli_ref_free(&r);
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository", repo, "Tag", tag, "ID", id,
                         "CreatedSince", since, "Size", sz, "SharedSize", sh, "UniqueSize", uq, "Containers", nc);
}

static void print_rows(json_t *rows, const char *const *cols, const char *const *titles, size_t n)
{
        struct table t;
        size_t i;
        json_t *row;

        table_init(&t, n);
        table_addv(&t, (char **)titles);
        json_array_foreach(rows, i, row) {
                _cleanup_free_ char **cells = xcalloc(n, sizeof(char *));
                for (size_t k = 0; k < n; k++)
                        cells[k] = (char *)str(row, cols[k]);
                table_addv(&t, cells);
        }
        table_print(&t, stdout);
        table_free(&t);
}

static void print_verbose(json_t *df)
{
        static const char *const img_cols[] = { "Repository", "Tag", "ID", "CreatedSince", "Size", "SharedSize",
                                                "UniqueSize", "Containers" };
        static const char *const img_titles[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE",
                                                  "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS" };
        static const char *const ct_cols[] = { "ID", "Image", "Command", "LocalVolumes", "Size", "RunningFor",
                                               "Status", "Names" };
        static const char *const ct_titles[] = { "CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE",
                                                 "CREATED", "STATUS", "NAMES" };
        static const char *const vol_cols[] = { "Name", "Links", "Size" };
        static const char *const vol_titles[] = { "VOLUME NAME", "LINKS", "SIZE" };
        static const char *const cache_titles[] = { "CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED",
                                                    "USAGE", "SHARED" };
        _cleanup_json_ json_t *imgs = json_array(), *cts = json_array(), *vols = json_array();
        _cleanup_free_ char *cache = human_size4((double)num(df, "BuilderSize"));
        size_t k;
        json_t *e;

        json_array_foreach(json_object_get(df, "Images"), k, e)
                json_array_append_new(imgs, image_row(e));
        json_array_foreach(json_object_get(df, "Containers"), k, e) {
                /* docker leaves the virtual size out here */
                _cleanup_json_ json_t *copy = json_deep_copy(e);
                json_t *row, *m;
                size_t j, local = 0;
                json_object_del(copy, "SizeRootFs");
                row = cli_container_row(copy, true);
                json_array_foreach(json_object_get(e, "Mounts"), j, m)
                        if (strcmp(str(m, "Driver"), "local") == 0)
                                local++;
                json_object_set_new(row, "LocalVolumes", json_sprintf("%zu", local));
                json_array_append_new(cts, row);
        }
        json_array_foreach(json_object_get(df, "Volumes"), k, e)
                json_array_append_new(vols, cli_volume_row(e));
        printf("Images space usage:\n\n");
        print_rows(imgs, img_cols, img_titles, ARRAY_SIZE(img_cols));
        printf("\nContainers space usage:\n\n");
        print_rows(cts, ct_cols, ct_titles, ARRAY_SIZE(ct_cols));
        printf("\nLocal Volumes space usage:\n\n");
        print_rows(vols, vol_cols, vol_titles, ARRAY_SIZE(vol_cols));
        printf("\nBuild cache usage: %s\n\n", cache);
        print_rows(NULL, cache_titles, cache_titles, ARRAY_SIZE(cache_titles));
}

int cmd_system_df(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "verbose", no_argument, NULL, 'v' },
                { "format", required_argument, NULL, 'F' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        static const char *const cols[] = { "Type", "TotalCount", "Active", "Size", "Reclaimable" };
        static const char *const titles[] = { "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE" };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *df = NULL, *rows = NULL;
        const char *format = NULL;
        bool verbose = false;
        int o;

        while ((o = cli_getopt(argc, argv, ":v", longopts, "system-df")) != -1) {
                switch (o) {
                case 'v': verbose = true; break;
                case 'F': format = optarg; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind < argc)
                return cli_usage_error("system-df", "accepts no arguments");
        if (cli_call_json(c, "GET", "/system/df", NULL, &df, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        if (verbose && (format == NULL || strcmp(format, "table") == 0)) {
                print_verbose(df);
                return 0;
        }
        rows = json_pack("[o, o, o, o]", images_summary(df), containers_summary(df), volumes_summary(df),
                         cache_summary(df));
        if (format && strcmp(format, "table") != 0) {
                _cleanup_json_ json_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", "TYPE", "TotalCount",
                                                          "TOTAL", "Active", "ACTIVE", "Size", "SIZE",
                                                          "Reclaimable", "RECLAIMABLE");
                if (format_print(format, header, rows, &err) < 0) {
                        cli_print_raw(err);
                        return 1;
                }
                return 0;
        }
        print_rows(rows, cols, titles, ARRAY_SIZE(cols));
        return 0;
}

static char *prune_warning(bool all, bool volumes)
{
        return xasprintf("WARNING! This will remove:\n"
                         "  - all stopped containers\n"
                         "  - all networks not used by at least one container\n"
                         "%s"
                         "  - %s\n"
                         "  - %s\n\n"
                         "Are you sure you want to continue?",
                         volumes ? "  - all anonymous volumes not used by at least one container\n" : "",
                         all ? "all images without at least one container associated to them" : "all dangling images",
                         all ? "all build cache" : "unused build cache");
}

/* One prune of system prune: its report printed, its bytes added. */
static int prune_step(struct cli *c, const char *kind, json_t *filters, const char *key, const char *title,
                      long long *total, berth_error_t **err)
{
        _cleanup_json_ json_t *res = NULL;

        if (cli_prune(c, kind, filters, &res, err) < 0)
                return -1;
        *total += strcmp(kind, "images") == 0 ? cli_image_prune_report(res) : cli_prune_report(res, key, title);
        return 0;
}

/* POST /build/prune, sent with "filters=" even when empty (as docker). */
static int prune_cache(struct cli *c, json_t *filters, bool all, long long *total, berth_error_t **err)
{
        _cleanup_json_ json_t *res = NULL;
        _cleanup_free_ char *fs = json_object_size(filters) ? json_dumps(filters, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        _cleanup_free_ char *fq = fs ? cli_escape_query(fs) : xstrdup("");
        _cleanup_free_ char *path = xasprintf("/build/prune?%sfilters=%s", all ? "all=1&" : "", fq);

        if (cli_call_json(c, "POST", path, NULL, &res, err) < 0)
                return -1;
        *total += cli_prune_report(res, "CachesDeleted", "Deleted build cache objects:");
        return 0;
}

int cmd_system_prune(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "all", no_argument, NULL, 'a' },
                { "force", no_argument, NULL, 'f' },
                { "volumes", no_argument, NULL, 'V' },
                { "filter", required_argument, NULL, 'F' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *filters = json_object(), *images = NULL;
        _cleanup_free_ char *warning = NULL;
        bool all = false, force = false, volumes = false;
        long long total = 0;
        int o;

        while ((o = cli_getopt(argc, argv, ":af", longopts, "system-prune")) != -1) {
                switch (o) {
                case 'a': all = true; break;
                case 'f': force = true; break;
                case 'V': volumes = true; break;
                case 'F':
                        if (!cli_filter_add(filters, optarg)) {
                                fprintf(stderr, "bad format of filter (expected name=value)\n");
                                return 125;
                        }
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind < argc)
                return cli_usage_error("system-prune", "accepts no arguments");
        if (volumes && json_object_get(filters, "until")) {
                fprintf(stderr, "ERROR: The \"until\" filter is not supported with \"--volumes\"\n");
                return 1;
        }
        warning = prune_warning(all, volumes);
        if (!force && !cli_confirm(warning))
                return 0;
        images = json_deep_copy(filters);
        cli_filter_add(images, all ? "dangling=false" : "dangling=true");
        if (prune_step(c, "containers", filters, "ContainersDeleted", "Deleted Containers:", &total, &err) < 0 ||
            prune_step(c, "networks", filters, "NetworksDeleted", "Deleted Networks:", &total, &err) < 0 ||
            (volumes && prune_step(c, "volumes", filters, "VolumesDeleted", "Deleted Volumes:", &total, &err) < 0) ||
            prune_step(c, "images", images, NULL, NULL, &total, &err) < 0 ||
            prune_cache(c, filters, all, &total, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        cli_print_reclaimed(total);
        return 0;
}
