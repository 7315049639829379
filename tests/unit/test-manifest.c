/* Unit tests for src/image/manifest: every manifest and index media type
 * parsed to exact values, schema1 refused, malformed documents named by
 * field, limits, platform parsing and selection (containerd's rules), and
 * image configs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"
#include "util/util.h"

static void json_decref_p(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(json_decref_p)))

#define H_CONFIG "b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910"
#define D_CONFIG "sha256:" H_CONFIG
#define D_LAYER1 "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
#define D_LAYER2 "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
#define D_LAYER3 "sha256:a0e70458d19e37e14d6388030a017c587283e2fb6ef10c0744cad0294c47e8f8"
#define D_LAYER4 "sha256:0697c0f434f8672811eb1b52d443d0d4cb616fa58e4d10b25e91471b7f45a665"
#define D_AMD64 "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51"
#define D_ARM64 "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265"
#define D_ARMV7 "sha256:5ba6c8710dd1369ce61603ab9b7a81b25f92d4a9f74956ab72a7ea75884f07ee"
#define D_ARMV6 "sha256:50b8c3e55c3365d624e7e10ae6a783d525e02b16924d4dcff0611f3e2544efaf"
#define D_386 "sha256:15a26c6fa5151c712acc7ee45a1fd525ab85b801f096847c7d5fdf49efeabb4d"
#define D_S390X "sha256:77d3a5496288a2cd8724282d24f862ab1ea470f3aba13cadb9e3c105aaacf20b"
#define D_ATTEST "sha256:bcc7930764b9b7a8b9bbd0161b568e869466d0c4efaee8006a56f3e8e6d82b69"
#define D_PPC "sha256:c92bb5907722b7ac701cea3606df516f5fe98c9f8380063df2d17d7d5db0bd05"
#define D_WIN "sha256:340d600392818df2413382dc7d8325c360d83ea49a262d31760348484bbc10b5"
#define D_DIFF1 "sha256:0697c0f434f8672811eb1b52d443d0d4cb616fa58e4d10b25e91471b7f45a665"
#define D_DIFF2 "sha256:a9485d17c39b521f9de31b558df98f81dd72a9c7498f57f27b74356ea150fbd9"
#define D_DIFF3 "sha256:03d63cb5ac6da8f21ccf8cb8ee9e410ece553f0bf779d19ac73eb8e9135d5e50"

static const char docker_manifest[] =
        "{\"schemaVersion\": 2,"
        " \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\","
        " \"config\": {\"mediaType\": \"application/vnd.docker.container.image.v1+json\", \"size\": 1457,"
        "   \"digest\": \"" D_CONFIG "\"},"
        " \"layers\": ["
        "  {\"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\", \"size\": 2591575,"
        "   \"digest\": \"" D_LAYER1 "\"},"
        "  {\"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\", \"size\": 32,"
        "   \"digest\": \"" D_LAYER2 "\"},"
        "  {\"mediaType\": \"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\", \"size\": 1478453720,"
        "   \"digest\": \"" D_LAYER3 "\","
        "   \"urls\": [\"https://mcr.microsoft.com/v2/windows/servercore/blobs/" D_LAYER3 "\"]}]}";

static const char oci_manifest[] =
        "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\","
        " \"config\": {\"mediaType\": \"application/vnd.oci.image.config.v1+json\","
        "   \"digest\": \"" D_CONFIG "\", \"size\": 581},"
        " \"layers\": ["
        "  {\"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\", \"digest\": \"" D_LAYER1 "\", \"size\": 3370706},"
        "  {\"mediaType\": \"application/vnd.oci.image.layer.v1.tar+zstd\", \"digest\": \"" D_LAYER2 "\", \"size\": 1024,"
        "   \"annotations\": {\"org.opencontainers.image.title\": \"app.tar.zst\"}},"
        "  {\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\", \"digest\": \"" D_LAYER3 "\", \"size\": 10240},"
        "  {\"mediaType\": \"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip\","
        "   \"digest\": \"" D_LAYER4 "\", \"size\": 99, \"urls\": [\"https://example.com/layer.tar.gz\"]}],"
        " \"annotations\": {\"org.opencontainers.image.created\": \"2024-05-01T10:00:00Z\","
        "   \"org.opencontainers.image.base.name\": \"docker.io/library/alpine:3.19\"}}";

/* No mediaType: the shape tells (containerd). */
static const char oci_manifest_bare[] =
        "{\"schemaVersion\": 2, \"config\": {\"mediaType\": \"application/vnd.oci.image.config.v1+json\","
        " \"digest\": \"" D_CONFIG "\", \"size\": 2}, \"layers\": []}";

#define ENTRY(mt, digest, size, platform) \
        "{\"mediaType\": \"" mt "\", \"size\": " #size ", \"digest\": \"" digest "\"" platform "}"
#define PLAT(arch, os) ", \"platform\": {\"architecture\": \"" arch "\", \"os\": \"" os "\"}"
#define PLATV(arch, os, variant) \
        ", \"platform\": {\"architecture\": \"" arch "\", \"os\": \"" os "\", \"variant\": \"" variant "\"}"
#define MT_D MEDIA_TYPE_DOCKER_MANIFEST
#define MT_O MEDIA_TYPE_OCI_MANIFEST

static const char docker_list[] =
        "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.docker.distribution.manifest.list.v2+json\","
        " \"manifests\": ["
        ENTRY(MT_D, D_AMD64, 527, PLAT("amd64", "linux")) ","
        ENTRY(MT_D, D_ARMV7, 527, PLATV("arm", "linux", "v7")) ","
        ENTRY(MT_D, D_ARM64, 527, PLATV("arm64", "linux", "v8")) ","
        "{\"mediaType\": \"" MT_D "\", \"size\": 1125, \"digest\": \"" D_WIN "\","
        " \"platform\": {\"architecture\": \"amd64\", \"os\": \"windows\", \"os.version\": \"10.0.17763.5696\","
        "   \"os.features\": [\"win32k\"]}}]}";

static const char oci_index[] =
        "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.index.v1+json\","
        " \"manifests\": ["
        ENTRY(MT_O, D_AMD64, 1022, PLAT("amd64", "linux")) ","
        ENTRY(MT_O, D_ARMV6, 1022, PLATV("arm", "linux", "v6")) ","
        ENTRY(MT_O, D_ARMV7, 1022, PLATV("arm", "linux", "v7")) ","
        ENTRY(MT_O, D_ARM64, 1022, PLATV("arm64", "linux", "v8")) ","
        ENTRY(MT_O, D_386, 1022, PLAT("386", "linux")) ","
        ENTRY(MT_O, D_PPC, 1022, PLAT("ppc64le", "linux")) ","
        "{\"mediaType\": \"" MT_O "\", \"digest\": \"" D_ATTEST "\", \"size\": 566,"
        " \"annotations\": {\"vnd.docker.reference.digest\": \"" D_AMD64 "\","
        "   \"vnd.docker.reference.type\": \"attestation-manifest\"},"
        " \"platform\": {\"architecture\": \"unknown\", \"os\": \"unknown\"}}],"
        " \"annotations\": {\"org.opencontainers.image.ref.name\": \"1.36\"}}";

static const char schema1[] =
        "{\"schemaVersion\": 1, \"name\": \"library/hello-world\", \"tag\": \"latest\", \"architecture\": \"amd64\","
        " \"fsLayers\": [{\"blobSum\": \"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4\"}],"
        " \"history\": [{\"v1Compatibility\": \"{}\"}]}";

static const char image_config[] =
        "{\"architecture\": \"amd64\","
        " \"config\": {\"Hostname\": \"\","
        "   \"Env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"APP_HOME=/srv/app\"],"
        "   \"Entrypoint\": [\"/docker-entrypoint.sh\"], \"Cmd\": [\"nginx\", \"-g\", \"daemon off;\"],"
        "   \"WorkingDir\": \"/srv/app\", \"User\": \"101:101\","
        "   \"ExposedPorts\": {\"80/tcp\": {}, \"443/tcp\": {}, \"53/udp\": {}},"
        "   \"Volumes\": {\"/var/cache/nginx\": {}},"
        "   \"Labels\": {\"maintainer\": \"NGINX Docker Maintainers\", \"org.opencontainers.image.version\": \"1.25\"},"
        "   \"StopSignal\": \"SIGQUIT\", \"OnBuild\": null},"
        " \"created\": \"2024-05-01T10:00:00.123456789Z\","
        " \"history\": ["
        "  {\"created\": \"2024-04-30T00:00:00Z\", \"created_by\": \"/bin/sh -c #(nop) ADD file:abc in / \"},"
        "  {\"created\": \"2024-04-30T00:00:01Z\", \"created_by\": \"/bin/sh -c #(nop)  CMD [\\\"bash\\\"]\","
        "   \"empty_layer\": true},"
        "  {\"created\": \"2024-05-01T10:00:00Z\", \"created_by\": \"RUN /bin/sh -c apt-get install nginx # buildkit\","
        "   \"comment\": \"buildkit.dockerfile.v0\", \"author\": \"someone\"}],"
        " \"os\": \"linux\","
        " \"rootfs\": {\"type\": \"layers\", \"diff_ids\": [\"" D_DIFF1 "\", \"" D_DIFF2 "\", \"" D_DIFF3 "\"]}}";

/* ---- helpers ---------------------------------------------------------------- */

static struct manifest *manifest_ok(const char *doc, const char *content_type)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct manifest *m = NULL;

        if (manifest_parse(doc, strlen(doc), content_type, &m, &err) < 0)
                fail_msg("manifest_parse: %s", err->msg);
        assert_non_null(m);
        return m;
}

