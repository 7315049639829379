/* Runtime log: text or JSON lines (runc's --log/--log-format), which
 * containerd reads back to show the last error to the user. */
#pragma once
#include <stdbool.h>

enum berth_log_level { BERTH_LOG_ERROR, BERTH_LOG_WARNING, BERTH_LOG_INFO, BERTH_LOG_DEBUG };

/* path NULL means stderr; json selects runc's JSON line format. */
int berth_log_init(const char *path, bool json, bool debug);
void berth_log(enum berth_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool berth_log_goes_to_stderr(void);
/* The name stderr lines start with; "berth-runtime" unless set. */
void berth_log_set_program(const char *name);
/* The log fd, so a child can keep logging after fork; -1 for stderr. */
int berth_log_fd(void);
/* The message of the last error (or fatal) line of a runtime's --log in
 * JSON lines, as runc and berth-runtime write them for containerd; NULL
 * when there is none. */
char *berth_log_last_error(const char *path);
#define berth_warn(...) berth_log(BERTH_LOG_WARNING, __VA_ARGS__)
#define berth_debug(...) berth_log(BERTH_LOG_DEBUG, __VA_ARGS__)
