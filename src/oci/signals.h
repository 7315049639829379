/* Signal names as runc accepts them: "9", "KILL", "SIGKILL", "sigkill",
 * "RTMIN+3". */
#pragma once

/* Returns the signal number, or -1 when s names no signal. */
int signal_parse(const char *s);
