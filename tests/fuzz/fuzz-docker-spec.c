/* libFuzzer target: a Docker create body (what any API client may send) to
 * config.json, both steps as the engine runs them, against a fixed rootfs
 * with /etc/passwd and /etc/group and an empty host /dev.  Whatever spec
 * comes out must pass the runtime's own validation and serialise. */
#include "engine/docker-spec.h"
#include "oci/config.h"
#include "util/util.h"
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small profile with Docker-format entries and Berth's capability rules,
 * so both conversions run on every input that reaches seccomp. */
static const char profile[] =
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
        "\"syscalls\":[{\"names\":[\"read\",\"write\",\"clone\",\"mount\"],\"action\":\"SCMP_ACT_ALLOW\"},"
        "{\"name\":\"ptrace\",\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"4.8\"}},"
        "{\"names\":[\"chown\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":[\"CAP_CHOWN\"]}}],"
        "\"berthCapabilityRules\":[{\"capability\":\"CAP_SYS_ADMIN\",\"action\":\"SCMP_ACT_ALLOW\","
        "\"names\":[\"mount\",\"unshare\"]}]}";

static char rootfs[] = "/tmp/berth-fuzz-spec-XXXXXX";
static char hostdev[] = "/tmp/berth-fuzz-dev-XXXXXX";

static void write_etc(const char *name, const char *text)
{
        _cleanup_free_ char *path = xasprintf("%s/etc/%s", rootfs, name);

        if (write_file(path, text, strlen(text), NULL) < 0)
                abort();
}

static void cleanup(void)
{
        _cleanup_free_ char *passwd = xasprintf("%s/etc/passwd", rootfs), *group = xasprintf("%s/etc/group", rootfs);
        _cleanup_free_ char *etc = xasprintf("%s/etc", rootfs);

        unlink(passwd);
        unlink(group);
        rmdir(etc);
        rmdir(rootfs);
        rmdir(hostdev);
}

static void setup_once(void)
{
        static bool done;
        _cleanup_free_ char *etc = NULL;

        if (done)
                return;
        done = true;
        if (!mkdtemp(rootfs) || !mkdtemp(hostdev))
                abort();
        atexit(cleanup);
        etc = xasprintf("%s/etc", rootfs);
        if (mkdir(etc, 0755) < 0)
                abort();
        write_etc("passwd", "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
                            "bad line\nbob:x:1001:100:\n");
        write_etc("group", "root:x:0:\nwheel:x:10:root,alice\nstaff:x:50:\nusers:x:100:bob\n");
}

/* Step 1's volumes get made-up host paths, as the engine would make. */
static void build(json_t *create)
{
        struct docker_spec_input in = { .create = create,
                                        .id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                        .rootfs = rootfs, .seccomp_default = profile, .host_dev = hostdev,
                                        .init_path = "/usr/libexec/berth-init", .hosts_path = "/run/hosts",
                                        .netns_path = "/proc/1/ns/net", .ipcns_path = "/proc/1/ns/ipc" };
        struct docker_mount *m = NULL;
        struct docker_volume_source *vols;
        struct docker_spec_info info;
        berth_error_t *err = NULL;
        json_t *spec = NULL;
        size_t n = 0, nv = 0;

        if (docker_spec_mounts(create, NULL, &m, &n, &err) < 0) {
                berth_error_free(&err);
                return;
        }
        vols = xcalloc(n + 1, sizeof(*vols));
        for (size_t i = 0; i < n; i++)
                if (m[i].type == DOCKER_MOUNT_VOLUME)
                        vols[nv++] = (struct docker_volume_source){ m[i].destination, "vol",
                                                                    "/var/lib/berth/volumes/vol/_data" };
        in.volumes = vols;
        in.n_volumes = nv;
        if (docker_spec_build(&in, &spec, &info, &err) == 0) {
                char *text = json_dumps(spec, JSON_COMPACT);
                if (text == NULL || oci_config_validate(spec, &err) < 0)
                        abort();        /* the engine must never hand the runtime a config it refuses */
                free(text);
                json_decref(spec);
                docker_spec_info_clear(&info);
        }
        berth_error_free(&err);
        free(vols);
        docker_mounts_free(m, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *create = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);

        setup_once();
        if (create == NULL)
                return 0;
        build(create);
        json_decref(create);
        return 0;
}
