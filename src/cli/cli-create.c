/* The flags of run and create, turned into the POST /containers/create
 * body exactly as docker CLI 28 builds it: the same fields in the same
 * order, null where docker sends null, so a daemon sees the same request
 * from either client (docker-api-traces/run_rm.txt has the reference). */
#include "cli/cli.h"
#include <ctype.h>

enum {
        OPT_NAME = 0x100, OPT_RM, OPT_ENTRYPOINT, OPT_ENV_FILE, OPT_MOUNT, OPT_TMPFS, OPT_READ_ONLY,
        OPT_NETWORK, OPT_CPUS, OPT_PIDS_LIMIT, OPT_CAP_ADD, OPT_CAP_DROP, OPT_PRIVILEGED, OPT_SECURITY_OPT,
        OPT_INIT, OPT_RESTART, OPT_PLATFORM, OPT_PULL, OPT_DETACH_KEYS, OPT_SIG_PROXY, OPT_STOP_SIGNAL,
        OPT_STOP_TIMEOUT, OPT_DNS, OPT_ADD_HOST, OPT_SHM_SIZE, OPT_IPC, OPT_PID, OPT_UTS, OPT_USERNS,
        OPT_GROUP_ADD, OPT_DOMAINNAME, OPT_EXPOSE, OPT_LOG_DRIVER, OPT_LOG_OPT, OPT_CGROUPNS,
        OPT_MEMORY_SWAP, OPT_MEMORY_RESERVATION, OPT_CPU_SHARES, OPT_CPUSET_CPUS,
        OPT_RUNTIME, OPT_SYSCTL, OPT_OOM_SCORE_ADJ, OPT_DETACH_LONG, OPT_INTERACTIVE_LONG, OPT_TTY_LONG,
        OPT_ULIMIT, OPT_PUBLISH_ALL, OPT_IP, OPT_IP6, OPT_NETWORK_ALIAS, OPT_LINK, OPT_LINK_LOCAL_IP,
        OPT_MAC_ADDRESS, OPT_DNS_SEARCH, OPT_DNS_OPTION,
};

struct flags {
        const char *hostname, *domainname, *user, *workdir, *entrypoint, *restart;
        const char *stop_signal, *ipc, *pid, *uts, *userns, *cgroupns, *log_driver, *runtime;
        bool entrypoint_set, read_only, privileged, init, init_set, stop_timeout_set, publish_all;
        long long memory, memory_swap, memory_reservation, nano_cpus, pids_limit, shm_size, cpu_shares;
        long long stop_timeout, oom_score_adj;
        const char *cpuset_cpus;
        json_t *env, *env_files, *labels, *binds, *volumes, *mounts, *tmpfs, *cap_add, *cap_drop;
        json_t *security_opt, *exposed, *bindings, *dns, *extra_hosts, *group_add, *log_opts, *sysctls;
        json_t *ulimits;
        /* -p and --expose as given: docker reads them after all flags */
        json_t *publish, *expose;
        json_t *dns_search, *dns_options, *links;
        struct cli_netopts net;
        json_t *endpoints;      /* NetworkingConfig.EndpointsConfig, once the flags are read */
};

static int flag_error(const char *cmd, const char *flag, const char *value, const char *why)
{
        return cli_flag_error(cmd, flag, value, why);
}

/* docker's RAMInBytes: "64m", "1.5g", "512k", "100" (binary units). */
long long cli_ram_in_bytes(const char *s)
{
        char *end;
        double v = strtod(s, &end);
        double mult = 1;

        if (end == s || v < 0)
                return -1;
        while (*end == ' ')
                end++;
        switch (tolower((unsigned char)*end)) {
        case 'k': mult = 1024.0; end++; break;
        case 'm': mult = 1024.0 * 1024; end++; break;
        case 'g': mult = 1024.0 * 1024 * 1024; end++; break;
        case 't': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
        case 'p': mult = 1024.0 * 1024 * 1024 * 1024 * 1024; end++; break;
        }
        if (tolower((unsigned char)*end) == 'i' && mult > 1)
                end++;
        if (tolower((unsigned char)*end) == 'b')
                end++;
        if (*end != '\0')
                return -1;
        return (long long)(v * mult);
}

/* --cpus 1.5 -> 1500000000, exactly: decimal digits, no float rounding
 * (docker parses it as a rational number). */
long long cli_nano_cpus(const char *s)
{
        long long whole = 0, frac = 0;
        int digits = 0;
        const char *p = s;

        if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')))
                return -1;
        for (; *p >= '0' && *p <= '9'; p++) {
                whole = whole * 10 + (*p - '0');
                if (whole > 1000000000LL)
                        return -1;
        }
        if (*p == '.') {
                for (p++; *p >= '0' && *p <= '9'; p++) {
                        if (digits < 9) {
                                frac = frac * 10 + (*p - '0');
                                digits++;
                        } else if (*p != '0') {
                                return -1;      /* finer than a nanocpu */
                        }
                }
        }
        if (*p != '\0')
                return -1;
        for (; digits < 9; digits++)
                frac *= 10;
        return whole * 1000000000LL + frac;
}

