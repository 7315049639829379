/* Kubernetes resource quantities ("250m", "1.5Gi", "1e3"): the grammar of
 * apimachinery's parseQuantityString and suffix table, and an exact value
 * (a small decimal bignum, so "0.1" is never 0.1000000000000000055), rounded
 * up at the scale asked for as Quantity.ScaledValue does. */
#include "orch/kube-calc.h"
#include "util/util.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define QUANTITY_RE "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
#define MAX_DIGITS 300          /* significant digits kept; more is a malformed quantity to us */

/* A parsed quantity: digits × 10^e10 × 2^e2, sign apart. */
struct qparts {
        bool negative;
        bool binary;            /* Ki..Ei: capped at 2^63-1 like ParseQuantity does */
        char digits[MAX_DIGITS + 1];
        long e10, e2;
};

static int quantity_error(berth_error_t **err, const char *s, const char *why)
{
        _cleanup_free_ char *q = quote(s);
        return berth_fail(err, EINVAL, "invalid quantity %s: %s", q, why);
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Go's strconv.ParseInt(s, 10, 64) for an exponent. */
static bool parse_exponent(const char *s, size_t n, long *out)
{
        size_t i = 0;
        bool neg = false;
        if (i < n && (s[i] == '+' || s[i] == '-'))
                neg = s[i++] == '-';
        if (i == n)
                return false;
        long long v = 0;
        for (; i < n; i++) {
                if (!is_digit(s[i]))
                        return false;
                if (v > (LLONG_MAX - (s[i] - '0')) / 10)
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        /* Anything past ±10^6 is out of every range we can answer anyway. */
        if (v > 1000000)
                v = 1000000;
        *out = neg ? -v : v;
        return true;
}

/* quantitySuffixer.interpret: base-10 or base-2 exponent of a suffix. */
static bool interpret_suffix(const char *s, size_t n, long *e10, long *e2, bool *binary)
{
        static const struct { const char *suffix; int e10, e2; } table[] = {
                { "n", -9, 0 }, { "u", -6, 0 }, { "m", -3, 0 }, { "", 0, 0 },   { "k", 3, 0 },
                { "M", 6, 0 },  { "G", 9, 0 },  { "T", 12, 0 }, { "P", 15, 0 }, { "E", 18, 0 },
                { "Ki", 0, 10 }, { "Mi", 0, 20 }, { "Gi", 0, 30 }, { "Ti", 0, 40 }, { "Pi", 0, 50 }, { "Ei", 0, 60 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
                if (strlen(table[i].suffix) == n && memcmp(table[i].suffix, s, n) == 0) {
                        *e10 = table[i].e10;
                        *e2 = table[i].e2;
                        *binary = table[i].e2 != 0;
                        return true;
                }
        }
        if (n > 1 && (s[0] == 'e' || s[0] == 'E')) {
                *e2 = 0;
                *binary = false;
                return parse_exponent(s + 1, n - 1, e10);
        }
        return false;
}

/* parseQuantityString: sign, leading zeros, integer digits, optional
 * fraction, then suffix letters, an optional sign and digits. */
static int quantity_split(const char *s, struct qparts *p, berth_error_t **err)
{
        size_t end = strlen(s), pos = 0;
        memset(p, 0, sizeof(*p));
        if (end == 0)
                return quantity_error(err, s, "quantities must match the regular expression '" QUANTITY_RE "'");
        if (s[0] == '-' || s[0] == '+')
                p->negative = s[pos++] == '-';
        while (pos < end && s[pos] == '0')
                pos++;
        size_t num = pos;
        while (pos < end && is_digit(s[pos]))
                pos++;
        size_t num_len = pos - num, denom = pos, denom_len = 0;
        if (pos < end && s[pos] == '.') {
                denom = ++pos;
                while (pos < end && is_digit(s[pos]))
                        pos++;
                denom_len = pos - denom;
        }
        size_t suffix = pos;
        while (pos < end && strchr("eEinumkKMGTP", s[pos]))
                pos++;
        if (pos < end && (s[pos] == '-' || s[pos] == '+'))
                pos++;
        while (pos < end && is_digit(s[pos]))
                pos++;
        if (pos < end)
                return quantity_error(err, s, "quantities must match the regular expression '" QUANTITY_RE "'");
        if (!interpret_suffix(s + suffix, end - suffix, &p->e10, &p->e2, &p->binary))
                return quantity_error(err, s, "unable to parse quantity's suffix");

        /* The significant digits: integer then fraction, zeros trimmed. */
        char buf[2 * MAX_DIGITS + 2];
        if (num_len + denom_len > sizeof(buf) - 1)
                return quantity_error(err, s, "too many digits");
        memcpy(buf, s + num, num_len);
        memcpy(buf + num_len, s + denom, denom_len);
        size_t len = num_len + denom_len, start = 0;
        p->e10 -= (long)denom_len;
        while (start < len && buf[start] == '0')
                start++;
        while (len > start && buf[len - 1] == '0') {
                len--;
                p->e10++;
        }
        if (len - start > MAX_DIGITS)
                return quantity_error(err, s, "too many digits");
        memcpy(p->digits, buf + start, len - start);
        p->digits[len - start] = '\0';
        return 0;
}

/* ---- a tiny unsigned bignum: enough for MAX_DIGITS × 2^60 × 10^60 ----------- */

#define LIMBS 72
struct big {
        uint32_t l[LIMBS];
};

static bool big_mul_add(struct big *b, uint32_t m, uint32_t a)
{
        uint64_t carry = a;
        for (size_t i = 0; i < LIMBS; i++) {
                uint64_t v = (uint64_t)b->l[i] * m + carry;
                b->l[i] = (uint32_t)v;
                carry = v >> 32;
        }
        return carry == 0;
}

/* b /= d; returns whether the remainder was non-zero. */
static bool big_div(struct big *b, uint32_t d)
{
        uint64_t rem = 0;
        for (size_t i = LIMBS; i-- > 0;) {
                uint64_t v = (rem << 32) | b->l[i];
                b->l[i] = (uint32_t)(v / d);
                rem = v % d;
        }
        return rem != 0;
}

static bool big_is_zero(const struct big *b)
{
        for (size_t i = 0; i < LIMBS; i++)
                if (b->l[i])
                        return false;
        return true;
}

/* The value as unsigned __int128, false when it does not fit in 127 bits. */
static bool big_to_u128(const struct big *b, unsigned __int128 *out)
{
        for (size_t i = 4; i < LIMBS; i++)
                if (b->l[i])
                        return false;
        if (b->l[3] & 0x80000000u)
                return false;
        unsigned __int128 v = 0;
        for (size_t i = 4; i-- > 0;)
                v = (v << 32) | b->l[i];
        *out = v;
        return true;
}

enum { MAG_OK, MAG_TOO_BIG };

/* ceil(digits × 10^t × 2^e2) into *out (at most 2^127 - 1). */
static int magnitude(const struct qparts *p, long t, unsigned __int128 *out)
{
        size_t len = strlen(p->digits);
        if (len == 0) {
                *out = 0;
                return MAG_OK;
        }
        /* Out of range either way: at least 10^61, or below 10^-40 × 2^60 < 1. */
        if (t > 60)
                return MAG_TOO_BIG;
        if (t < -((long)len + 40)) {
                *out = 1;
                return MAG_OK;
        }
        struct big b = { { 0 } };
        for (size_t i = 0; i < len; i++)
                big_mul_add(&b, 10, (uint32_t)(p->digits[i] - '0'));
        for (long i = 0; i < p->e2; i++)
                big_mul_add(&b, 2, 0);
        for (long i = 0; i < t; i++)
                big_mul_add(&b, 10, 0);
        bool inexact = false;
        for (long i = 0; i > t; i--)
                inexact |= big_div(&b, 10);
        if (inexact && !big_mul_add(&b, 1, 1))
                return MAG_TOO_BIG;
        if (inexact && big_is_zero(&b))
                b.l[0] = 1;
        return big_to_u128(&b, out) ? MAG_OK : MAG_TOO_BIG;
}

/* The signed value at `scale` (10^scale units), rounded away from zero. */
static int quantity_value(const char *s, int scale, __int128 *out, berth_error_t **err)
{
        struct qparts p;
        if (quantity_split(s, &p, err) < 0)
                return -EINVAL;
        unsigned __int128 units, mag;
        /* ParseQuantity caps binary-suffixed values at 2^63-1 (in units). */
        if (p.binary && (magnitude(&p, p.e10, &units) == MAG_TOO_BIG || units > (unsigned __int128)INT64_MAX)) {
                mag = (unsigned __int128)INT64_MAX;
                for (int i = 0; i < -scale; i++)
                        mag *= 10;
                for (int i = 0; i < scale; i++)
                        mag = (mag + 9) / 10;
        } else if (magnitude(&p, p.e10 - scale, &mag) == MAG_TOO_BIG) {
                _cleanup_free_ char *q = quote(s);
                return berth_fail(err, ERANGE, "quantity %s is too large", q);
        }
        *out = p.negative ? -(__int128)mag : (__int128)mag;
        return 0;
}

int kube_quantity_scaled(const char *s, int scale, int64_t *out, berth_error_t **err)
{
        __int128 v;
        if (scale < -9 || scale > 18)
                return berth_fail(err, EINVAL, "quantity scale %d out of range", scale);
        int r = quantity_value(s, scale, &v, err);
        if (r < 0)
                return r;
        if (v > INT64_MAX || v < INT64_MIN) {
                _cleanup_free_ char *q = quote(s);
                return berth_fail(err, ERANGE, "quantity %s is too large", q);
        }
        *out = (int64_t)v;
        return 0;
}

int kube_quantity_milli(const char *s, int64_t *milli, berth_error_t **err)
{
        return kube_quantity_scaled(s, -3, milli, err);
}

int kube_quantity_bytes(const char *s, int64_t *bytes, berth_error_t **err)
{
        return kube_quantity_scaled(s, 0, bytes, err);
}

/* A JSON number back to the text a manifest had: YAML `cpu: 0.5` reaches
 * us as a double; 15 significant digits give "0.1", not 0.1000...0555. */
static char *json_quantity_text(const json_t *v)
{
        if (json_is_string(v))
                return xstrdup(json_string_value(v));
        if (json_is_integer(v))
                return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        if (json_is_real(v) && isfinite(json_real_value(v)))
                return xasprintf("%.15g", json_real_value(v));
        return NULL;
}

static int json_quantity_scaled(const json_t *v, int scale, int64_t *out, berth_error_t **err)
{
        _cleanup_free_ char *text = json_quantity_text(v);
        if (!text)
                return berth_fail(err, EINVAL, "invalid quantity: a quantity is a string or a number");
        return kube_quantity_scaled(text, scale, out, err);
}

int kube_quantity_json_milli(const json_t *v, int64_t *milli, berth_error_t **err)
{
        return json_quantity_scaled(v, -3, milli, err);
}

int kube_quantity_json_bytes(const json_t *v, int64_t *bytes, berth_error_t **err)
{
        return json_quantity_scaled(v, 0, bytes, err);
}

int kube_quantity_cmp(const char *a, const char *b)
{
        __int128 va = 0, vb = 0;
        _cleanup_error_ berth_error_t *err = NULL;
        if (!a || quantity_value(a, -9, &va, &err) < 0)
                va = 0;
        berth_error_free(&err);
        if (!b || quantity_value(b, -9, &vb, &err) < 0)
                vb = 0;
        return va < vb ? -1 : va > vb;
}

char *kube_quantity_format_milli(int64_t milli)
{
        static const char *const suffixes[] = { "m", "", "k", "M", "G", "T", "P", "E" };
        if (milli == 0)
                return xstrdup("0");
        /* Canonical DecimalSI: the largest multiple-of-3 exponent that keeps
         * the mantissa an integer. */
        __int128 v = milli;
        size_t i = 0;
        while (i + 1 < ARRAY_SIZE(suffixes) && v % 1000 == 0) {
                v /= 1000;
                i++;
        }
        return xasprintf("%" PRId64 "%s", (int64_t)v, suffixes[i]);
}
