/* Typing plain scalars: the YAML 1.2 core schema (null, bool, int, float),
 * plus YAML 1.1's octal 0644 as kubectl reads it.  Shared by the parser
 * (kube-yaml.c) and the emitter (kube-yaml-emit.c), which quotes a string
 * whose plain form would read back as something else. */
#include "orch/kube-yaml.h"
#include "util/util.h"
#include <errno.h>
#include <stdint.h>

#define DIGITS "0123456789"
#define OCTAL "01234567"
#define HEX "0123456789abcdefABCDEF"

static bool one_of(const char *s, size_t n, const char *const *words, size_t nwords)
{
        for (size_t i = 0; i < nwords; i++)
                if (strlen(words[i]) == n && memcmp(s, words[i], n) == 0)
                        return true;
        return false;
}

/* How many leading bytes of s[0..n) are in set. */
static size_t span(const char *s, size_t n, const char *set)
{
        size_t i = 0;

        while (i < n && s[i] != '\0' && strchr(set, s[i]))
                i++;
        return i;
}

static bool all_of(const char *s, size_t n, const char *set)
{
        return n > 0 && span(s, n, set) == n;
}

static bool has_sign(const char *s, size_t n)
{
        return n > 0 && (s[0] == '-' || s[0] == '+');
}

static bool is_int(const char *s, size_t n)
{
        if (n > 2 && s[0] == '0' && s[1] == 'x')
                return all_of(s + 2, n - 2, HEX);
        if (n > 2 && s[0] == '0' && s[1] == 'o')
                return all_of(s + 2, n - 2, OCTAL);
        if (has_sign(s, n))
                s++, n--;
        return all_of(s, n, DIGITS);
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s, size_t n)
{
        size_t i = has_sign(s, n) ? 1 : 0, whole, frac = 0, exp;

        whole = span(s + i, n - i, DIGITS);
        i += whole;
        if (i < n && s[i] == '.') {
                i++;
                frac = span(s + i, n - i, DIGITS);
                i += frac;
        }
        if (whole == 0 && frac == 0)
                return false;
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if (has_sign(s + i, n - i))
                        i++;
                exp = span(s + i, n - i, DIGITS);
                if (exp == 0)
                        return false;
                i += exp;
        }
        return i == n;
}

enum kube_yaml_kind kube_yaml_plain_kind(const char *s, size_t n)
{
        static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
        static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE" };
        static const char *const infs[] = { ".inf", ".Inf", ".INF" };
        static const char *const nans[] = { ".nan", ".NaN", ".NAN" };

        if (one_of(s, n, nulls, ARRAY_SIZE(nulls)))
                return KUBE_YAML_NULL;
        if (one_of(s, n, bools, ARRAY_SIZE(bools)))
                return KUBE_YAML_BOOL;
        if (is_int(s, n))
                return KUBE_YAML_INT;
        if (is_float(s, n))
                return KUBE_YAML_FLOAT;
        if (one_of(s, n, nans, ARRAY_SIZE(nans)) ||
            one_of(s + has_sign(s, n), n - has_sign(s, n), infs, ARRAY_SIZE(infs)))
                return KUBE_YAML_NONFINITE;
        return KUBE_YAML_STRING;
}

/* The value of a string of KUBE_YAML_INT; -ERANGE beyond int64.
 * *decimal tells whether it was written in base 10. */
int kube_yaml_int_value(const char *s, size_t n, bool *decimal, json_int_t *v)
{
        uint64_t acc = 0, limit;
        unsigned base = 10;
        bool neg = false;

        if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
                base = s[1] == 'x' ? 16 : 8;
                s += 2, n -= 2;
        } else {
                if (has_sign(s, n)) {
                        neg = s[0] == '-';
                        s++, n--;
                }
                /* YAML 1.1, as kubectl reads `defaultMode: 0644` */
                if (n > 1 && s[0] == '0' && all_of(s, n, OCTAL))
                        base = 8;
        }
        *decimal = base == 10;
        limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (size_t i = 0; i < n; i++) {
                unsigned d = s[i] <= '9' ? (unsigned)(s[i] - '0') : (unsigned)((s[i] | 0x20) - 'a' + 10);
                if (acc > (limit - d) / base)
                        return -ERANGE;
                acc = acc * base + d;
        }
        *v = neg && acc > 0 ? -(json_int_t)(acc - 1) - 1 : (json_int_t)acc;
        return 0;
}
