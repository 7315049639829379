/* Capability names (CAP_SYS_ADMIN ...) to numbers and back. */
#pragma once

/* Returns the capability number, or -1 for an unknown name. */
int capability_parse(const char *name);
/* The capability name for a number, or NULL. */
const char *capability_name(int cap);
/* Highest capability the running kernel knows (from
 * /proc/sys/kernel/cap_last_cap, cached). */
int capability_last(void);