/* "NET_ADMIN", "net_admin" and "CAP_NET_ADMIN" are one capability. */
static char *cap_name(const char *s)
{
        char *up = xstrdup(s);

        for (char *p = up; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        if (strcmp(up, "ALL") == 0 || str_has_prefix(up, "CAP_"))
                return up;
        char *full = xasprintf("CAP_%s", up);
        free(up);
        return full;
}

/* -e NAME without a value takes NAME from our environment, if set. */
void cli_env_add(json_t *env, const char *kv)
{
        const char *v;

        if (strchr(kv, '=') == NULL && (v = getenv(kv)) != NULL) {
                json_array_append_new(env, json_sprintf("%s=%s", kv, v));
                return;
        }
        json_array_append_new(env, json_string(kv));
}

int cli_env_file(json_t *env, const char *path, berth_error_t **err)
{
        _cleanup_free_ char *data = NULL;
        char *save = NULL;
        size_t len;

        if (read_file(path, &data, &len, err) < 0)
                return -1;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                while (isspace((unsigned char)*line))
                        line++;
                size_t n = strlen(line);
                while (n > 0 && isspace((unsigned char)line[n - 1]))
                        line[--n] = '\0';
                if (*line == '\0' || *line == '#')
                        continue;
                if (*line == '=')
                        return berth_error(err, 0, "invalid environment variable: %s", line);
                cli_env_add(env, line);
        }
        return 0;
}

/* --mount type=bind,source=/a,target=/b,readonly */
static json_t *parse_mount(const char *spec, berth_error_t **err)
{
        _cleanup_free_ char *copy = xstrdup(spec);
        const char *type = "volume", *src = NULL, *dst = NULL, *prop = NULL;
        bool ro = false, nocopy = false;
        long long tsize = -1, tmode = -1;
        char *save = NULL;
        json_t *m;

        for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(kv, '=');
                const char *v = eq ? eq + 1 : NULL;
                if (eq)
                        *eq = '\0';
                if (strcmp(kv, "type") == 0 && v) {
                        type = v;
                } else if ((strcmp(kv, "source") == 0 || strcmp(kv, "src") == 0) && v) {
                        src = v;
                } else if ((strcmp(kv, "target") == 0 || strcmp(kv, "destination") == 0 ||
                            strcmp(kv, "dst") == 0) && v) {
                        dst = v;
                } else if (strcmp(kv, "readonly") == 0 || strcmp(kv, "ro") == 0) {
                        bool ok;
                        ro = cli_bool_arg(v, &ok);
                        if (!ok)
                                return berth_error(err, 0, "invalid value for %s: %s", kv, v), NULL;
                } else if (strcmp(kv, "bind-propagation") == 0 && v) {
                        prop = v;
                } else if (strcmp(kv, "volume-nocopy") == 0) {
                        bool ok;
                        nocopy = cli_bool_arg(v, &ok);
                } else if (strcmp(kv, "tmpfs-size") == 0 && v) {
                        tsize = cli_ram_in_bytes(v);
                } else if (strcmp(kv, "tmpfs-mode") == 0 && v) {
                        tmode = strtoll(v, NULL, 8);
                } else {
                        return berth_error(err, 0, "unexpected key '%s' in '%s'", kv, spec), NULL;
                }
        }
        if (dst == NULL) {
                berth_error(err, 0, "target is required");
                return NULL;
        }
        m = json_pack("{s:s}", "Type", type);
        if (src)
                json_object_set_new(m, "Source", json_string(src));
        json_object_set_new(m, "Target", json_string(dst));
        if (ro)
                json_object_set_new(m, "ReadOnly", json_true());
        if (prop)
                json_object_set_new(m, "BindOptions", json_pack("{s:s}", "Propagation", prop));
        if (nocopy)
                json_object_set_new(m, "VolumeOptions", json_pack("{s:b}", "NoCopy", 1));
        if (tsize >= 0 || tmode >= 0) {
                json_t *t = json_object();
                if (tsize >= 0)
                        json_object_set_new(t, "SizeBytes", json_integer(tsize));
                if (tmode >= 0)
                        json_object_set_new(t, "Mode", json_integer(tmode));
                json_object_set_new(m, "TmpfsOptions", t);
        }
        return m;
}

/* seccomp=FILE sends the profile itself, as docker does: the daemon may
 * not see the client's files. */