static struct index *index_ok(const char *doc, const char *content_type)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct index *ix = NULL;

        if (index_parse(doc, strlen(doc), content_type, &ix, &err) < 0)
                fail_msg("index_parse: %s", err->msg);
        assert_non_null(ix);
        return ix;
}

static struct image_config *config_ok(const char *doc)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct image_config *c = NULL;

        if (image_config_parse(doc, strlen(doc), &c, &err) < 0)
                fail_msg("image_config_parse: %s", err->msg);
        assert_non_null(c);
        return c;
}

/* Parse as whatever the document is and expect exactly this error. */
static void expect_error(const char *doc, size_t len, const char *content_type, const char *msg)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct manifest *m = NULL;
        struct index *ix = NULL;

        if (manifest_parse_any(doc, len, content_type, &m, &ix, &err) == 0) {
                manifest_free(m);
                index_free(ix);
                fail_msg("parsed, expected \"%s\"", msg);
        }
        assert_null(m);
        assert_null(ix);
        assert_non_null(err);
        assert_string_equal(err->msg, msg);
}

static void expect_json_error(const char *doc, size_t len, const char *fragment)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct manifest *m = NULL;
        struct index *ix = NULL;

        assert_true(manifest_parse_any(doc, len, NULL, &m, &ix, &err) < 0);
        assert_null(m);
        assert_null(ix);
        assert_true(str_has_prefix(err->msg, "manifest: invalid JSON: "));
        if (strstr(err->msg, fragment) == NULL)
                fail_msg("\"%s\" lacks \"%s\"", err->msg, fragment);
        for (const char *c = err->msg; *c; c++)
                assert_true((unsigned char)*c >= 0x20);
}

static void expect_config_error(const char *doc, const char *msg)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct image_config *c = NULL;

        if (image_config_parse(doc, strlen(doc), &c, &err) == 0) {
                image_config_free(c);
                fail_msg("parsed, expected \"%s\"", msg);
        }
        assert_null(c);
        assert_string_equal(err->msg, msg);
}

/* doc with the value at a path ("layers/2/digest") replaced by value
 * (JSON text), or removed when value is NULL.  Caller frees. */
static char *mutate(const char *doc, const char *path, const char *value)
{
        _cleanup_json_ json_t *root = json_loads(doc, 0, NULL);
        _cleanup_free_ char *copy = xstrdup(path);
        json_t *parent = root;
        char *save = NULL, *key = strtok_r(copy, "/", &save), *next;

        assert_non_null(root);
        while ((next = strtok_r(NULL, "/", &save))) {
                parent = json_is_array(parent) ? json_array_get(parent, strtoul(key, NULL, 10))
                                               : json_object_get(parent, key);
                assert_non_null(parent);
                key = next;
        }
        if (value == NULL) {
                assert_int_equal(json_object_del(parent, key), 0);
        } else {
                json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
                assert_non_null(v);
                if (json_is_array(parent))
                        assert_int_equal(json_array_set_new(parent, strtoul(key, NULL, 10), v), 0);
                else
                        assert_int_equal(json_object_set_new(parent, key, v), 0);
        }
        return json_dumps(root, JSON_COMPACT);
}

static void expect_mutation_error(const char *doc, const char *path, const char *value, const char *msg)
{
        _cleanup_free_ char *bad = mutate(doc, path, value);

        expect_error(bad, strlen(bad), NULL, msg);
}

static void expect_config_mutation_error(const char *path, const char *value, const char *msg)
{
        _cleanup_free_ char *bad = mutate(image_config, path, value);

        expect_config_error(bad, msg);
}

static size_t strv_len(char **v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

/* ---- manifests ---------------------------------------------------------------- */

static void docker_manifest_fields(void **state)
{
        (void)state;
        const char *types[] = { MEDIA_TYPE_DOCKER_MANIFEST, NULL };

        for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
                _cleanup_manifest_ struct manifest *m = manifest_ok(docker_manifest, types[t]);

                assert_int_equal(m->kind, MANIFEST_KIND_DOCKER);
                assert_string_equal(m->config.media_type, MEDIA_TYPE_DOCKER_CONFIG);
                assert_string_equal(m->config.digest, D_CONFIG);
                assert_int_equal(m->config.size, 1457);
                assert_null(m->config.urls);
                assert_null(m->config.platform);
                assert_null(m->config.annotations);
                assert_int_equal(m->n_layers, 3);
                assert_string_equal(m->layers[0].media_type, MEDIA_TYPE_DOCKER_LAYER_GZIP);
                assert_string_equal(m->layers[0].digest, D_LAYER1);
                assert_int_equal(m->layers[0].size, 2591575);
                assert_string_equal(m->layers[1].digest, D_LAYER2);
                assert_int_equal(m->layers[1].size, 32);
                assert_string_equal(m->layers[2].media_type, MEDIA_TYPE_DOCKER_LAYER_FOREIGN_GZIP);
                assert_string_equal(m->layers[2].digest, D_LAYER3);
                assert_int_equal(m->layers[2].size, 1478453720);
                assert_int_equal(strv_len(m->layers[2].urls), 1);
                assert_string_equal(m->layers[2].urls[0],
                                    "https://mcr.microsoft.com/v2/windows/servercore/blobs/" D_LAYER3);
                assert_null(m->annotations);
        }
}

static void oci_manifest_fields(void **state)
{
        (void)state;
        _cleanup_manifest_ struct manifest *m = manifest_ok(oci_manifest, MEDIA_TYPE_OCI_MANIFEST);
        _cleanup_error_ berth_error_t *err = NULL;
        struct layer_type lt;

        assert_int_equal(m->kind, MANIFEST_KIND_OCI);
        assert_string_equal(m->config.media_type, MEDIA_TYPE_OCI_CONFIG);
        assert_string_equal(m->config.digest, D_CONFIG);
        assert_int_equal(m->config.size, 581);
        assert_int_equal(m->n_layers, 4);
        assert_string_equal(m->layers[0].media_type, MEDIA_TYPE_OCI_LAYER_GZIP);
        assert_int_equal(m->layers[0].size, 3370706);
        assert_string_equal(m->layers[1].media_type, MEDIA_TYPE_OCI_LAYER_ZSTD);
        assert_string_equal(m->layers[1].digest, D_LAYER2);
        assert_string_equal(json_string_value(json_object_get(m->layers[1].annotations,
                                                              "org.opencontainers.image.title")),
                            "app.tar.zst");
        assert_string_equal(m->layers[2].media_type, MEDIA_TYPE_OCI_LAYER);
        assert_int_equal(m->layers[2].size, 10240);
        assert_string_equal(m->layers[3].media_type, MEDIA_TYPE_OCI_LAYER_ND_GZIP);
        assert_string_equal(m->layers[3].urls[0], "https://example.com/layer.tar.gz");
        assert_null(m->layers[3].urls[1]);
        assert_int_equal(json_object_size(m->annotations), 2);
        assert_string_equal(json_string_value(json_object_get(m->annotations, "org.opencontainers.image.base.name")),
                            "docker.io/library/alpine:3.19");

        assert_int_equal(layer_media_type_parse(m->layers[0].media_type, &lt, &err), 0);
        assert_int_equal(lt.compression, LAYER_GZIP);
        assert_false(lt.foreign);
        assert_int_equal(layer_media_type_parse(m->layers[1].media_type, &lt, &err), 0);
        assert_int_equal(lt.compression, LAYER_ZSTD);
        assert_int_equal(layer_media_type_parse(m->layers[2].media_type, &lt, &err), 0);
        assert_int_equal(lt.compression, LAYER_UNCOMPRESSED);
        assert_int_equal(layer_media_type_parse(m->layers[3].media_type, &lt, &err), 0);
        assert_int_equal(lt.compression, LAYER_GZIP);
        assert_true(lt.foreign);
        assert_int_equal(manifest_check_image(m, &err), 0);
}

/* Without a Content-Type and without a mediaType, config/layers make an OCI
 * manifest; a Content-Type naming a kind wins; generic ones are ignored. */
static void manifest_kind_detection(void **state)
{
        (void)state;
        static const struct {
                const char *doc, *content_type;
                enum manifest_kind kind;
        } cases[] = {
                { oci_manifest_bare, NULL, MANIFEST_KIND_OCI },
                { oci_manifest_bare, "application/json", MANIFEST_KIND_OCI },
                { oci_manifest_bare, "text/plain; charset=utf-8", MANIFEST_KIND_OCI },
                { oci_manifest_bare, MEDIA_TYPE_DOCKER_MANIFEST, MANIFEST_KIND_DOCKER },
                { oci_manifest_bare, "  APPLICATION/vnd.docker.distribution.manifest.v2+JSON ; q=1",
                  MANIFEST_KIND_DOCKER },
                { docker_manifest, "application/octet-stream", MANIFEST_KIND_DOCKER },
                { oci_manifest, NULL, MANIFEST_KIND_OCI },
                { docker_list, NULL, MANIFEST_KIND_DOCKER_LIST },
                { oci_index, "", MANIFEST_KIND_OCI_INDEX },
                { "{\"schemaVersion\": 2, \"manifests\": []}", NULL, MANIFEST_KIND_OCI_INDEX },
                { "{\"schemaVersion\": 2, \"manifests\": []}", MEDIA_TYPE_DOCKER_MANIFEST_LIST,
                  MANIFEST_KIND_DOCKER_LIST },
                { "{\"schemaVersion\": 2, \"manifests\": []}",
                  "application/vnd.oci.image.index.v1+json; charset=utf-8", MANIFEST_KIND_OCI_INDEX },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                enum manifest_kind kind = 0;
                struct manifest *m = NULL;
                struct index *ix = NULL;

                if (manifest_detect(cases[i].doc, strlen(cases[i].doc), cases[i].content_type, &kind, &err) < 0)
                        fail_msg("case %zu: %s", i, err->msg);
                assert_int_equal(kind, cases[i].kind);
                assert_int_equal(manifest_parse_any(cases[i].doc, strlen(cases[i].doc), cases[i].content_type,
                                                    &m, &ix, &err), 0);
                if (manifest_kind_is_index(kind)) {
                        assert_null(m);
                        assert_int_equal(ix->kind, kind);
                } else {
                        assert_null(ix);
                        assert_int_equal(m->kind, kind);
                }
                manifest_free(m);
                index_free(ix);
        }
}

