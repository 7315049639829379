/* libFuzzer target: image references and digests as users and registries
 * hand them to us.  Every reference that parses must round-trip: its fully
 * qualified string and its familiar string both parse again to the same
 * fully qualified string.  The error message is always one line. */
#include "image/digest.h"
#include "image/reference.h"
#include "util/util.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_one_line(berth_error_t *err)
{
        if (err == NULL || err->msg == NULL || strchr(err->msg, '\n') != NULL || err->msg[0] == '\0')
                abort();
}

static void reparse_same(const char *s, const char *want)
{
        _cleanup_image_ref_ struct image_ref r = { 0 };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *again = NULL;

        if (image_ref_parse(s, &r, &err) < 0) {
                fprintf(stderr, "round trip: \"%s\" does not parse: %s\n", s, err->msg);
                abort();
        }
        again = image_ref_string(&r);
        if (strcmp(again, want) != 0) {
                fprintf(stderr, "round trip: \"%s\" gives \"%s\", want \"%s\"\n", s, again, want);
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = xmalloc(size + 1);
        _cleanup_image_ref_ struct image_ref r = { 0 };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *full = NULL, *familiar = NULL, *name = NULL;
        struct digest d;

        memcpy(s, data, size);
        s[size] = '\0';

        if (digest_parse(s, &d, &err) == 0) {
                _cleanup_free_ char *joined = xasprintf("%s:%s", d.algo, d.hex);
                if (strcmp(joined, s) != 0)
                        abort();
        } else {
                check_one_line(err);
        }
        berth_error_free(&err);

        if (image_ref_parse(s, &r, &err) < 0) {
                check_one_line(err);
                if (r.domain || r.path || r.tag || r.digest)
                        abort();
                return 0;
        }
        if (r.domain == NULL || r.path == NULL || (r.tag == NULL && r.digest == NULL))
                abort();
        if (r.digest && digest_parse(r.digest, NULL, NULL) < 0)
                abort();
        if (strlen(r.path) > IMAGE_REF_PATH_MAX)
                abort();
        full = image_ref_string(&r);
        familiar = image_ref_familiar(&r);
        name = image_ref_name(&r);
        if (strncmp(full, name, strlen(name)) != 0 || image_ref_registry_host(&r)[0] == '\0')
                abort();
        reparse_same(full, full);
        reparse_same(familiar, full);
        return 0;
}