static int add_security_opt(json_t *list, const char *opt, berth_error_t **err)
{
        if (str_has_prefix(opt, "seccomp=") && strcmp(opt, "seccomp=unconfined") != 0 &&
            strcmp(opt, "seccomp=builtin") != 0) {
                _cleanup_free_ char *data = NULL;
                _cleanup_json_ json_t *j = NULL;
                size_t len;
                json_error_t jerr;
                if (read_file(opt + strlen("seccomp="), &data, &len, err) < 0)
                        return berth_error_wrap(err, "opening seccomp profile failed");
                j = json_loadb(data, len, 0, &jerr);
                if (j == NULL)
                        return berth_error(err, 0, "compacting json for seccomp profile (%s) failed: %s",
                                           opt + strlen("seccomp="), jerr.text);
                _cleanup_free_ char *compact = json_dumps(j, JSON_COMPACT);
                json_array_append_new(list, json_sprintf("seccomp=%s", compact));
                return 0;
        }
        if (str_has_prefix(opt, "label:") || str_has_prefix(opt, "apparmor:")) {
                /* the old ":" spelling */
                const char *colon = strchr(opt, ':');
                json_array_append_new(list, json_sprintf("%.*s=%s", (int)(colon - opt), opt, colon + 1));
                return 0;
        }
        json_array_append_new(list, json_string(opt));
        return 0;
}

static json_t *str_or_null_array(json_t *a)
{
        return json_array_size(a) ? json_incref(a) : json_null();
}

static json_t *nullable(const char *s)
{
        return json_string(s ? s : "");
}

/* --dns, --dns-search and --add-host, checked and in the form docker
 * sends them. */
static int add_checked(struct flags *f, int opt, const char *v, berth_error_t **err)
{
        char *s = opt == OPT_DNS ? cli_dns_ip(v, err) : opt == OPT_ADD_HOST ? cli_extra_host(v, err)
                                                                            : cli_dns_search(v, err);

        if (s == NULL)
                return -1;
        json_array_append_new(opt == OPT_DNS ? f->dns : opt == OPT_ADD_HOST ? f->extra_hosts : f->dns_search,
                              json_string(s));
        free(s);
        return 0;
}

/* What docker's parse() does once the flags are read, in its order: the
 * MAC address, -p (every published port is also exposed), --expose, and
 * the networks' endpoints. */
static int network_flags(struct flags *f, berth_error_t **err)
{
        size_t i;
        json_t *v;

        if (f->net.mac && *f->net.mac) {
                _cleanup_free_ char *mac = xstrdup(f->net.mac);
                size_t n = strlen(mac);
                while (n > 0 && isspace((unsigned char)mac[n - 1]))
                        mac[--n] = '\0';
                if (!cli_valid_mac(mac + strspn(mac, " \t\n")))
                        return berth_fail(err, 0, "%s is not a valid mac address", f->net.mac);
        }
        json_array_foreach(f->publish, i, v)
                if (cli_publish_add(f->exposed, f->bindings, json_string_value(v), err) < 0)
                        return -1;
        json_array_foreach(f->expose, i, v)
                if (cli_expose_add(f->exposed, json_string_value(v), err) < 0)
                        return -1;
        f->endpoints = cli_netopts_endpoints(&f->net, err);
        return f->endpoints ? 0 : -1;
}