static void kind_names(void **state)
{
        (void)state;
        assert_string_equal(manifest_kind_media_type(MANIFEST_KIND_DOCKER), MEDIA_TYPE_DOCKER_MANIFEST);
        assert_string_equal(manifest_kind_media_type(MANIFEST_KIND_OCI), MEDIA_TYPE_OCI_MANIFEST);
        assert_string_equal(manifest_kind_media_type(MANIFEST_KIND_DOCKER_LIST), MEDIA_TYPE_DOCKER_MANIFEST_LIST);
        assert_string_equal(manifest_kind_media_type(MANIFEST_KIND_OCI_INDEX), MEDIA_TYPE_OCI_INDEX);
        assert_null(manifest_kind_media_type(0));
        assert_string_equal(manifest_kind_name(MANIFEST_KIND_DOCKER_LIST), "Docker manifest list");
        assert_int_equal(manifest_kind_from_media_type(MEDIA_TYPE_OCI_INDEX), MANIFEST_KIND_OCI_INDEX);
        assert_int_equal(manifest_kind_from_media_type(MEDIA_TYPE_OCI_CONFIG), 0);
        assert_int_equal(manifest_kind_from_media_type(NULL), 0);
        assert_int_equal(manifest_kind_from_media_type(MEDIA_TYPE_OCI_INDEX "x"), 0);
        assert_true(manifest_kind_is_index(MANIFEST_KIND_DOCKER_LIST));
        assert_false(manifest_kind_is_index(MANIFEST_KIND_OCI));
}

/* ---- indexes ---------------------------------------------------------------- */

static void docker_list_fields(void **state)
{
        (void)state;
        _cleanup_index_ struct index *ix = index_ok(docker_list, MEDIA_TYPE_DOCKER_MANIFEST_LIST);

        assert_int_equal(ix->kind, MANIFEST_KIND_DOCKER_LIST);
        assert_int_equal(ix->n, 4);
        assert_null(ix->annotations);
        assert_string_equal(ix->manifests[0].media_type, MEDIA_TYPE_DOCKER_MANIFEST);
        assert_string_equal(ix->manifests[0].digest, D_AMD64);
        assert_int_equal(ix->manifests[0].size, 527);
        assert_string_equal(ix->manifests[0].platform->os, "linux");
        assert_string_equal(ix->manifests[0].platform->arch, "amd64");
        assert_null(ix->manifests[0].platform->variant);
        assert_null(ix->manifests[0].platform->os_version);
        assert_string_equal(ix->manifests[1].digest, D_ARMV7);
        assert_string_equal(ix->manifests[1].platform->arch, "arm");
        assert_string_equal(ix->manifests[1].platform->variant, "v7");
        assert_string_equal(ix->manifests[2].platform->arch, "arm64");
        assert_string_equal(ix->manifests[2].platform->variant, "v8");
        assert_string_equal(ix->manifests[3].digest, D_WIN);
        assert_int_equal(ix->manifests[3].size, 1125);
        assert_string_equal(ix->manifests[3].platform->os, "windows");
        assert_string_equal(ix->manifests[3].platform->os_version, "10.0.17763.5696");
}

static void oci_index_fields(void **state)
{
        (void)state;
        _cleanup_index_ struct index *ix = index_ok(oci_index, NULL);

        assert_int_equal(ix->kind, MANIFEST_KIND_OCI_INDEX);
        assert_int_equal(ix->n, 7);
        assert_string_equal(json_string_value(json_object_get(ix->annotations, "org.opencontainers.image.ref.name")),
                            "1.36");
        assert_string_equal(ix->manifests[1].digest, D_ARMV6);
        assert_string_equal(ix->manifests[1].platform->variant, "v6");
        assert_string_equal(ix->manifests[4].platform->arch, "386");
        assert_string_equal(ix->manifests[5].platform->arch, "ppc64le");
        assert_string_equal(ix->manifests[6].digest, D_ATTEST);
        assert_int_equal(ix->manifests[6].size, 566);
        assert_string_equal(json_string_value(json_object_get(ix->manifests[6].annotations,
                                                              "vnd.docker.reference.type")),
                            "attestation-manifest");
        assert_string_equal(ix->manifests[6].platform->os, "unknown");
}

static void wrong_kind_refused(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct manifest *m = (struct manifest *)&err; /* must be reset to NULL */
        struct index *ix = (struct index *)&err;

        assert_true(manifest_parse(oci_index, strlen(oci_index), NULL, &m, &err) < 0);
        assert_null(m);
        assert_string_equal(err->msg, "manifest: expected an image manifest, got an index (OCI image index)");
        assert_true(index_parse(docker_manifest, strlen(docker_manifest), NULL, &ix, &err) < 0);
        assert_null(ix);
        assert_string_equal(err->msg, "index: expected an index, got an image manifest (Docker schema2 manifest)");
}

/* ---- schema1 and malformed documents ------------------------------------------ */

static void schema1_refused(void **state)
{
        (void)state;
        static const char msg[] =
                "manifest: schema1 manifests are not supported: push the image again with a current client";
        static const char with_media_type[] =
                "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.docker.distribution.manifest.v1+json\"}";
        static const char fs_layers_only[] = "{\"fsLayers\": []}";
        _cleanup_error_ berth_error_t *err = NULL;
        struct index *ix = NULL;
        enum manifest_kind kind;

        expect_error(schema1, strlen(schema1), NULL, msg);
        expect_error(schema1, strlen(schema1), MEDIA_TYPE_DOCKER_SCHEMA1, msg);
        expect_error(schema1, strlen(schema1), MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED, msg);
        expect_error(schema1, strlen(schema1), "application/json", msg);
        /* the header alone is enough, whatever the body */
        expect_error(docker_manifest, strlen(docker_manifest), MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED, msg);
        expect_error(with_media_type, strlen(with_media_type), NULL, msg);
        expect_error(fs_layers_only, strlen(fs_layers_only), NULL, msg);
        assert_true(manifest_detect(schema1, strlen(schema1), NULL, &kind, &err) < 0);
        assert_string_equal(err->msg, msg);
        assert_true(index_parse(schema1, strlen(schema1), NULL, &ix, &err) < 0);
        assert_string_equal(err->msg, msg);
}

static void content_type_conflicts(void **state)
{
        (void)state;
        static const char index_bare[] = "{\"schemaVersion\": 2, \"manifests\": []}";
        static const char config_type[] =
                "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.config.v1+json\"}";

        expect_error(oci_manifest, strlen(oci_manifest), MEDIA_TYPE_DOCKER_MANIFEST,
                     "manifest: mediaType \"application/vnd.oci.image.manifest.v1+json\" does not match the "
                     "Content-Type \"application/vnd.docker.distribution.manifest.v2+json\"");
        expect_error(oci_index, strlen(oci_index), MEDIA_TYPE_OCI_MANIFEST,
                     "manifest: mediaType \"application/vnd.oci.image.index.v1+json\" does not match the "
                     "Content-Type \"application/vnd.oci.image.manifest.v1+json\"");
        expect_error(index_bare, strlen(index_bare), MEDIA_TYPE_OCI_MANIFEST,
                     "manifest: OCI image manifest expected, but the document has manifests, like an index");
        expect_error(oci_manifest_bare, strlen(oci_manifest_bare), MEDIA_TYPE_OCI_INDEX,
                     "manifest: OCI image index expected, but the document has a config or layers, like a manifest");
        expect_error(config_type, strlen(config_type), NULL,
                     "manifest: mediaType: \"application/vnd.oci.image.config.v1+json\" is not a manifest or index type");
        expect_error("{\"schemaVersion\": 2}", strlen("{\"schemaVersion\": 2}"), NULL,
                     "manifest: neither a manifest nor an index: no mediaType, config, layers or manifests");
}

static void malformed_json(void **state)
{
        (void)state;
        _cleanup_free_ char *big = NULL;

        static const char escape[] = "{\"a\": \x1b[31m}";

        /* jansson's own wording varies between versions: check what we add */
        expect_json_error("", 0, "(line 1, column 0)");
        expect_error("[1, 2]", 6, NULL, "manifest: not a JSON object");
        expect_json_error("\"schemaVersion\"", 15, "(line 1, column 15)");
        expect_json_error("{\"schemaVersion\": 2,", 20, "(line 1, column 20)");
        expect_json_error("{\"schemaVersion\": 2} trailing", 29, "(line 1, column 29)");
        expect_json_error("{\"schemaVersion\": 2, \"schemaVersion\": 2}", 40, "duplicate object key");
        /* the length is honoured: no NUL needed, bytes after it ignored */
        expect_json_error("{\"schemaVersion\": 2}XXXX", 10, "(line 1, column 10)");
        expect_json_error("{\"a\": \"\\u0000\"}", 15, "\\u0000");
        /* document bytes in the message are escaped */
        expect_json_error(escape, strlen(escape), "\\x1b");
        big = xmalloc(MANIFEST_MAX_SIZE + 2);
        memset(big, ' ', MANIFEST_MAX_SIZE + 1);
        big[0] = '{';
        big[MANIFEST_MAX_SIZE] = '}';
        big[MANIFEST_MAX_SIZE + 1] = '\0';
        expect_error(big, MANIFEST_MAX_SIZE + 1, NULL,
                     "manifest: the document is 4194305 bytes, more than the 4 MiB allowed");
}

