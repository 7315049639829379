#include "util/base64.h"
#include "util/util.h"

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *base64_encode(const void *data, size_t len, bool url)
{
        const unsigned char *in = data;
        const char *abc = url ? b64_url : b64_std;
        char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

        for (size_t i = 0; i < len; i += 3) {
                unsigned v = (unsigned)in[i] << 16;
                if (i + 1 < len)
                        v |= (unsigned)in[i + 1] << 8;
                if (i + 2 < len)
                        v |= in[i + 2];
                *o++ = abc[(v >> 18) & 63];
                *o++ = abc[(v >> 12) & 63];
                *o++ = i + 1 < len ? abc[(v >> 6) & 63] : '=';
                *o++ = i + 2 < len ? abc[v & 63] : '=';
        }
        *o = '\0';
        return out;
}

static int value(char ch)
{
        const char *p;

        if (ch == '-')
                return 62;
        if (ch == '_')
                return 63;
        p = ch ? strchr(b64_std, ch) : NULL;
        return p ? (int)(p - b64_std) : -1;
}

char *base64_decode(const char *s, size_t *len)
{
        size_t n = strlen(s), o = 0;
        char *out;
        unsigned v = 0;
        int bits = 0;

        for (int pad = 0; pad < 2 && n > 0 && s[n - 1] == '='; pad++)
                n--;
        /* one leftover character carries less than a byte */
        if (n % 4 == 1)
                return NULL;
        out = xmalloc(n / 4 * 3 + 3);
        for (size_t i = 0; i < n; i++) {
                int d = value(s[i]);
                if (d < 0) {
                        free(out);
                        return NULL;
                }
                v = (v << 6) | (unsigned)d;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char)((v >> bits) & 0xff);
                }
        }
        out[o] = '\0';
        if (len)
                *len = o;
        return out;
}
