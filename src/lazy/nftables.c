/* libnftables, loaded on first use (lazy.h): a daemon with no network
 * rules to make never maps it, nor libnftnl, libxtables and libgmp that
 * it brings along.  Its header has no version macro to check: the
 * prototypes in nftables-functions.h are checked against it by the
 * compiler, and libnftables.so.1 is the soname since nftables 0.9.0. */
#include <nftables/libnftables.h>

#define LAZY_SONAME "libnftables.so.1"
#define LAZY_FUNCTIONS "lazy/nftables-functions.h"
#include "lazy/lazy-stubs.h"
