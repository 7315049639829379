/* The delay-loading stubs of src/lazy, linked here instead of the
 * libraries: nothing is loaded before the first call; the variadic stubs
 * (curl_easy_setopt's dispatch on the option's type, curl_easy_getinfo,
 * archive_set_error) and the gnutls_free variable pass their arguments
 * on; concurrent first calls load once; a missing library or symbol is
 * one line on stderr and abort(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <archive.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lazy/lazy.h"

static bool loaded(const char *soname)
{
        void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);

        if (h == NULL)
                return false;
        dlclose(h);
        return true;
}

struct body {
        char data[64];
        size_t len;
};

static size_t write_body(char *p, size_t size, size_t n, void *arg)
{
        struct body *b = arg;

        if (b->len + n > sizeof(b->data))
                return 0;
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return size * n;
}

/* A file:// transfer: each option type range reaches libcurl intact. */
static void curl_setopt_dispatch(void **state)
{
        (void)state;
        char path[] = "/tmp/test-lazy.XXXXXX", url[64], *eff = NULL;
        static const char cert[] = "-----BEGIN CERTIFICATE-----\n";
        struct curl_blob blob = { .data = (void *)cert, .len = sizeof(cert) - 1, .flags = CURL_BLOB_COPY };
        struct body b = { .len = 0 };
        curl_off_t got = -1;
        long code = -1;
        int fd = mkstemp(path);
        CURL *c;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "0123456789", 10), 10);
        close(fd);
        snprintf(url, sizeof(url), "file://%s", path);

        assert_false(loaded("libcurl.so.4"));
        c = curl_easy_init();
        assert_non_null(c);
        assert_true(loaded("libcurl.so.4"));

        /* STRINGPOINT, FUNCTIONPOINT, CBPOINT, OFF_T */
        assert_int_equal(curl_easy_setopt(c, CURLOPT_URL, url), CURLE_OK);
        assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body), CURLE_OK);
        assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEDATA, &b), CURLE_OK);
        assert_int_equal(curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)3), CURLE_OK);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        assert_int_equal(b.len, 7);
        assert_memory_equal(b.data, "3456789", 7);
        /* getinfo: pointers to curl_off_t, char * and long */
        assert_int_equal(curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &got), CURLE_OK);
        assert_int_equal(got, 7);
        assert_int_equal(curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff), CURLE_OK);
        assert_string_equal(eff, url);
        assert_int_equal(curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
        assert_int_equal(code, 0);

        /* LONG */
        b.len = 0;
        assert_int_equal(curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)0), CURLE_OK);
        assert_int_equal(curl_easy_setopt(c, CURLOPT_RESUME_FROM, 6L), CURLE_OK);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        assert_int_equal(b.len, 4);
        assert_memory_equal(b.data, "6789", 4);
        curl_easy_reset(c);

        /* BLOB (copied by libcurl: a wrong pointer would not survive) */
        assert_int_equal(curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob), CURLE_OK);
        /* a range no type has, and an unknown option of the long range */
        assert_int_equal(curl_easy_setopt(c, (CURLoption)(CURLOPTTYPE_BLOB + 10000), 1L), CURLE_UNKNOWN_OPTION);
        assert_int_equal(curl_easy_setopt(c, (CURLoption)9999, 1L), CURLE_UNKNOWN_OPTION);
        curl_easy_cleanup(c);
        unlink(path);
}

