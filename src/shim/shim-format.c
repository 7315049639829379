/* The two formats the log and the exit record share with Docker: Go's
 * RFC3339Nano time and the json-file string escaping. */
#include "shim/shim-internal.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 as a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil inverse). */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
        long long era;
        unsigned doe, yoe, doy, mp;

        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = (unsigned)(z - era * 146097);
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (long long)yoe + era * 400 + (*m <= 2);
}

static char *put_digits(char *p, unsigned long long v, int width)
{
        for (int i = width - 1; i >= 0; i--, v /= 10)
                p[i] = (char)('0' + v % 10);
        return p + width;
}

/* Called for every log line: plain arithmetic, because gmtime_r, strftime
 * and snprintf are far apart in the static libc and would each keep
 * 64 KiB of text resident in the shim (see release_ro_pages in shim.c). */
void shim_format_time(const struct timespec *ts, char out[SHIM_TIME_MAX])
{
        long long days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400, year;
        unsigned month, day;
        struct tm tm;
        size_t n;
        char *p = out;

        if (secs < 0) {
                secs += 86400;
                days--;
        }
        civil_from_days(days, &year, &month, &day);
        if (year >= 0 && year <= 9999 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000) {
                p = put_digits(p, (unsigned long long)year, 4);
                *p++ = '-';
                p = put_digits(p, month, 2);
                *p++ = '-';
                p = put_digits(p, day, 2);
                *p++ = 'T';
                p = put_digits(p, (unsigned long long)secs / 3600, 2);
                *p++ = ':';
                p = put_digits(p, (unsigned long long)secs / 60 % 60, 2);
                *p++ = ':';
                p = put_digits(p, (unsigned long long)secs % 60, 2);
                if (ts->tv_nsec != 0) {
                        *p++ = '.';
                        p = put_digits(p, (unsigned long long)ts->tv_nsec, 9);
                        /* Go's "999999999" layout: trailing zeros go */
                        while (p[-1] == '0')
                                p--;
                }
                *p++ = 'Z';
                *p = '\0';
                return;
        }
        gmtime_r(&ts->tv_sec, &tm);
        n = strftime(out, SHIM_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
        if (ts->tv_nsec != 0) {
                n += (size_t)snprintf(out + n, SHIM_TIME_MAX - n, ".%09ld", ts->tv_nsec);
                /* Go's "999999999" layout: trailing zeros go */
                while (out[n - 1] == '0')
                        n--;
        }
        out[n++] = 'Z';
        out[n] = '\0';
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0. */
static size_t utf8_valid(const unsigned char *s, size_t len)
{
        uint32_t c;
        size_t n;

        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, c = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, c = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, c = s[0] & 0x07;
        else
                return 0;
        if (n > len)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        /* overlong forms, surrogates and beyond U+10FFFF are invalid */
        if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
                return 0;
        return n;
}

static void append_escape(struct shim_buf *b, unsigned char c)
{
        static const char hex[] = "0123456789abcdef";
        char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };

        if (c == '"' || c == '\\')
                shim_buf_append(b, (char[]){ '\\', (char)c }, 2);
        else if (c == '\n')
                shim_buf_append(b, "\\n", 2);
        else if (c == '\r')
                shim_buf_append(b, "\\r", 2);
        else
                shim_buf_append(b, e, sizeof(e));
}

/* Docker's json-file escapes like Go's HTML-safe encoder: controls, quote,
 * backslash, < > &, U+2028/9; bytes that are not UTF-8 become U+FFFD. */
void shim_json_string(struct shim_buf *b, const char *s, size_t len)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t start = 0, i = 0;

        shim_buf_append(b, "\"", 1);
        while (i < len) {
                size_t n = 1;
                const char *repl = NULL;
                if (u[i] < 0x80) {
                        if (u[i] >= 0x20 && u[i] != '"' && u[i] != '\\' && u[i] != '<' && u[i] != '>' && u[i] != '&') {
                                i++;
                                continue;
                        }
                } else if ((n = utf8_valid(u + i, len - i)) == 0) {
                        n = 1;
                        repl = "\\ufffd";
                } else if (n == 3 && u[i] == 0xe2 && u[i + 1] == 0x80 && (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)) {
                        repl = u[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
                } else {
                        i += n;
                        continue;
                }
                shim_buf_append(b, s + start, i - start);
                if (repl)
                        shim_buf_append(b, repl, 6);
                else
                        append_escape(b, u[i]);
                i += n;
                start = i;
        }
        shim_buf_append(b, s + start, len - start);
        shim_buf_append(b, "\"", 1);
}