static json_t *build_body(struct flags *f, struct run_opts *o, json_t *cmd)
{
        json_t *body = json_object(), *hc = json_object(), *restart;
        bool attach = !o->detach;
        unsigned rows = 0, cols = 0;
        _cleanup_free_ char *rname = xstrdup("no");
        long long rmax = 0;
        json_t *env = json_array();

        json_array_extend(env, f->env_files);
        json_array_extend(env, f->env);
        if (f->restart && *f->restart) {
                const char *colon = strchr(f->restart, ':');
                free(rname);
                rname = xasprintf("%.*s", (int)(colon ? colon - f->restart : (long)strlen(f->restart)), f->restart);
                if (colon)
                        rmax = parse_ll(colon + 1);
        }
        if (o->tty)
                tty_size(1, &rows, &cols);

        json_object_set_new(body, "Hostname", nullable(f->hostname));
        json_object_set_new(body, "Domainname", nullable(f->domainname));
        json_object_set_new(body, "User", nullable(f->user));
        json_object_set_new(body, "AttachStdin", json_boolean(attach && o->interactive));
        json_object_set_new(body, "AttachStdout", json_boolean(attach));
        json_object_set_new(body, "AttachStderr", json_boolean(attach));
        if (json_object_size(f->exposed))
                json_object_set_new(body, "ExposedPorts", json_sorted_copy(f->exposed));
        json_object_set_new(body, "Tty", json_boolean(o->tty));
        json_object_set_new(body, "OpenStdin", json_boolean(o->interactive));
        json_object_set_new(body, "StdinOnce", json_boolean(attach && o->interactive));
        json_object_set_new(body, "Env", json_array_size(env) ? json_incref(env) : json_null());
        json_object_set_new(body, "Cmd", json_array_size(cmd) ? json_incref(cmd) : json_null());
        json_object_set_new(body, "Image", json_string(o->image));
        json_object_set_new(body, "Volumes", json_sorted_copy(f->volumes));
        json_object_set_new(body, "WorkingDir", nullable(f->workdir));
        if (f->entrypoint_set)
                json_object_set_new(body, "Entrypoint", json_pack("[s]", f->entrypoint));
        else
                json_object_set_new(body, "Entrypoint", json_null());
        json_object_set_new(body, "OnBuild", json_null());
        json_object_set_new(body, "Labels", json_sorted_copy(f->labels));
        if (f->stop_signal)
                json_object_set_new(body, "StopSignal", json_string(f->stop_signal));
        if (f->stop_timeout_set)
                json_object_set_new(body, "StopTimeout", json_integer(f->stop_timeout));
        json_decref(env);

        json_object_set_new(hc, "Binds", str_or_null_array(f->binds));
        json_object_set_new(hc, "ContainerIDFile", json_string(""));
        json_object_set_new(hc, "LogConfig", json_pack("{s:s, s:o}", "Type", f->log_driver ? f->log_driver : "",
                                                       "Config", json_sorted_copy(f->log_opts)));
        json_object_set_new(hc, "NetworkMode", json_string(cli_netopts_mode(&f->net)));
        json_object_set_new(hc, "PortBindings", json_sorted_copy(f->bindings));
        restart = json_pack("{s:s, s:I}", "Name", rname, "MaximumRetryCount", (json_int_t)rmax);
        json_object_set_new(hc, "RestartPolicy", restart);
        json_object_set_new(hc, "AutoRemove", json_boolean(o->rm));
        json_object_set_new(hc, "VolumeDriver", json_string(""));
        json_object_set_new(hc, "VolumesFrom", json_null());
        json_object_set_new(hc, "ConsoleSize", json_pack("[i, i]", (int)rows, (int)cols));
        json_object_set_new(hc, "CapAdd", str_or_null_array(f->cap_add));
        json_object_set_new(hc, "CapDrop", str_or_null_array(f->cap_drop));
        json_object_set_new(hc, "CgroupnsMode", nullable(f->cgroupns));
        json_object_set(hc, "Dns", f->dns);
        json_object_set(hc, "DnsOptions", f->dns_options);
        json_object_set(hc, "DnsSearch", f->dns_search);
        json_object_set_new(hc, "ExtraHosts", str_or_null_array(f->extra_hosts));
        json_object_set_new(hc, "GroupAdd", str_or_null_array(f->group_add));
        json_object_set_new(hc, "IpcMode", nullable(f->ipc));
        json_object_set_new(hc, "Cgroup", json_string(""));
        json_object_set_new(hc, "Links", str_or_null_array(f->links));
        json_object_set_new(hc, "OomScoreAdj", json_integer(f->oom_score_adj));
        json_object_set_new(hc, "PidMode", nullable(f->pid));
        json_object_set_new(hc, "Privileged", json_boolean(f->privileged));
        json_object_set_new(hc, "PublishAllPorts", json_boolean(f->publish_all));
        json_object_set_new(hc, "ReadonlyRootfs", json_boolean(f->read_only));
        json_object_set_new(hc, "SecurityOpt", str_or_null_array(f->security_opt));
        if (json_object_size(f->tmpfs))
                json_object_set_new(hc, "Tmpfs", json_sorted_copy(f->tmpfs));
        json_object_set_new(hc, "UTSMode", nullable(f->uts));
        json_object_set_new(hc, "UsernsMode", nullable(f->userns));
        json_object_set_new(hc, "ShmSize", json_integer(f->shm_size));
        if (json_object_size(f->sysctls))
                json_object_set_new(hc, "Sysctls", json_sorted_copy(f->sysctls));
        if (f->runtime)
                json_object_set_new(hc, "Runtime", json_string(f->runtime));
        json_object_set_new(hc, "Isolation", json_string(""));
        json_object_set_new(hc, "CpuShares", json_integer(f->cpu_shares));
        json_object_set_new(hc, "Memory", json_integer(f->memory));
        json_object_set_new(hc, "NanoCpus", json_integer(f->nano_cpus));
        json_object_set_new(hc, "CgroupParent", json_string(""));
        json_object_set_new(hc, "BlkioWeight", json_integer(0));
        json_object_set_new(hc, "BlkioWeightDevice", json_array());
        json_object_set_new(hc, "BlkioDeviceReadBps", json_array());
        json_object_set_new(hc, "BlkioDeviceWriteBps", json_array());
        json_object_set_new(hc, "BlkioDeviceReadIOps", json_array());
        json_object_set_new(hc, "BlkioDeviceWriteIOps", json_array());
        json_object_set_new(hc, "CpuPeriod", json_integer(0));
        json_object_set_new(hc, "CpuQuota", json_integer(0));
        json_object_set_new(hc, "CpuRealtimePeriod", json_integer(0));
        json_object_set_new(hc, "CpuRealtimeRuntime", json_integer(0));
        json_object_set_new(hc, "CpusetCpus", nullable(f->cpuset_cpus));
        json_object_set_new(hc, "CpusetMems", json_string(""));
        json_object_set_new(hc, "Devices", json_array());
        json_object_set_new(hc, "DeviceCgroupRules", json_null());
        json_object_set_new(hc, "DeviceRequests", json_null());
        json_object_set_new(hc, "MemoryReservation", json_integer(f->memory_reservation));
        json_object_set_new(hc, "MemorySwap", json_integer(f->memory_swap));
        json_object_set_new(hc, "MemorySwappiness", json_integer(-1));
        json_object_set_new(hc, "OomKillDisable", json_false());
        json_object_set_new(hc, "PidsLimit", json_integer(f->pids_limit));
        json_object_set(hc, "Ulimits", f->ulimits);
        json_object_set_new(hc, "CpuCount", json_integer(0));
        json_object_set_new(hc, "CpuPercent", json_integer(0));
        json_object_set_new(hc, "IOMaximumIOps", json_integer(0));
        json_object_set_new(hc, "IOMaximumBandwidth", json_integer(0));
        if (json_array_size(f->mounts))
                json_object_set(hc, "Mounts", f->mounts);
        json_object_set_new(hc, "MaskedPaths", json_null());
        json_object_set_new(hc, "ReadonlyPaths", json_null());
        if (f->init_set)
                json_object_set_new(hc, "Init", json_boolean(f->init));
        json_object_set_new(body, "HostConfig", hc);

        /* with no --network docker describes the "default" endpoint; with
         * one network and no endpoint options it leaves the map empty */
        json_object_set_new(body, "NetworkingConfig", json_pack("{s:o}", "EndpointsConfig", json_sorted_copy(f->endpoints)));
        return body;
}

