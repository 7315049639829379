/* libcurl, loaded on first use (lazy.h). */
#include <curl/curl.h>
#include <stdarg.h>

/* libcurl.so.4 since 7.16; curl_url_* need 7.62, CURLOPTTYPE_BLOB 7.71.
 * The option types below are curl 7/8's; a curl 9 may change them. */
#if LIBCURL_VERSION_NUM < 0x074700 || LIBCURL_VERSION_MAJOR > 8
#error "src/lazy/curl.c loads libcurl.so.4: libcurl 7.71 to 8.x only"
#endif
#if CURLOPTTYPE_LONG != 0 || CURLOPTTYPE_OBJECTPOINT != 10000 || CURLOPTTYPE_FUNCTIONPOINT != 20000 || \
        CURLOPTTYPE_OFF_T != 30000 || CURLOPTTYPE_BLOB != 40000
#error "src/lazy/curl.c: unexpected CURLOPTTYPE_* ranges"
#endif

#define LAZY_SONAME "libcurl.so.4"
#define LAZY_FUNCTIONS "lazy/curl-functions.h"
#include "lazy/lazy-stubs.h"

/* Variadic: read the one argument as the type the option's number says
 * (as libcurl itself does), pass it on.  Under GCC curl.h makes both
 * names type-checking macros: the parentheses define the functions. */
#pragma GCC visibility push(hidden)
CURLcode(curl_easy_setopt)(CURL *curl, CURLoption option, ...)
{
        __typeof__(curl_easy_setopt) *real = LAZY_REAL(curl_easy_setopt);
        CURLcode r;
        va_list ap;

        va_start(ap, option);
        if (option < CURLOPTTYPE_OBJECTPOINT)
                r = real(curl, option, va_arg(ap, long));
        else if (option < CURLOPTTYPE_FUNCTIONPOINT) /* also STRINGPOINT, SLISTPOINT, CBPOINT */
                r = real(curl, option, va_arg(ap, void *));
        else if (option < CURLOPTTYPE_OFF_T)
                r = real(curl, option, va_arg(ap, void (*)(void)));
        else if (option < CURLOPTTYPE_BLOB)
                r = real(curl, option, va_arg(ap, curl_off_t));
        else if (option < CURLOPTTYPE_BLOB + 10000)
                r = real(curl, option, va_arg(ap, struct curl_blob *));
        else
                r = CURLE_UNKNOWN_OPTION; /* no such type: libcurl says the same */
        va_end(ap);
        return r;
}

/* Every CURLINFO_* takes a pointer (to a long, char *, double, curl_off_t,
 * struct curl_slist *, ...). */
CURLcode(curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
        __typeof__(curl_easy_getinfo) *real = LAZY_REAL(curl_easy_getinfo);
        CURLcode r;
        va_list ap;

        va_start(ap, info);
        r = real(curl, info, va_arg(ap, void *));
        va_end(ap);
        return r;
}
#pragma GCC visibility pop
