/* libFuzzer target: the documents a registry serves for an image.  The same
 * bytes go to the manifest/index parser (with no Content-Type and with one
 * picked from the input's length), to platform selection when they are an
 * index, and to the image config parser; short inputs are also platform
 * specifiers.  Corpus: tests/fuzz/corpus/manifest. */
#include "image/manifest.h"
#include "util/util.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[] = {
        MEDIA_TYPE_DOCKER_MANIFEST,
        MEDIA_TYPE_DOCKER_MANIFEST_LIST,
        MEDIA_TYPE_OCI_MANIFEST,
        MEDIA_TYPE_OCI_INDEX "; charset=utf-8",
        MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED,
        "application/json",
};

static const char *const platforms[] = {
        NULL, "linux/amd64", "linux/amd64/v3", "linux/arm64/v8", "linux/arm64/v9.3", "linux/arm/v7",
        "linux/arm/v5", "linux/386", "windows/amd64", "s390x",
};

static void use_index(const struct index *ix)
{
        for (size_t i = 0; i < ARRAY_SIZE(platforms); i++) {
                berth_error_t *err = NULL;
                const struct descriptor *d = NULL;
                int ret = index_select_platform(ix, platforms[i], &d, &err);

                if (ret >= 0 && (d == NULL || d < ix->manifests || d >= ix->manifests + ix->n))
                        __builtin_trap();
                if (ret < 0 && (err == NULL || d != NULL))
                        __builtin_trap();
                berth_error_free(&err);
        }
        for (size_t i = 0; i < ix->n; i++) {
                struct descriptor copy;
                descriptor_copy(&copy, &ix->manifests[i]);
                descriptor_clear(&copy);
        }
}

static void use_manifest(const struct manifest *m, const struct image_config *c)
{
        berth_error_t *err = NULL;
        struct layer_type lt;

        (void)manifest_check_image(m, &err);
        berth_error_free(&err);
        for (size_t i = 0; i < m->n_layers; i++) {
                if (m->layers[i].size < 0 || strlen(m->layers[i].digest) != 71)
                        __builtin_trap();
                (void)layer_media_type_parse(m->layers[i].media_type, &lt, &err);
                berth_error_free(&err);
        }
        if (c) {
                (void)image_config_check_layers(c, m, &err);
                berth_error_free(&err);
        }
}

static void parse_with(const uint8_t *data, size_t size, const char *content_type, const struct image_config *c)
{
        berth_error_t *err = NULL;
        struct manifest *m = NULL;
        struct index *ix = NULL;
        enum manifest_kind kind;
        int ret = manifest_parse_any(data, size, content_type, &m, &ix, &err);

        if (ret < 0) {
                if (err == NULL || m || ix)
                        __builtin_trap();
                berth_error_free(&err);
        } else if ((m == NULL) == (ix == NULL)) {
                __builtin_trap();
        }
        if (ix)
                use_index(ix);
        if (m)
                use_manifest(m, c);
        /* detection agrees with parsing */
        if (manifest_detect(data, size, content_type, &kind, &err) < 0) {
                if (ret == 0)
                        __builtin_trap();
                berth_error_free(&err);
        } else if (ret == 0 && kind != (m ? m->kind : ix->kind)) {
                __builtin_trap();
        }
        manifest_free(m);
        index_free(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        berth_error_t *err = NULL;
        struct image_config *c = NULL;

        if (image_config_parse(data, size, &c, &err) < 0)
                berth_error_free(&err);
        else
                for (size_t i = 0; i < ARRAY_SIZE(platforms); i++) {
                        (void)image_config_check_platform(c, platforms[i], &err);
                        berth_error_free(&err);
                }
        parse_with(data, size, NULL, c);
        parse_with(data, size, content_types[size % ARRAY_SIZE(content_types)], c);
        image_config_free(c);

        if (size < 64) {
                char spec[64];
                struct platform p = { 0 }, host = { 0 };

                memcpy(spec, data, size);
                spec[size] = '\0';
                if (platform_parse(spec, &p, &err) == 0) {
                        char *s = platform_format(&p);
                        (void)platform_parse(NULL, &host, &err);
                        (void)platform_match(&p, &host);
                        (void)platform_match(&host, &p);
                        platform_normalize(&p);
                        free(s);
                        platform_clear(&host);
                }
                berth_error_free(&err);
                platform_clear(&p);
        }
        return 0;
}