static void malformed_manifest_fields(void **state)
{
        (void)state;
        static const struct {
                const char *path, *value, *msg;
        } cases[] = {
                { "schemaVersion", NULL, "manifest: schemaVersion: missing" },
                { "schemaVersion", "\"2\"", "manifest: schemaVersion: not an integer" },
                { "schemaVersion", "3", "manifest: schemaVersion: 3 is not supported (want 2)" },
                { "mediaType", "7", "manifest: mediaType: not a string" },
                { "config", NULL, "manifest: config: missing" },
                { "config", "null", "manifest: config: missing" },
                { "config", "[]", "manifest: config: not an object" },
                { "config/digest", NULL, "manifest: config.digest: missing" },
                { "config/mediaType", NULL, "manifest: config.mediaType: missing" },
                { "config/mediaType", "\"\"", "manifest: config.mediaType: empty" },
                { "config/size", NULL, "manifest: config.size: missing" },
                { "config/size", "17000000",
                  "manifest: config.size: 17000000 bytes is more than the 16 MiB an image config may have" },
                { "layers", NULL, "manifest: layers: missing" },
                { "layers", "{}", "manifest: layers: not an array" },
                { "layers/1", "\"x\"", "manifest: layers[1]: not an object" },
                { "layers/2/digest", NULL, "manifest: layers[2].digest: missing" },
                { "layers/2/digest", "1", "manifest: layers[2].digest: not a string" },
                { "layers/2/digest", "\"sha256:A0E70458D19E37E14D6388030A017C587283E2FB6EF10C0744CAD0294C47E8F8\"",
                  "manifest: layers[2].digest: \"sha256:A0E70458D19E37E14D6388030A017C587283E2FB6EF10C0744CAD0294C47E8F8\" "
                  "is not a sha256 digest (\"sha256:\" and 64 lowercase hex digits)" },
                { "layers/2/digest", "\"sha256:abc\"",
                  "manifest: layers[2].digest: \"sha256:abc\" is not a sha256 digest (\"sha256:\" and 64 lowercase "
                  "hex digits)" },
                { "layers/0/digest", "\"sha512:" H_CONFIG H_CONFIG "\"",
                  "manifest: layers[0].digest: \"sha512:" H_CONFIG "b79606fb3\"... is not a sha256 digest "
                  "(\"sha256:\" and 64 lowercase hex digits)" },
                { "layers/0/digest", "\"sha256:" H_CONFIG "\\n\"",
                  "manifest: layers[0].digest: \"sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910\\x0a\" "
                  "is not a sha256 digest (\"sha256:\" and 64 lowercase hex digits)" },
                { "layers/0/digest", "\"" H_CONFIG "\"",
                  "manifest: layers[0].digest: \"" H_CONFIG "\" is not a sha256 digest (\"sha256:\" and 64 "
                  "lowercase hex digits)" },
                { "layers/0/digest", "\"a\\\"b\\\\c\"",
                  "manifest: layers[0].digest: \"a\\\"b\\\\c\" is not a sha256 digest (\"sha256:\" and 64 lowercase "
                  "hex digits)" },
                { "layers/1/size", "-1", "manifest: layers[1].size: -1 is negative" },
                { "layers/1/size", "\"32\"", "manifest: layers[1].size: not an integer" },
                { "layers/1/size", "32.0", "manifest: layers[1].size: not an integer" },
                { "layers/1/size", "true", "manifest: layers[1].size: not an integer" },
                { "layers/1/size", "1099511627777",
                  "manifest: layers[1].size: 1099511627777 bytes is more than the 1 TiB limit" },
                { "layers/0/mediaType", NULL, "manifest: layers[0].mediaType: missing" },
                { "layers/2/urls", "\"https://x\"", "manifest: layers[2].urls: not an array" },
                { "layers/2/urls", "[\"https://x\", 5]", "manifest: layers[2].urls[1]: not a string" },
                { "layers/0/annotations", "[]", "manifest: layers[0].annotations: not an object" },
                { "layers/0/annotations", "{\"a\": \"b\", \"c\\u0001\": 1}",
                  "manifest: layers[0].annotations[\"c\\x01\"]: not a string" },
                { "layers/0/platform", "\"linux\"", "manifest: layers[0].platform: not an object" },
                { "annotations", "{\"a\": {}}", "manifest: annotations[\"a\"]: not a string" },
                { "annotations", "{\"\\u009b2J\": 1}", "manifest: annotations[\"\\u009b2J\"]: not a string" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                expect_mutation_error(docker_manifest, cases[i].path, cases[i].value, cases[i].msg);
}

static void malformed_index_fields(void **state)
{
        (void)state;
        static const struct {
                const char *path, *value, *msg;
        } cases[] = {
                { "manifests", "{}", "index: manifests: not an array" },
                { "manifests/3", "null", "index: manifests[3]: not an object" },
                { "manifests/1/digest", "\"sha256:\"",
                  "index: manifests[1].digest: \"sha256:\" is not a sha256 digest (\"sha256:\" and 64 lowercase hex "
                  "digits)" },
                { "manifests/1/platform/architecture", NULL, "index: manifests[1].platform.architecture: missing" },
                { "manifests/1/platform/os", "[]", "index: manifests[1].platform.os: not a string" },
                { "manifests/1/platform/variant", "7", "index: manifests[1].platform.variant: not a string" },
                { "manifests/1/platform/os.version", "10", "index: manifests[1].platform.os.version: not a string" },
                { "manifests/1/platform/os.features", "\"x\"", "index: manifests[1].platform.os.features: not an array" },
                { "manifests/1/platform/os.features", "[\"a\", 2]",
                  "index: manifests[1].platform.os.features[1]: not a string" },
                { "manifests/0/size", "4194305",
                  "index: manifests[0].size: 4194305 bytes is more than the 4 MiB a manifest may have" },
                { "annotations", "7", "index: annotations: not an object" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                expect_mutation_error(oci_index, cases[i].path, cases[i].value, cases[i].msg);
        /* an index may point at large blobs that are not manifests */
        {
                _cleanup_free_ char *doc = mutate(oci_index, "manifests/0/mediaType", "\"application/x-sbom\"");
                _cleanup_free_ char *doc2 = mutate(doc, "manifests/0/size", "4194305");
                _cleanup_index_ struct index *ix = index_ok(doc2, NULL);
                assert_int_equal(ix->manifests[0].size, 4194305);
        }
}

/* Documents at and over the count limits. */
static char *many(const char *head, const char *entry, size_t n, const char *tail)
{
        size_t len = strlen(head) + n * (strlen(entry) + 1) + strlen(tail) + 1;
        char *doc = xmalloc(len), *p = doc;

        p = stpcpy(p, head);
        for (size_t i = 0; i < n; i++) {
                if (i)
                        *p++ = ',';
                p = stpcpy(p, entry);
        }
        stpcpy(p, tail);
        return doc;
}

static void limits(void **state)
{
        (void)state;
        static const char head[] = "{\"schemaVersion\": 2, \"mediaType\": \"" MT_O "\", \"config\": "
                                   "{\"mediaType\": \"" MEDIA_TYPE_OCI_CONFIG "\", \"digest\": \"" D_CONFIG
                                   "\", \"size\": 1}, \"layers\": [";
        static const char layer[] = "{\"mediaType\":\"" MEDIA_TYPE_OCI_LAYER_GZIP "\",\"digest\":\"" D_LAYER1
                                    "\",\"size\":1}";
        static const char ihead[] = "{\"schemaVersion\": 2, \"manifests\": [";
        static const char entry[] = ENTRY(MT_O, D_AMD64, 1, PLAT("amd64", "linux"));
        _cleanup_free_ char *ok = many(head, layer, MANIFEST_MAX_LAYERS, "]}");
        _cleanup_free_ char *over = many(head, layer, MANIFEST_MAX_LAYERS + 1, "]}");
        _cleanup_free_ char *iok = many(ihead, entry, INDEX_MAX_MANIFESTS, "]}");
        _cleanup_free_ char *iover = many(ihead, entry, INDEX_MAX_MANIFESTS + 1, "]}");
        _cleanup_free_ char *urls = NULL, *doc = NULL;
        _cleanup_manifest_ struct manifest *m = manifest_ok(ok, NULL);
        _cleanup_index_ struct index *ix = index_ok(iok, NULL);

        assert_int_equal(m->n_layers, MANIFEST_MAX_LAYERS);
        assert_int_equal(ix->n, INDEX_MAX_MANIFESTS);
        expect_error(over, strlen(over), NULL, "manifest: layers: 10001 entries, more than the 10000 allowed");
        expect_error(iover, strlen(iover), NULL, "index: manifests: 10001 entries, more than the 10000 allowed");
        urls = many("[", "\"https://x\"", DESCRIPTOR_MAX_URLS + 1, "]");
        doc = mutate(docker_manifest, "layers/2/urls", urls);
        expect_error(doc, strlen(doc), NULL, "manifest: layers[2].urls: 65 entries, more than the 64 allowed");
}

static void check_image(void **state)
{
        (void)state;
        _cleanup_free_ char *helm = mutate(oci_manifest, "config/mediaType",
                                           "\"application/vnd.cncf.helm.config.v1+json\"");
        _cleanup_free_ char *odd = mutate(oci_manifest, "layers/2/mediaType", "\"application/x-tar\"");
        _cleanup_manifest_ struct manifest *d = manifest_ok(docker_manifest, NULL);
        _cleanup_manifest_ struct manifest *h = manifest_ok(helm, NULL);
        _cleanup_manifest_ struct manifest *o = manifest_ok(odd, NULL);
        _cleanup_error_ berth_error_t *err = NULL;

        assert_int_equal(manifest_check_image(d, &err), 0);
        assert_true(manifest_check_image(h, &err) < 0);
        assert_string_equal(err->msg, "manifest: config.mediaType: \"application/vnd.cncf.helm.config.v1+json\" "
                                      "is not an image config: not a container image");
        assert_true(manifest_check_image(o, &err) < 0);
        assert_string_equal(err->msg,
                            "manifest: layers[2].mediaType: unsupported layer media type \"application/x-tar\"");
}

static void layer_media_types(void **state)
{
        (void)state;
        static const struct {
                const char *media_type;
                enum layer_compression compression;
                bool foreign;
        } cases[] = {
                { MEDIA_TYPE_DOCKER_LAYER, LAYER_UNCOMPRESSED, false },
                { MEDIA_TYPE_DOCKER_LAYER_GZIP, LAYER_GZIP, false },
                { MEDIA_TYPE_DOCKER_LAYER_ZSTD, LAYER_ZSTD, false },
                { MEDIA_TYPE_DOCKER_LAYER_FOREIGN, LAYER_UNCOMPRESSED, true },
                { MEDIA_TYPE_DOCKER_LAYER_FOREIGN_GZIP, LAYER_GZIP, true },
                { MEDIA_TYPE_OCI_LAYER, LAYER_UNCOMPRESSED, false },
                { MEDIA_TYPE_OCI_LAYER_GZIP, LAYER_GZIP, false },
                { MEDIA_TYPE_OCI_LAYER_ZSTD, LAYER_ZSTD, false },
                { MEDIA_TYPE_OCI_LAYER_ND, LAYER_UNCOMPRESSED, true },
                { MEDIA_TYPE_OCI_LAYER_ND_GZIP, LAYER_GZIP, true },
                { MEDIA_TYPE_OCI_LAYER_ND_ZSTD, LAYER_ZSTD, true },
        };
        _cleanup_error_ berth_error_t *err = NULL;
        struct layer_type lt;

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                assert_int_equal(layer_media_type_parse(cases[i].media_type, &lt, &err), 0);
                assert_int_equal(lt.compression, cases[i].compression);
                assert_int_equal(lt.foreign, cases[i].foreign);
        }
        assert_true(layer_media_type_parse("application/vnd.oci.image.layer.v1.tar+bzip2", &lt, &err) < 0);
        assert_string_equal(err->msg, "unsupported layer media type \"application/vnd.oci.image.layer.v1.tar+bzip2\"");
        assert_true(layer_media_type_parse(NULL, &lt, &err) < 0);
        assert_true(layer_media_type_parse(MEDIA_TYPE_OCI_CONFIG, &lt, &err) < 0);
}

/* ---- platforms ---------------------------------------------------------------- */

static void platform_parsing(void **state)
{
        (void)state;
        static const struct {
                const char *spec, *os, *arch, *variant, *os_version;
        } cases[] = {
                { "linux/amd64", "linux", "amd64", NULL, NULL },
                { "Linux/X86_64", "linux", "amd64", NULL, NULL },
                { "linux/x86-64", "linux", "amd64", NULL, NULL },
                { "linux/amd64/v1", "linux", "amd64", NULL, NULL },
                { "linux/amd64/v3", "linux", "amd64", "v3", NULL },
                { "linux/aarch64", "linux", "arm64", NULL, NULL },
                { "linux/arm64", "linux", "arm64", NULL, NULL },
                { "linux/arm64/v8", "linux", "arm64", "v8", NULL },
                { "linux/arm64/8", "linux", "arm64", "v8", NULL },
                { "linux/arm64/v9.2", "linux", "arm64", "v9.2", NULL },
                { "linux/arm", "linux", "arm", NULL, NULL },
                { "linux/arm/v7", "linux", "arm", "v7", NULL },
                { "linux/arm/7", "linux", "arm", "v7", NULL },
                { "linux/arm/6", "linux", "arm", "v6", NULL },
                { "linux/armhf", "linux", "arm", NULL, NULL },
                { "linux/armel", "linux", "arm", "v6", NULL },
                { "linux/i386", "linux", "386", NULL, NULL },
                { "linux/386", "linux", "386", NULL, NULL },
                { "linux/s390x", "linux", "s390x", NULL, NULL },
                { "linux/riscv64", "linux", "riscv64", NULL, NULL },
                { "amd64", "linux", "amd64", NULL, NULL },
                { "aarch64", "linux", "arm64", NULL, NULL },
                { "armel", "linux", "arm", "v6", NULL },
                { "armhf", "linux", "arm", NULL, NULL },
                { "macos/arm64", "darwin", "arm64", NULL, NULL },
                { "windows(10.0.17763)/amd64", "windows", "amd64", NULL, "10.0.17763" },
                { "windows(10.0.17763+win32k)/amd64", "windows", "amd64", NULL, "10.0.17763" },
                { "freebsd/whatever", "freebsd", "whatever", NULL, NULL },
        };
        static const char *const bad[] = {
                "linux/", "/amd64", "linux//v7", "linux/amd64/v3/x", "linux/*", "foo", "linux/amd 64",
                "linux/amd64/", "linux(/amd64", "windows(1.0+)/amd64", "linux(x)y/amd64", "amd64(1.0)",
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_platform_ struct platform p = { 0 };

                if (platform_parse(cases[i].spec, &p, &err) < 0)
                        fail_msg("%s: %s", cases[i].spec, err->msg);
                assert_string_equal(p.os, cases[i].os);
                assert_string_equal(p.arch, cases[i].arch);
                if (cases[i].variant)
                        assert_string_equal(p.variant, cases[i].variant);
                else if (p.variant)
                        fail_msg("%s: variant %s", cases[i].spec, p.variant);
                if (cases[i].os_version)
                        assert_string_equal(p.os_version, cases[i].os_version);
                else
                        assert_null(p.os_version);
        }
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                struct platform p = { 0 };

                if (platform_parse(bad[i], &p, &err) == 0)
                        fail_msg("%s parsed", bad[i]);
                assert_non_null(strstr(err->msg, "invalid platform \""));
                assert_null(p.os);
        }
        {
                _cleanup_error_ berth_error_t *err = NULL;
                struct platform p;
                assert_true(platform_parse("foo", &p, &err) < 0);
                assert_string_equal(err->msg, "invalid platform \"foo\": unknown operating system or architecture");
                assert_true(platform_parse("linux/amd64/v3/x", &p, &err) < 0);
                assert_string_equal(err->msg, "invalid platform \"linux/amd64/v3/x\": want os/arch[/variant]");
        }
}

static void platform_host_and_os_only(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_platform_ struct platform host = { 0 }, empty = { 0 }, os_only = { 0 };

        assert_int_equal(platform_parse(NULL, &host, &err), 0);
        assert_string_equal(host.os, "linux");
#if defined(__x86_64__)
        assert_string_equal(host.arch, "amd64");
        assert_null(host.variant);
#elif defined(__aarch64__)
        assert_string_equal(host.arch, "arm64");
        assert_string_equal(host.variant, "v8");
#endif
        assert_int_equal(platform_parse("", &empty, &err), 0);
        assert_string_equal(empty.arch, host.arch);
        assert_int_equal(platform_parse("linux", &os_only, &err), 0);
        assert_string_equal(os_only.os, "linux");
        assert_string_equal(os_only.arch, host.arch);
}

static void platform_normalize_format(void **state)
{
        (void)state;
        static const struct {
                const char *os, *arch, *variant, *formatted;
        } cases[] = {
                { "Linux", "x86_64", NULL, "linux/amd64" },
                { "linux", "amd64", "v1", "linux/amd64" },
                { "linux", "AArch64", "v8", "linux/arm64" },
                { "linux", "arm64", "8", "linux/arm64" },
                { "linux", "arm64", "v8.2", "linux/arm64/v8.2" },
                { "linux", "arm", NULL, "linux/arm/v7" },
                { "linux", "arm", "", "linux/arm/v7" },
                { "linux", "arm", "5", "linux/arm/v5" },
                { "linux", "armhf", NULL, "linux/arm/v7" },
                { "linux", "armel", "v7", "linux/arm/v6" },
                { "linux", "i386", "v3", "linux/386" },
                { "MacOS", "arm64", NULL, "darwin/arm64" },
                { "linux", "ppc64le", "", "linux/ppc64le" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_platform_ struct platform p = { 0 };
                _cleanup_free_ char *s = NULL;

                p.os = xstrdup(cases[i].os);
                p.arch = xstrdup(cases[i].arch);
                p.variant = cases[i].variant ? xstrdup(cases[i].variant) : NULL;
                platform_normalize(&p);
                s = platform_format(&p);
                assert_string_equal(s, cases[i].formatted);
        }
        {
                struct platform p = { 0 };
                _cleanup_free_ char *s = platform_format(&p);
                assert_string_equal(s, "unknown");
        }
}

static void platform_matching(void **state)
{
        (void)state;
        static const struct {
                const char *want, *os, *arch, *variant;
                bool match;
        } cases[] = {
                { "linux/amd64", "linux", "amd64", NULL, true },
                { "linux/amd64", "linux", "x86_64", NULL, true },
                { "linux/amd64", "Linux", "AMD64", "v1", true },
                { "linux/amd64", "linux", "386", NULL, true },
                { "linux/amd64", "linux", "amd64", "v2", false },
                { "linux/amd64/v3", "linux", "amd64", "v2", true },
                { "linux/amd64/v3", "linux", "amd64", NULL, true },
                { "linux/amd64/v2", "linux", "amd64", "v3", false },
                { "linux/amd64", "windows", "amd64", NULL, false },
                { "linux/amd64", "linux", "arm64", NULL, false },
                { "linux/arm64", "linux", "arm64", "v8", true },
                { "linux/arm64", "linux", "aarch64", NULL, true },
                { "linux/arm64/v8", "linux", "arm64", NULL, true },
                { "linux/arm64", "linux", "arm64", "v8.1", false },
                { "linux/arm64/v8.2", "linux", "arm64", "v8.1", true },
                { "linux/arm64/v9.2", "linux", "arm64", "v8.7", true },
                { "linux/arm64/v9.2", "linux", "arm64", "v8.8", false },
                { "linux/arm64/v9.2", "linux", "arm64", "v9.1", true },
                { "linux/arm64", "linux", "arm", "v7", true },
                { "linux/arm64", "linux", "arm", "v8", true },
                { "linux/arm64", "linux", "arm", "v5", true },
                { "linux/arm64", "linux", "amd64", NULL, false },
                { "linux/arm/v7", "linux", "arm", NULL, true },
                { "linux/arm/v7", "linux", "armhf", NULL, true },
                { "linux/arm/v7", "linux", "arm", "v6", true },
                { "linux/arm/v7", "linux", "armel", NULL, true },
                { "linux/arm/v7", "linux", "arm", "v5", true },
                { "linux/arm/v7", "linux", "arm", "v8", false },
                { "linux/arm/v7", "linux", "arm64", NULL, false },
                { "linux/arm/v6", "linux", "arm", "v7", false },
                { "linux/arm/v5", "linux", "arm", "v6", false },
                { "linux/armel", "linux", "arm", "v5", true },
                { "linux/386", "linux", "amd64", NULL, false },
                { "linux/s390x", "linux", "s390x", NULL, true },
                { "linux/s390x", "linux", "s390x", "", true },
                { "linux/arm/vx", "linux", "arm", "vx", true },
                { "linux/arm/vx", "linux", "arm", "v5", false },
                { "linux/arm64/v8.x", "linux", "arm64", "v8.x", true },
                { "linux/arm64/v8.x", "linux", "arm64", NULL, false },
                { "linux/arm64/v8.x", "linux", "arm", "v7", true },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_platform_ struct platform want = { 0 };
                struct platform have = { (char *)cases[i].os, (char *)cases[i].arch, (char *)cases[i].variant, NULL };

                assert_int_equal(platform_parse(cases[i].want, &want, &err), 0);
                if (platform_match(&want, &have) != cases[i].match)
                        fail_msg("case %zu: %s vs %s/%s/%s: expected %d", i, cases[i].want, cases[i].os,
                                 cases[i].arch, cases[i].variant ? cases[i].variant : "", cases[i].match);
        }
}

static const char *select_digest(const struct index *ix, const char *spec)
{
        _cleanup_error_ berth_error_t *err = NULL;
        const struct descriptor *d = NULL;
        int ret = index_select_platform(ix, spec, &d, &err);

        if (ret != 0)
                fail_msg("%s: %d %s", spec ? spec : "(host)", ret, err ? err->msg : "");
        return d->digest;
}

static void select_error(const struct index *ix, const char *spec, const char *msg)
{
        _cleanup_error_ berth_error_t *err = NULL;
        const struct descriptor *d = (const struct descriptor *)&err;

        assert_true(index_select_platform(ix, spec, &d, &err) < 0);
        assert_null(d);
        assert_string_equal(err->msg, msg);
}

static void select_platform_oci_index(void **state)
{
        (void)state;
        static const struct {
                const char *spec, *digest;
        } cases[] = {
                { "linux/amd64", D_AMD64 },
                { "linux/x86_64", D_AMD64 },
                { "amd64", D_AMD64 },
                { "linux/amd64/v3", D_AMD64 },
                { "linux/arm64", D_ARM64 },
                { "linux/arm64/v8", D_ARM64 },
                { "linux/aarch64", D_ARM64 },
                { "arm64", D_ARM64 },
                { "linux/arm", D_ARMV7 },
                { "linux/armhf", D_ARMV7 },
                /* v6 is listed before v7: the exact variant still wins */
                { "linux/arm/v7", D_ARMV7 },
                { "linux/arm/v8", D_ARMV7 },
                { "linux/arm/v6", D_ARMV6 },
                { "linux/armel", D_ARMV6 },
                { "linux/386", D_386 },
                { "linux/i386", D_386 },
                { "linux/ppc64le", D_PPC },
        };
        _cleanup_index_ struct index *ix = index_ok(oci_index, NULL);

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                if (strcmp(select_digest(ix, cases[i].spec), cases[i].digest) != 0)
                        fail_msg("%s: got %s", cases[i].spec, select_digest(ix, cases[i].spec));
#if defined(__x86_64__)
        assert_string_equal(select_digest(ix, NULL), D_AMD64);
#elif defined(__aarch64__)
        assert_string_equal(select_digest(ix, NULL), D_ARM64);
#endif
        select_error(ix, "linux/s390x",
                     "no linux/s390x in the index; it has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, "
                     "linux/386, linux/ppc64le");
        select_error(ix, "linux/arm/v5",
                     "no linux/arm/v5 in the index; it has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, "
                     "linux/386, linux/ppc64le");
        /* the attestation manifest is never an image */
        select_error(ix, "unknown/unknown",
                     "no unknown/unknown in the index; it has linux/amd64, linux/arm/v6, linux/arm/v7, "
                     "linux/arm64/v8, linux/386, linux/ppc64le");
        select_error(ix, "linux/amd64/v3/x", "invalid platform \"linux/amd64/v3/x\": want os/arch[/variant]");
}

static void select_platform_docker_list(void **state)
{
        (void)state;
        _cleanup_index_ struct index *ix = index_ok(docker_list, NULL);

        assert_string_equal(select_digest(ix, "linux/amd64"), D_AMD64);
        assert_string_equal(select_digest(ix, "linux/arm64/v8"), D_ARM64);
        assert_string_equal(select_digest(ix, "linux/arm/v7"), D_ARMV7);
        assert_string_equal(select_digest(ix, "windows/amd64"), D_WIN);
        assert_string_equal(select_digest(ix, "windows"), D_WIN);
        select_error(ix, "linux/s390x",
                     "no linux/s390x in the index; it has linux/amd64, linux/arm/v7, linux/arm64/v8, windows/amd64");
        select_error(ix, "linux/arm/v6",
                     "no linux/arm/v6 in the index; it has linux/amd64, linux/arm/v7, linux/arm64/v8, windows/amd64");
}

/* Compatible fallbacks, in containerd's order of preference. */
static void select_platform_fallbacks(void **state)
{
        (void)state;
        static const char arm_old[] = "{\"schemaVersion\": 2, \"manifests\": ["
                ENTRY(MT_O, D_ARMV6, 1, PLATV("arm", "linux", "v5")) ","
                ENTRY(MT_O, D_ARMV7, 1, PLATV("arm", "linux", "v6")) "]}";
        static const char x86[] = "{\"schemaVersion\": 2, \"manifests\": ["
                ENTRY(MT_O, D_386, 1, PLAT("386", "linux")) ","
                ENTRY(MT_O, D_AMD64, 1, PLAT("amd64", "linux")) ","
                ENTRY(MT_O, D_S390X, 1, PLATV("amd64", "linux", "v2")) ","
                ENTRY(MT_O, D_PPC, 1, PLATV("amd64", "linux", "v4")) "]}";
        static const char arm64[] = "{\"schemaVersion\": 2, \"manifests\": ["
                ENTRY(MT_O, D_ARMV7, 1, PLATV("arm", "linux", "v7")) ","
                ENTRY(MT_O, D_ARM64, 1, PLAT("aarch64", "linux")) ","
                ENTRY(MT_O, D_S390X, 1, PLATV("arm64", "linux", "v8.6")) "]}";
        static const char only_386[] = "{\"schemaVersion\": 2, \"manifests\": ["
                ENTRY(MT_O, D_386, 1, PLAT("386", "linux")) "]}";
        static const char only_arm[] = "{\"schemaVersion\": 2, \"manifests\": ["
                ENTRY(MT_O, D_ARMV7, 1, PLATV("arm", "linux", "v7")) "]}";
        _cleanup_index_ struct index *a = index_ok(arm_old, NULL);
        _cleanup_index_ struct index *x = index_ok(x86, NULL);
        _cleanup_index_ struct index *a64 = index_ok(arm64, NULL);
        _cleanup_index_ struct index *i386 = index_ok(only_386, NULL);
        _cleanup_index_ struct index *arm = index_ok(only_arm, NULL);

        /* arm/v7 runs v6 before v5 */
        assert_string_equal(select_digest(a, "linux/arm/v7"), D_ARMV7);
        assert_string_equal(select_digest(a, "linux/arm64"), D_ARMV7);
        assert_string_equal(select_digest(a, "linux/arm/v5"), D_ARMV6);
        /* amd64 prefers itself to 386, listed first; v3 takes v2 over v1 and never v4 */
        assert_string_equal(select_digest(x, "linux/amd64"), D_AMD64);
        assert_string_equal(select_digest(x, "linux/amd64/v3"), D_S390X);
        assert_string_equal(select_digest(x, "linux/amd64/v4"), D_PPC);
        assert_string_equal(select_digest(x, "linux/386"), D_386);
        assert_string_equal(select_digest(i386, "linux/amd64"), D_386);
        /* arm64/v9.2 runs v8.7 and lower: v8.6 is preferred to plain v8 */
        assert_string_equal(select_digest(a64, "linux/arm64/v9.2"), D_S390X);
        assert_string_equal(select_digest(a64, "linux/arm64"), D_ARM64);
        assert_string_equal(select_digest(a64, "linux/arm/v7"), D_ARMV7);
        /* 64-bit ARM runs 32-bit ARM images when nothing better is there */
        assert_string_equal(select_digest(arm, "linux/arm64/v8"), D_ARMV7);
        select_error(arm, "linux/arm/v6", "no linux/arm/v6 in the index; it has linux/arm/v7");
}

static void select_platform_special_entries(void **state)
{
        (void)state;
        static const char nested[] = "{\"schemaVersion\": 2, \"manifests\": ["
                "{\"mediaType\": \"" MEDIA_TYPE_OCI_INDEX "\", \"digest\": \"" D_S390X "\", \"size\": 300},"
                ENTRY(MT_O, D_AMD64, 1, PLAT("amd64", "linux")) "]}";
        static const char foreign[] = "{\"schemaVersion\": 2, \"manifests\": ["
                ENTRY("application/vnd.example.sbom+json", D_S390X, 1, PLAT("amd64", "linux")) ","
                ENTRY(MEDIA_TYPE_OCI_INDEX, D_ARM64, 1, PLAT("arm64", "linux")) ","
                ENTRY(MT_D, D_AMD64, 1, PLAT("amd64", "linux")) "]}";
        static const char garbage[] = "{\"schemaVersion\": 2, \"manifests\": ["
                ENTRY(MT_O, D_AMD64, 1, PLAT("am\\u0001d64", "linux")) ","
                ENTRY(MT_O, D_ARM64, 1, PLAT("amd64", "linux")) ","
                ENTRY(MT_O, D_ARMV7, 1, PLAT("amd64", "linux")) "]}";
        _cleanup_index_ struct index *n = index_ok(nested, NULL);
        _cleanup_index_ struct index *f = index_ok(foreign, NULL);
        _cleanup_index_ struct index *g = index_ok(garbage, NULL);
        _cleanup_index_ struct index *empty = index_ok("{\"schemaVersion\": 2, \"manifests\": []}", NULL);
        _cleanup_error_ berth_error_t *err = NULL;
        const struct descriptor *d = NULL;

        /* an entry with a platform wins over one without */
        assert_string_equal(select_digest(n, "linux/amd64"), D_AMD64);
        /* without a match, the entry without a platform is returned, flagged 1 */
        assert_int_equal(index_select_platform(n, "linux/s390x", &d, &err), 1);
        assert_string_equal(d->digest, D_S390X);
        assert_null(err);
        /* entries that are not manifests are skipped; nested indexes are not */
        assert_string_equal(select_digest(f, "linux/amd64"), D_AMD64);
        assert_string_equal(select_digest(f, "linux/arm64"), D_ARM64);
        /* listing: duplicates once, control bytes escaped */
        select_error(g, "linux/s390x", "no linux/s390x in the index; it has linux/am\\x01d64, linux/amd64");
        assert_string_equal(select_digest(g, "linux/amd64"), D_ARM64);
        select_error(empty, "linux/amd64", "no linux/amd64 in the index; it lists no images");
        {
                _cleanup_free_ char *doc = NULL;
                _cleanup_index_ struct index *big = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&doc, &len);

                fputs("{\"schemaVersion\": 2, \"manifests\": [", f);
                for (int i = 0; i < 40; i++)
                        fprintf(f, "%s{\"mediaType\": \"" MT_O "\", \"digest\": \"" D_AMD64 "\", \"size\": 1,"
                                   " \"platform\": {\"os\": \"linux\", \"architecture\": \"a%d\"}}",
                                i ? "," : "", i);
                fputs("]}", f);
                fclose(f);
                big = index_ok(doc, NULL);
                assert_true(index_select_platform(big, "linux/s390x", &d, &err) < 0);
                assert_true(str_has_prefix(err->msg, "no linux/s390x in the index; it has linux/a0, linux/a1, "));
                assert_non_null(strstr(err->msg, ", linux/a32 and more"));
                assert_null(strstr(err->msg, "linux/a33"));
        }
        select_error(empty, "linux/arm", "no linux/arm/v7 in the index; it lists no images");
}

/* ---- image config ---------------------------------------------------------------- */

static void config_fields(void **state)
{
        (void)state;
        _cleanup_image_config_ struct image_config *c = config_ok(image_config);

        assert_string_equal(c->architecture, "amd64");
        assert_string_equal(c->os, "linux");
        assert_null(c->variant);
        assert_null(c->os_version);
        assert_string_equal(c->created, "2024-05-01T10:00:00.123456789Z");
        assert_null(c->author);
        assert_int_equal(strv_len(c->env), 2);
        assert_string_equal(c->env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        assert_string_equal(c->env[1], "APP_HOME=/srv/app");
        assert_int_equal(strv_len(c->entrypoint), 1);
        assert_string_equal(c->entrypoint[0], "/docker-entrypoint.sh");
        assert_int_equal(strv_len(c->cmd), 3);
        assert_string_equal(c->cmd[0], "nginx");
        assert_string_equal(c->cmd[2], "daemon off;");
        assert_string_equal(c->working_dir, "/srv/app");
        assert_string_equal(c->user, "101:101");
        assert_int_equal(strv_len(c->exposed_ports), 3);
        assert_string_equal(c->exposed_ports[0], "80/tcp");
        assert_string_equal(c->exposed_ports[1], "443/tcp");
        assert_string_equal(c->exposed_ports[2], "53/udp");
        assert_int_equal(strv_len(c->volumes), 1);
        assert_string_equal(c->volumes[0], "/var/cache/nginx");
        assert_int_equal(json_object_size(c->labels), 2);
        assert_string_equal(json_string_value(json_object_get(c->labels, "maintainer")), "NGINX Docker Maintainers");
        assert_string_equal(c->stop_signal, "SIGQUIT");
        assert_int_equal(c->n_diff_ids, 3);
        assert_int_equal(strv_len(c->diff_ids), 3);
        assert_string_equal(c->diff_ids[0], D_DIFF1);
        assert_string_equal(c->diff_ids[2], D_DIFF3);
        assert_int_equal(c->n_history, 3);
        assert_string_equal(c->history[0].created_by, "/bin/sh -c #(nop) ADD file:abc in / ");
        assert_false(c->history[0].empty_layer);
        assert_null(c->history[0].comment);
        assert_true(c->history[1].empty_layer);
        assert_string_equal(c->history[1].created_by, "/bin/sh -c #(nop)  CMD [\"bash\"]");
        assert_string_equal(c->history[2].comment, "buildkit.dockerfile.v0");
        assert_string_equal(c->history[2].author, "someone");
        assert_string_equal(c->history[2].created, "2024-05-01T10:00:00Z");
        /* the raw document is kept for everything else */
        assert_true(json_is_null(json_object_get(json_object_get(c->raw, "config"), "OnBuild")));
        assert_string_equal(json_string_value(json_object_get(json_object_get(c->raw, "config"), "Hostname")), "");
}

/* A minimal config (FROM scratch with nothing set): absent and null fields
 * are NULL, empty arrays are empty vectors. */
static void config_minimal(void **state)
{
        (void)state;
        static const char minimal[] =
                "{\"architecture\": \"arm64\", \"variant\": \"v8\", \"os\": \"linux\", \"config\": {\"Env\": null,"
                " \"Entrypoint\": [], \"Cmd\": null, \"Labels\": null, \"Volumes\": null, \"ExposedPorts\": {}},"
                " \"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}";
        static const char no_config[] =
                "{\"architecture\": \"amd64\", \"os\": \"linux\", \"rootfs\": {\"type\": \"layers\", \"diff_ids\": []},"
                " \"history\": null}";
        _cleanup_image_config_ struct image_config *c = config_ok(minimal);
        _cleanup_image_config_ struct image_config *n = config_ok(no_config);

        assert_string_equal(c->variant, "v8");
        assert_null(c->env);
        assert_non_null(c->entrypoint);
        assert_null(c->entrypoint[0]);
        assert_null(c->cmd);
        assert_null(c->labels);
        assert_null(c->volumes);
        assert_non_null(c->exposed_ports);
        assert_null(c->exposed_ports[0]);
        assert_null(c->working_dir);
        assert_null(c->user);
        assert_null(c->stop_signal);
        assert_int_equal(c->n_diff_ids, 0);
        assert_non_null(c->diff_ids);
        assert_int_equal(c->n_history, 0);
        assert_null(c->history);
        assert_null(n->env);
        assert_null(n->entrypoint);
        assert_int_equal(n->n_history, 0);
}

static void config_malformed(void **state)
{
        (void)state;
        static const struct {
                const char *path, *value, *msg;
        } cases[] = {
                { "architecture", NULL, "image config: architecture: missing" },
                { "os", "1", "image config: os: not a string" },
                { "created", "{}", "image config: created: not a string" },
                { "config", "[]", "image config: config: not an object" },
                { "config/Env", "\"PATH=/bin\"", "image config: config.Env: not an array" },
                { "config/Env", "[\"A=1\", null]", "image config: config.Env[1]: not a string" },
                { "config/Cmd", "[1]", "image config: config.Cmd[0]: not a string" },
                { "config/Entrypoint", "\"/bin/sh\"", "image config: config.Entrypoint: not an array" },
                { "config/WorkingDir", "[]", "image config: config.WorkingDir: not a string" },
                { "config/User", "0", "image config: config.User: not a string" },
                { "config/StopSignal", "15", "image config: config.StopSignal: not a string" },
                { "config/ExposedPorts", "[\"80/tcp\"]", "image config: config.ExposedPorts: not an object" },
                { "config/ExposedPorts", "{\"http\": {}}",
                  "image config: config.ExposedPorts: \"http\" is not a port (\"80/tcp\")" },
                { "config/ExposedPorts", "{\"80/tcpx\": {}}",
                  "image config: config.ExposedPorts: \"80/tcpx\" is not a port (\"80/tcp\")" },
                { "config/ExposedPorts", "{\"65536/tcp\": {}}",
                  "image config: config.ExposedPorts: \"65536/tcp\" is not a port (\"80/tcp\")" },
                { "config/ExposedPorts", "{\"90-80/tcp\": {}}",
                  "image config: config.ExposedPorts: \"90-80/tcp\" is not a port (\"80/tcp\")" },
                { "config/Volumes", "[\"/data\"]", "image config: config.Volumes: not an object" },
                { "config/Labels", "{\"a\": 1}", "image config: config.Labels[\"a\"]: not a string" },
                { "rootfs", NULL, "image config: rootfs: missing" },
                { "rootfs", "\"layers\"", "image config: rootfs: not an object" },
                { "rootfs/type", NULL, "image config: rootfs.type: missing" },
                { "rootfs/type", "[]", "image config: rootfs.type: not a string" },
                { "rootfs/type", "\"zfs\"", "image config: rootfs.type: \"zfs\" is not supported (want \"layers\")" },
                { "rootfs/diff_ids", NULL, "image config: rootfs.diff_ids: missing" },
                { "rootfs/diff_ids", "{}", "image config: rootfs.diff_ids: not an array" },
                { "rootfs/diff_ids/1", "\"sha256:00\"",
                  "image config: rootfs.diff_ids[1]: \"sha256:00\" is not a sha256 digest (\"sha256:\" and 64 "
                  "lowercase hex digits)" },
                { "rootfs/diff_ids/2", "7", "image config: rootfs.diff_ids[2]: not a string" },
                { "history", "{}", "image config: history: not an array" },
                { "history/1", "[]", "image config: history[1]: not an object" },
                { "history/1/empty_layer", "\"true\"", "image config: history[1].empty_layer: not a boolean" },
                { "history/0/created_by", "[]", "image config: history[0].created_by: not a string" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                expect_config_mutation_error(cases[i].path, cases[i].value, cases[i].msg);
        expect_config_error("[]", "image config: not a JSON object");
        {
                _cleanup_error_ berth_error_t *err = NULL;
                struct image_config *c = NULL;
                static const char dup[] = "{\"os\": \"linux\", \"os\": \"linux\"}";
                _cleanup_free_ char *big = xmalloc(IMAGE_CONFIG_MAX_SIZE + 1);

                assert_true(image_config_parse(dup, strlen(dup), &c, &err) < 0);
                assert_true(str_has_prefix(err->msg, "image config: invalid JSON: duplicate object key"));
                assert_true(image_config_parse("{}", 2, &c, &err) < 0);
                assert_string_equal(err->msg, "image config: architecture: missing");
                memset(big, ' ', IMAGE_CONFIG_MAX_SIZE + 1);
                assert_true(image_config_parse(big, IMAGE_CONFIG_MAX_SIZE + 1, &c, &err) < 0);
                assert_string_equal(err->msg, "image config: the document is 16777217 bytes, more than the 16 MiB allowed");
        }
}

static void config_ports(void **state)
{
        (void)state;
        _cleanup_free_ char *doc = mutate(image_config, "config/ExposedPorts",
                                          "{\"80\": {}, \"8000-8010/tcp\": {}, \"53/sctp\": {}, \"65535/udp\": {}}");
        _cleanup_image_config_ struct image_config *c = config_ok(doc);

        assert_int_equal(strv_len(c->exposed_ports), 4);
        assert_string_equal(c->exposed_ports[1], "8000-8010/tcp");
}

static void config_checks(void **state)
{
        (void)state;
        _cleanup_image_config_ struct image_config *c = config_ok(image_config);
        _cleanup_manifest_ struct manifest *three = manifest_ok(docker_manifest, NULL);
        _cleanup_manifest_ struct manifest *four = manifest_ok(oci_manifest, NULL);
        _cleanup_free_ char *armdoc = mutate(image_config, "architecture", "\"arm\"");
        _cleanup_free_ char *armdoc2 = mutate(armdoc, "variant", "\"v6\"");
        _cleanup_image_config_ struct image_config *arm = config_ok(armdoc2);
        _cleanup_error_ berth_error_t *err = NULL;

        assert_int_equal(image_config_check_layers(c, three, &err), 0);
        assert_true(image_config_check_layers(c, four, &err) < 0);
        assert_string_equal(err->msg, "image config: rootfs.diff_ids has 3 entries but the manifest has 4 layers");

        assert_int_equal(image_config_check_platform(c, "linux/amd64", &err), 0);
        assert_int_equal(image_config_check_platform(c, "linux/x86_64", &err), 0);
        assert_true(image_config_check_platform(c, "linux/arm64", &err) < 0);
        assert_string_equal(err->msg, "image config: the image is for linux/amd64, not linux/arm64");
        assert_int_equal(image_config_check_platform(arm, "linux/arm/v7", &err), 0);
        assert_int_equal(image_config_check_platform(arm, "linux/arm64", &err), 0);
        assert_true(image_config_check_platform(arm, "linux/arm/v5", &err) < 0);
        assert_string_equal(err->msg, "image config: the image is for linux/arm/v6, not linux/arm/v5");
        assert_true(image_config_check_platform(arm, "linux/*", &err) < 0);
        assert_string_equal(err->msg, "invalid platform \"linux/*\": wildcards are not supported");
#if defined(__x86_64__)
        assert_int_equal(image_config_check_platform(c, NULL, &err), 0);
#endif
}

/* ---- ownership ---------------------------------------------------------------- */

static void copy_and_free(void **state)
{
        (void)state;
        struct descriptor copy;
        _cleanup_index_ struct index *ix = index_ok(docker_list, NULL);
        _cleanup_manifest_ struct manifest *m = manifest_ok(oci_manifest, NULL);

        descriptor_copy(&copy, &ix->manifests[3]);
        assert_string_equal(copy.digest, D_WIN);
        assert_ptr_not_equal(copy.digest, ix->manifests[3].digest);
        assert_string_equal(copy.platform->os_version, "10.0.17763.5696");
        assert_ptr_not_equal(copy.platform, ix->manifests[3].platform);
        assert_int_equal(copy.size, 1125);
        descriptor_clear(&copy);
        assert_null(copy.digest);

        descriptor_copy(&copy, &m->layers[1]);
        assert_ptr_not_equal(copy.annotations, m->layers[1].annotations);
        assert_true(json_equal(copy.annotations, m->layers[1].annotations));
        descriptor_clear(&copy);

        descriptor_copy(&copy, &m->layers[3]);
        index_free(steal_pointer(&ix));
        manifest_free(steal_pointer(&m));
        assert_string_equal(copy.urls[0], "https://example.com/layer.tar.gz");
        assert_null(copy.urls[1]);
        assert_null(copy.annotations);
        descriptor_clear(&copy);

        manifest_free(NULL);
        index_free(NULL);
        image_config_free(NULL);
        platform_free(NULL);
        platform_clear(NULL);
        descriptor_clear(NULL);
        image_history_clear(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(docker_manifest_fields),
                cmocka_unit_test(oci_manifest_fields),
                cmocka_unit_test(manifest_kind_detection),
                cmocka_unit_test(kind_names),
                cmocka_unit_test(docker_list_fields),
                cmocka_unit_test(oci_index_fields),
                cmocka_unit_test(wrong_kind_refused),
                cmocka_unit_test(schema1_refused),
                cmocka_unit_test(content_type_conflicts),
                cmocka_unit_test(malformed_json),
                cmocka_unit_test(malformed_manifest_fields),
                cmocka_unit_test(malformed_index_fields),
                cmocka_unit_test(limits),
                cmocka_unit_test(check_image),
                cmocka_unit_test(layer_media_types),
                cmocka_unit_test(platform_parsing),
                cmocka_unit_test(platform_host_and_os_only),
                cmocka_unit_test(platform_normalize_format),
                cmocka_unit_test(platform_matching),
                cmocka_unit_test(select_platform_oci_index),
                cmocka_unit_test(select_platform_docker_list),
                cmocka_unit_test(select_platform_fallbacks),
                cmocka_unit_test(select_platform_special_entries),
                cmocka_unit_test(config_fields),
                cmocka_unit_test(config_minimal),
                cmocka_unit_test(config_malformed),
                cmocka_unit_test(config_ports),
                cmocka_unit_test(config_checks),
                cmocka_unit_test(copy_and_free),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
