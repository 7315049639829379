#include "log.h"
#include "util.h"
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

static int log_fd = -1;
static bool log_json;
static bool log_debug;
static const char *log_program = "berth-runtime";

static const char *const level_names[] = { "error", "warning", "info", "debug" };

int berth_log_init(const char *path, bool json, bool debug)
{
        log_json = json;
        log_debug = debug;
        if (path == NULL)
                return 0;
        log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        return log_fd < 0 ? -errno : 0;
}

void berth_log_set_program(const char *name) { log_program = name; }

bool berth_log_goes_to_stderr(void) { return log_fd < 0 && !log_json; }
int berth_log_fd(void) { return log_fd; }

/* JSON string escaping for the message: quotes, backslashes, controls. */
static void append_json_string(char *out, size_t cap, const char *s)
{
        size_t o = 0;

        for (; *s && o + 7 < cap; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\') {
                        out[o++] = '\\';
                        out[o++] = (char)c;
                } else if (c < 0x20) {
                        o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
                } else {
                        out[o++] = (char)c;
                }
        }
        out[o] = '\0';
}

void berth_log(enum berth_log_level level, const char *fmt, ...)
{
        char msg[4096], line[9000], ts[64];
        struct timespec now;
        struct tm tm;
        va_list ap;
        int fd = log_fd >= 0 ? log_fd : 2;
        int saved = errno;

        if (level == BERTH_LOG_DEBUG && !log_debug)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        if (log_json) {
                char esc[8200];
                append_json_string(esc, sizeof(esc), msg);
                snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s.%09ldZ\"}\n",
                         level_names[level], esc, ts, now.tv_nsec);
        } else if (log_fd >= 0) {
                snprintf(line, sizeof(line), "%s.%09ldZ %s: %s\n", ts, now.tv_nsec, level_names[level], msg);
        } else {
                snprintf(line, sizeof(line), "%s: %s%s\n", log_program,
                         level == BERTH_LOG_ERROR ? "" : level == BERTH_LOG_WARNING ? "warning: " : "", msg);
        }
        (void)write_all(fd, line, strlen(line));
        errno = saved;
}

char *berth_log_last_error(const char *path)
{
        _cleanup_free_ char *text = NULL;
        char *msg = NULL, *save = NULL;
        size_t len;

        if (read_file(path, &text, &len, NULL) < 0)
                return NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                json_t *j = json_loads(line, 0, NULL);
                const char *level = json_string_value(json_object_get(j, "level"));
                const char *m = json_string_value(json_object_get(j, "msg"));
                if (m && level && (strcmp(level, "error") == 0 || strcmp(level, "fatal") == 0)) {
                        free(msg);
                        msg = xstrdup(m);
                }
                json_decref(j);
        }
        return msg;
}