static void flags_free(struct flags *f)
{
        json_t **all[] = { &f->env, &f->env_files, &f->labels, &f->binds, &f->volumes, &f->mounts,
                           &f->tmpfs, &f->cap_add, &f->cap_drop, &f->security_opt, &f->exposed,
                           &f->bindings, &f->dns, &f->extra_hosts, &f->group_add, &f->log_opts,
                           &f->sysctls, &f->ulimits, &f->publish, &f->expose, &f->dns_search,
                           &f->dns_options, &f->links, &f->endpoints };
        for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
                json_decref(*all[i]);
                *all[i] = NULL;
        }
        cli_netopts_free(&f->net);
}

void run_opts_free(struct run_opts *o)
{
        json_decref(o->body);
        o->body = NULL;
}

int run_opts_parse(int argc, char **argv, const char *cmd, struct run_opts *o, int *exit_status)
{
        static const struct option longopts[] = {
                { "detach", optional_argument, NULL, OPT_DETACH_LONG },
                { "interactive", optional_argument, NULL, OPT_INTERACTIVE_LONG },
                { "tty", optional_argument, NULL, OPT_TTY_LONG },
                { "env", required_argument, NULL, 'e' },
                { "label", required_argument, NULL, 'l' },
                { "memory", required_argument, NULL, 'm' },
                { "publish", required_argument, NULL, 'p' },
                { "user", required_argument, NULL, 'u' },
                { "volume", required_argument, NULL, 'v' },
                { "workdir", required_argument, NULL, 'w' },
                { "hostname", required_argument, NULL, 'h' },
                { "name", required_argument, NULL, OPT_NAME },
                { "rm", optional_argument, NULL, OPT_RM },
                { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
                { "env-file", required_argument, NULL, OPT_ENV_FILE },
                { "mount", required_argument, NULL, OPT_MOUNT },
                { "tmpfs", required_argument, NULL, OPT_TMPFS },
                { "read-only", optional_argument, NULL, OPT_READ_ONLY },
                { "network", required_argument, NULL, OPT_NETWORK },
                { "net", required_argument, NULL, OPT_NETWORK },
                { "cpus", required_argument, NULL, OPT_CPUS },
                { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
                { "cap-add", required_argument, NULL, OPT_CAP_ADD },
                { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
                { "privileged", optional_argument, NULL, OPT_PRIVILEGED },
                { "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
                { "init", optional_argument, NULL, OPT_INIT },
                { "restart", required_argument, NULL, OPT_RESTART },
                { "platform", required_argument, NULL, OPT_PLATFORM },
                { "pull", required_argument, NULL, OPT_PULL },
                { "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
                { "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
                { "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
                { "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
                { "dns", required_argument, NULL, OPT_DNS },
                { "add-host", required_argument, NULL, OPT_ADD_HOST },
                { "shm-size", required_argument, NULL, OPT_SHM_SIZE },
                { "ipc", required_argument, NULL, OPT_IPC },
                { "pid", required_argument, NULL, OPT_PID },
                { "uts", required_argument, NULL, OPT_UTS },
                { "userns", required_argument, NULL, OPT_USERNS },
                { "cgroupns", required_argument, NULL, OPT_CGROUPNS },
                { "group-add", required_argument, NULL, OPT_GROUP_ADD },
                { "domainname", required_argument, NULL, OPT_DOMAINNAME },
                { "expose", required_argument, NULL, OPT_EXPOSE },
                { "log-driver", required_argument, NULL, OPT_LOG_DRIVER },
                { "log-opt", required_argument, NULL, OPT_LOG_OPT },
                { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
                { "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
                { "cpu-shares", required_argument, NULL, OPT_CPU_SHARES },
                { "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
                { "runtime", required_argument, NULL, OPT_RUNTIME },
                { "sysctl", required_argument, NULL, OPT_SYSCTL },
                { "oom-score-adj", required_argument, NULL, OPT_OOM_SCORE_ADJ },
                { "ulimit", required_argument, NULL, OPT_ULIMIT },
                { "publish-all", optional_argument, NULL, OPT_PUBLISH_ALL },
                { "ip", required_argument, NULL, OPT_IP },
                { "ip6", required_argument, NULL, OPT_IP6 },
                { "network-alias", required_argument, NULL, OPT_NETWORK_ALIAS },
                { "net-alias", required_argument, NULL, OPT_NETWORK_ALIAS },
                { "link", required_argument, NULL, OPT_LINK },
                { "link-local-ip", required_argument, NULL, OPT_LINK_LOCAL_IP },
                { "mac-address", required_argument, NULL, OPT_MAC_ADDRESS },
                { "dns-search", required_argument, NULL, OPT_DNS_SEARCH },
                { "dns-option", required_argument, NULL, OPT_DNS_OPTION },
                { "dns-opt", required_argument, NULL, OPT_DNS_OPTION },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        bool is_run = strcmp(cmd, "run") == 0;
        const char *shortopts = is_run ? "+:dite:l:m:p:Pu:v:w:h:c:" : "+:ite:l:m:p:Pu:v:w:h:c:";
        struct flags f = { 0 };
        _cleanup_json_ json_t *cmdv = json_array();
        _cleanup_error_ berth_error_t *err = NULL;
        int opt;
        bool ok;

        memset(o, 0, sizeof(*o));
        o->sig_proxy = true;
        o->pull = "missing";
        f.env = json_array();
        f.env_files = json_array();
        f.labels = json_object();
        f.binds = json_array();
        f.volumes = json_object();
        f.mounts = json_array();
        f.tmpfs = json_object();
        f.cap_add = json_array();
        f.cap_drop = json_array();
        f.security_opt = json_array();
        f.exposed = json_object();
        f.bindings = json_object();
        f.dns = json_array();
        f.extra_hosts = json_array();
        f.group_add = json_array();
        f.log_opts = json_object();
        f.sysctls = json_object();
        f.ulimits = json_array();
        f.publish = json_array();
        f.expose = json_array();
        f.dns_search = json_array();
        f.dns_options = json_array();
        f.links = json_array();
        cli_netopts_init(&f.net);
        *exit_status = 125;

#define BOOL_ARG(dst, flag)                                                          \
        do {                                                                         \
                dst = cli_bool_arg(optarg, &ok);                                     \
                if (!ok) {                                                           \
                        *exit_status = flag_error(cmd, flag, optarg, "invalid syntax"); \
                        goto fail;                                                   \
                }                                                                    \
        } while (0)
        while ((opt = cli_getopt(argc, argv, shortopts, longopts, cmd)) != -1) {
                switch (opt) {
                case 'd': o->detach = true; break;
                case OPT_DETACH_LONG:
                        if (!is_run) {
                                fprintf(stderr, "unknown flag: --detach\n");
                                goto fail;
                        }
                        BOOL_ARG(o->detach, "--detach");
                        break;
                case 'i': o->interactive = true; break;
                case OPT_INTERACTIVE_LONG: BOOL_ARG(o->interactive, "--interactive"); break;
                case 't': o->tty = true; break;
                case OPT_TTY_LONG: BOOL_ARG(o->tty, "--tty"); break;
                case 'e': cli_env_add(f.env, optarg); break;
                case OPT_ENV_FILE:
                        if (cli_env_file(f.env_files, optarg, &err) < 0) {
                                *exit_status = flag_error(cmd, "--env-file", optarg, err->msg);
                                goto fail;
                        }
                        break;
                case 'l': {
                        const char *eq = strchr(optarg, '=');
                        _cleanup_free_ char *k = xasprintf("%.*s", (int)(eq ? eq - optarg : (long)strlen(optarg)),
                                                           optarg);
                        json_object_set_new(f.labels, k, json_string(eq ? eq + 1 : ""));
                        break;
                }
                case 'm':
                case OPT_MEMORY_SWAP:
                case OPT_MEMORY_RESERVATION:
                case OPT_SHM_SIZE: {
                        long long v = opt == OPT_MEMORY_SWAP && strcmp(optarg, "-1") == 0 ? -1 : cli_ram_in_bytes(optarg);
                        if (v < -1 || (v == -1 && opt != OPT_MEMORY_SWAP)) {
                                *exit_status = flag_error(cmd, opt == 'm' ? "-m, --memory" : "--memory-swap", optarg,
                                                          "invalid size");
                                goto fail;
                        }
                        if (opt == 'm')
                                f.memory = v;
                        else if (opt == OPT_MEMORY_SWAP)
                                f.memory_swap = v;
                        else if (opt == OPT_MEMORY_RESERVATION)
                                f.memory_reservation = v;
                        else
                                f.shm_size = v;
                        break;
                }
                case 'p': json_array_append_new(f.publish, json_string(optarg)); break;
                case 'P': f.publish_all = true; break;
                case OPT_PUBLISH_ALL: BOOL_ARG(f.publish_all, "-P, --publish-all"); break;
                case OPT_EXPOSE: json_array_append_new(f.expose, json_string(optarg)); break;
                case 'u': f.user = optarg; break;
                case 'w': f.workdir = optarg; break;
                case 'h': f.hostname = optarg; break;
                case 'c': f.cpu_shares = parse_ll(optarg); break;
                case OPT_CPU_SHARES: f.cpu_shares = parse_ll(optarg); break;
                case 'v': {
                        /* "/data" alone is an anonymous volume; anything
                         * with a source is a bind or a named volume */
                        if (strchr(optarg, ':') == NULL)
                                json_object_set_new(f.volumes, optarg, json_object());
                        else
                                json_array_append_new(f.binds, json_string(optarg));
                        break;
                }
                case OPT_NAME: o->name = optarg; break;
                case OPT_RM: BOOL_ARG(o->rm, "--rm"); break;
                case OPT_ENTRYPOINT:
                        f.entrypoint = optarg;
                        f.entrypoint_set = true;
                        break;
                case OPT_MOUNT: {
                        json_t *m = parse_mount(optarg, &err);
                        if (m == NULL) {
                                *exit_status = flag_error(cmd, "--mount", optarg, err->msg);
                                goto fail;
                        }
                        json_array_append_new(f.mounts, m);
                        break;
                }
                case OPT_TMPFS: {
                        const char *colon = strchr(optarg, ':');
                        _cleanup_free_ char *k = xasprintf("%.*s", (int)(colon ? colon - optarg : (long)strlen(optarg)),
                                                           optarg);
                        json_object_set_new(f.tmpfs, k, json_string(colon ? colon + 1 : ""));
                        break;
                }
                case OPT_READ_ONLY: BOOL_ARG(f.read_only, "--read-only"); break;
                case OPT_NETWORK:
                        if (cli_netopts_add_network(&f.net, optarg, &err) < 0) {
                                *exit_status = flag_error(cmd, "--network", optarg, err->msg);
                                goto fail;
                        }
                        break;
                case OPT_IP: f.net.ipv4 = optarg; break;
                case OPT_IP6: f.net.ipv6 = optarg; break;
                case OPT_MAC_ADDRESS: f.net.mac = optarg; break;
                case OPT_NETWORK_ALIAS: json_array_append_new(f.net.aliases, json_string(optarg)); break;
                case OPT_LINK_LOCAL_IP: json_array_append_new(f.net.link_local_ips, json_string(optarg)); break;
                case OPT_LINK:
                        if (cli_check_link(optarg, &err) < 0) {
                                *exit_status = flag_error(cmd, "--link", optarg, err->msg);
                                goto fail;
                        }
                        json_array_append_new(f.links, json_string(optarg));
                        json_array_append_new(f.net.links, json_string(optarg));
                        break;
                case OPT_CPUS:
                        f.nano_cpus = cli_nano_cpus(optarg);
                        if (f.nano_cpus < 0) {
                                *exit_status = flag_error(cmd, "--cpus", optarg, "failed to parse as a rational number");
                                goto fail;
                        }
                        break;
                case OPT_PIDS_LIMIT:
                        f.pids_limit = strcmp(optarg, "-1") == 0 ? -1 : parse_ll(optarg);
                        if (f.pids_limit < -1) {
                                *exit_status = flag_error(cmd, "--pids-limit", optarg, "invalid syntax");
                                goto fail;
                        }
                        break;
                case OPT_CAP_ADD:
                case OPT_CAP_DROP: {
                        _cleanup_free_ char *cap = cap_name(optarg);
                        json_array_append_new(opt == OPT_CAP_ADD ? f.cap_add : f.cap_drop, json_string(cap));
                        break;
                }
                case OPT_PRIVILEGED: BOOL_ARG(f.privileged, "--privileged"); break;
                case OPT_SECURITY_OPT:
                        if (add_security_opt(f.security_opt, optarg, &err) < 0) {
                                *exit_status = flag_error(cmd, "--security-opt", optarg, err->msg);
                                goto fail;
                        }
                        break;
                case OPT_INIT:
                        BOOL_ARG(f.init, "--init");
                        f.init_set = true;
                        break;
                case OPT_RESTART: f.restart = optarg; break;
                case OPT_PLATFORM: o->platform = optarg; break;
                case OPT_PULL:
                        if (strcmp(optarg, "missing") != 0 && strcmp(optarg, "always") != 0 &&
                            strcmp(optarg, "never") != 0) {
                                fprintf(stderr, "berth: invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"\n\nRun 'berth %s --help' for more information\n",
                                        optarg, cmd);
                                goto fail;
                        }
                        o->pull = optarg;
                        break;
                case OPT_DETACH_KEYS: o->detach_keys = optarg; break;
                case OPT_SIG_PROXY: BOOL_ARG(o->sig_proxy, "--sig-proxy"); break;
                case OPT_STOP_SIGNAL: f.stop_signal = optarg; break;
                case OPT_STOP_TIMEOUT:
                        f.stop_timeout = strcmp(optarg, "-1") == 0 ? -1 : parse_ll(optarg);
                        f.stop_timeout_set = true;
                        break;
                case OPT_DNS:
                case OPT_DNS_SEARCH:
                case OPT_ADD_HOST:
                        if (add_checked(&f, opt, optarg, &err) < 0) {
                                *exit_status = flag_error(cmd, opt == OPT_DNS ? "--dns" : opt == OPT_ADD_HOST ? "--add-host"
                                                                                                  : "--dns-search",
                                                          optarg, err->msg);
                                goto fail;
                        }
                        break;
                case OPT_DNS_OPTION: json_array_append_new(f.dns_options, json_string(optarg)); break;
                case OPT_IPC: f.ipc = optarg; break;
                case OPT_PID: f.pid = optarg; break;
                case OPT_UTS: f.uts = optarg; break;
                case OPT_USERNS: f.userns = optarg; break;
                case OPT_CGROUPNS: f.cgroupns = optarg; break;
                case OPT_GROUP_ADD: json_array_append_new(f.group_add, json_string(optarg)); break;
                case OPT_DOMAINNAME: f.domainname = optarg; break;
                case OPT_LOG_DRIVER: f.log_driver = optarg; break;
                case OPT_LOG_OPT: {
                        const char *eq = strchr(optarg, '=');
                        if (eq == NULL) {
                                *exit_status = flag_error(cmd, "--log-opt", optarg, "invalid log opt");
                                goto fail;
                        }
                        _cleanup_free_ char *k = xasprintf("%.*s", (int)(eq - optarg), optarg);
                        json_object_set_new(f.log_opts, k, json_string(eq + 1));
                        break;
                }
                case OPT_CPUSET_CPUS: f.cpuset_cpus = optarg; break;
                case OPT_RUNTIME: f.runtime = optarg; break;
                case OPT_SYSCTL: {
                        const char *eq = strchr(optarg, '=');
                        if (eq == NULL) {
                                *exit_status = flag_error(cmd, "--sysctl", optarg, "sysctl must be key=value");
                                goto fail;
                        }
                        _cleanup_free_ char *k = xasprintf("%.*s", (int)(eq - optarg), optarg);
                        json_object_set_new(f.sysctls, k, json_string(eq + 1));
                        break;
                }
                case OPT_OOM_SCORE_ADJ: f.oom_score_adj = strtoll(optarg, NULL, 10); break;
                case OPT_ULIMIT: {
                        /* name=soft[:hard] */
                        const char *eq = strchr(optarg, '=');
                        long long soft, hard;
                        if (eq == NULL || sscanf(eq + 1, "%lld", &soft) != 1) {
                                *exit_status = flag_error(cmd, "--ulimit", optarg, "invalid ulimit argument");
                                goto fail;
                        }
                        const char *colon = strchr(eq + 1, ':');
                        hard = colon ? strtoll(colon + 1, NULL, 10) : soft;
                        _cleanup_free_ char *k = xasprintf("%.*s", (int)(eq - optarg), optarg);
                        json_array_append_new(f.ulimits, json_pack("{s:s, s:I, s:I}", "Name", k, "Hard",
                                                                   (json_int_t)hard, "Soft", (json_int_t)soft));
                        break;
                }
                case CLI_GETOPT_HELP:
                        *exit_status = 0;
                        goto fail;
                default:
                        goto fail;
                }
        }
#undef BOOL_ARG
        if (optind >= argc) {
                *exit_status = cli_usage_error(cmd, "requires at least 1 argument");
                goto fail;
        }
        if (o->rm && f.restart && strcmp(f.restart, "no") != 0 && *f.restart) {
                fprintf(stderr, "berth: Conflicting options: --restart and --rm\n\nRun 'berth %s --help' for more information\n",
                        cmd);
                goto fail;
        }
        if (network_flags(&f, &err) < 0) {
                *exit_status = cli_run_error(cmd, err, 125);
                goto fail;
        }
        o->image = argv[optind];
        for (int i = optind + 1; i < argc; i++)
                json_array_append_new(cmdv, json_string(argv[i]));
        o->body = build_body(&f, o, cmdv);
        flags_free(&f);
        return 0;
fail:
        flags_free(&f);
        return -1;
}
