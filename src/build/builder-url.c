/* ADD <url>: the builder fetches the file itself, as dockerd's legacy
 * builder does: into a spool file under the data root, named after the
 * URL's last path segment, mode 0600, its mtime the server's
 * Last-Modified when it sends one (else now, or SOURCE_DATE_EPOCH).  An
 * archive fetched this way is not unpacked (Docker's rule).  Redirects
 * are followed; an HTTP error status fails the step. */
#include "build/builder-internal.h"
#include "util/util.h"
#include <curl/curl.h>
#include <sys/stat.h>

#define URL_MAX_REDIRECTS 10L

struct fetch {
        int fd;
        int error;      /* errno of a failed write */
};

static size_t write_cb(char *p, size_t size, size_t n, void *data)
{
        struct fetch *f = data;

        if (write_all(f->fd, p, size * n) < 0) {
                f->error = errno;
                return 0;
        }
        return size * n;
}

/* "http://h/a/b.tar.gz?x=1" -> "b.tar.gz"; Docker falls back to the host
 * when the path has no name. */
static char *url_file_name(const char *url)
{
        const char *p = strstr(url, "://");
        const char *start = p ? p + 3 : url, *end = start + strcspn(start, "?#");
        const char *slash = end;

        while (slash > start && slash[-1] != '/')
                slash--;
        if (slash == end || slash == start) {
                size_t hl = strcspn(start, "/?#:");
                return xasprintf("%.*s", (int)hl, start);
        }
        return xasprintf("%.*s", (int)(end - slash), slash);
}

int build_fetch_url(struct build *b, const char *url, int *fd_out, struct stat *st, char **name,
                    berth_error_t **err)
{
        struct fetch f = { .fd = -1 };
        CURL *h = NULL;
        CURLcode rc;
        long status = 0;
        curl_off_t filetime = -1;
        int r = -1;

        if ((f.fd = build_spool_open(b, err)) < 0)
                return -1;
        if ((h = curl_easy_init()) == NULL) {
                berth_error(err, 0, "ADD %s: cannot initialise libcurl", url);
                goto out;
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, URL_MAX_REDIRECTS);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK) {
                berth_fail(err, f.error ? f.error : EIO, "ADD %s: %s", url,
                           f.error ? strerror(f.error) : curl_easy_strerror(rc));
                goto out;
        }
        if (status >= 400) {
                berth_fail(err, EIO, "ADD %s: the server answered %ld", url, status);
                goto out;
        }
        curl_easy_getinfo(h, CURLINFO_FILETIME_T, &filetime);
        if (fstat(f.fd, st) < 0 || lseek(f.fd, 0, SEEK_SET) < 0) {
                berth_error(err, errno, "ADD %s: the downloaded file", url);
                goto out;
        }
        st->st_mode = S_IFREG | 0600;
        st->st_uid = 0;
        st->st_gid = 0;
        st->st_mtime = b->reproducible ? (time_t)b->epoch : filetime >= 0 ? (time_t)filetime : time(NULL);
        *name = url_file_name(url);
        *fd_out = steal_fd(&f.fd);
        r = 0;
out:
        if (h)
                curl_easy_cleanup(h);
        if (f.fd >= 0)
                close(f.fd);
        return r;
}