/* archive_set_error formats in the stub: the message arrives whole. */
static void archive_set_error_formats(void **state)
{
        (void)state;
        char big[3000];
        struct archive *a;

        assert_false(loaded("libarchive.so.13"));
        a = archive_read_new();
        assert_non_null(a);
        assert_true(loaded("libarchive.so.13"));
        archive_set_error(a, EPIPE, "%s %d %llu %c", "reader", -7, 18446744073709551615ULL, 'x');
        assert_int_equal(archive_errno(a), EPIPE);
        assert_string_equal(archive_error_string(a), "reader -7 18446744073709551615 x");
        memset(big, 'b', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        archive_set_error(a, EIO, "<%s>", big);
        assert_int_equal(strlen(archive_error_string(a)), sizeof(big) + 1);
        archive_set_error(a, 0, NULL);
        assert_null(archive_error_string(a));
        archive_read_free(a);
}

/* gnutls_free is a variable holding a function: ours calls gnutls's. */
static void gnutls_free_variable(void **state)
{
        (void)state;
        gnutls_datum_t out = { NULL, 0 };

        assert_false(loaded("libgnutls.so.30"));
        assert_non_null(gnutls_strerror(GNUTLS_E_AGAIN));
        assert_true(loaded("libgnutls.so.30"));
        assert_int_equal(gnutls_certificate_verification_status_print(GNUTLS_CERT_INVALID, GNUTLS_CRT_X509, &out, 0), 0);
        assert_non_null(out.data);
        assert_true(strstr((char *)out.data, "NOT trusted") != NULL);
        gnutls_free(out.data);
}

static pthread_barrier_t barrier;

static void *first_call(void *arg)
{
        pthread_barrier_wait(&barrier);
        *(const EVP_MD **)arg = EVP_sha256();
        return NULL;
}

/* Threads racing to the first call of a library all get the real thing. */
static void concurrent_first_calls(void **state)
{
        (void)state;
        enum { N = 16 };
        const EVP_MD *md[N] = { NULL };
        pthread_t t[N];

        assert_false(loaded("libcrypto.so.3"));
        assert_int_equal(pthread_barrier_init(&barrier, NULL, N), 0);
        for (int i = 0; i < N; i++)
                assert_int_equal(pthread_create(&t[i], NULL, first_call, &md[i]), 0);
        for (int i = 0; i < N; i++)
                assert_int_equal(pthread_join(t[i], NULL), 0);
        pthread_barrier_destroy(&barrier);
        assert_true(loaded("libcrypto.so.3"));
        for (int i = 0; i < N; i++) {
                assert_non_null(md[i]);
                assert_ptr_equal(md[i], md[0]);
        }
}

/* lazy_load in a child: its status and what it wrote on stderr. */
static int load_in_child(const char *soname, const char *name, char *msg, size_t size)
{
        const char *names[] = { name };
        void *fns[1];
        int p[2], status;
        ssize_t n;
        pid_t pid;

        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(p[1], 2);
                signal(SIGABRT, SIG_DFL);
                lazy_load(soname, names, fns, 1);
                _exit(0);
        }
        close(p[1]);
        n = read(p[0], msg, size - 1);
        msg[n > 0 ? n : 0] = '\0';
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

static bool has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void broken_install_aborts(void **state)
{
        (void)state;
        char msg[512];
        int status;

        status = load_in_child("libberth-no-such.so.0", "f", msg, sizeof(msg));
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
        assert_true(has_prefix(msg, "test-lazy: cannot load libberth-no-such.so.0: "));
        assert_non_null(strstr(msg, "No such file"));
        assert_int_equal(strchr(msg, '\n') - msg, (long)strlen(msg) - 1);

        status = load_in_child("libcurl.so.4", "curl_no_such_function", msg, sizeof(msg));
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
        assert_true(has_prefix(msg, "test-lazy: cannot load libcurl.so.4: "));
        assert_non_null(strstr(msg, "undefined symbol: curl_no_such_function"));

        status = load_in_child("libcurl.so.4", "curl_easy_init", msg, sizeof(msg));
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_string_equal(msg, "");
}

int main(void)
{
        /* each test checks its library is not loaded before its first
         * call: libcurl, last, brings libcrypto and gnutls along */
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(concurrent_first_calls),
                cmocka_unit_test(gnutls_free_variable),
                cmocka_unit_test(archive_set_error_formats),
                cmocka_unit_test(curl_setopt_dispatch),
                cmocka_unit_test(broken_install_aborts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
