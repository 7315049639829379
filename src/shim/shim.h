/* berth-shim: the per-container monitor (the role conmon plays for Podman).
 * One shim per container builds it with the runtime library in its own
 * process, holds its stdio, writes its log, serves attach and records the
 * exit status; it outlives berthd, which re-adopts it after a restart.
 *
 * Command line (what berthd runs):
 *
 *   berth-shim --id ID --bundle DIR --runtime-root DIR --state-dir DIR
 *              --log FILE [--log-max-size BYTES] [--log-max-files N]
 *              [--tty] [--stdin] [--keep-stdin] [--exit-file FILE]
 *              [--runtime PATH]
 *
 *   --log-max-size   rotate FILE when it has reached BYTES (Docker's
 *                    json-file max-size; absent or 0: never rotate)
 *   --log-max-files  files kept, FILE and FILE.1 .. FILE.(N-1) (default 1:
 *                    rotation truncates FILE, as Docker's max-file=1 does)
 *   --tty            process.terminal must be true in config.json: the pty
 *                    master comes back over STATE_DIR/console.sock
 *   --stdin          the container gets a stdin fed from attach clients
 *                    (Docker's OpenStdin); without it stdin is /dev/null
 *   --keep-stdin     an attach client's EOF does not close the container's
 *                    stdin (Docker's StdinOnce=false); only close-stdin does.
 *                    Implied by --tty: Docker never ends a terminal's input
 *                    when a client leaves
 *   --exit-file      default STATE_DIR/exit
 *   --runtime        an OCI runtime binary with runc's command line (runc,
 *                    crun) to run the container with, instead of
 *                    berth-runtime's library in the shim's process;
 *                    --runtime-root is then its --root, and its JSON log
 *                    is STATE_DIR/runtime.log
 *
 * The process berthd started returns once the container is *created* (not
 * started) and the shim listens: exit 0, or 1 with one line on stderr,
 * "berth-shim: <why>" (e.g. "exec: /x: no such file or directory").  The
 * shim itself runs detached (double fork, new session, stdio on
 * /dev/null, cwd /) as a child subreaper, so the container's init is its
 * child and SIGKILL of berthd leaves both running.
 *
 * Files in STATE_DIR (created if missing):
 *   shim.pid      the shim's pid (decimal, no newline), before readiness
 *   shim.log      the shim's own warnings and errors (text lines)
 *   control.sock  control requests, see below
 *   attach.sock   attach stream, see below
 *   console.sock  only while the pty master is being received (--tty)
 *   exit          the exit record (or --exit-file), see below
 *   init.pid      --runtime only: the init's pid, as the runtime wrote it
 *   runtime.log   --runtime only: the runtime's log of its last command
 *
 * control.sock: one request per connection, one line each way.  The
 * request is a line (at most 1 KiB); the reply is "ok[ DATA]\n" or
 * "error MESSAGE\n", then the shim closes the connection.
 *   start              container_start (the engine starts, not the shim)
 *   kill SIG [all]     signal the init (all: every process of the
 *                      container); SIG as runc accepts it: 9, KILL, SIGKILL
 *   resize ROWS COLS   TIOCSWINSZ on the pty (--tty only)
 *   close-stdin        close the container's stdin once buffered input is
 *                      delivered (a pty has no EOF: input stops instead)
 *   state              "ok " + one JSON line: {"id","status" (created,
 *                      running, paused, stopped),"pid","shim_pid","tty",
 *                      "stdin","bundle"} plus "exit_code" once stopped
 *
 * attach.sock: any number of clients.  From the moment a client connects
 * it receives the container's output: without --tty in Docker's stdcopy
 * frames ([stream 1|2, 0, 0, 0, size as big-endian u32] + payload), with
 * --tty raw pty bytes, so berthd can pass it straight to a hijacked HTTP
 * connection.  Bytes a client sends go to the container's stdin (with
 * --stdin; otherwise they are read and dropped), also before start.  A
 * client's EOF (shutdown of its write side, or its leaving) closes the
 * container's stdin unless --keep-stdin or --tty: a relay for a client
 * that attached no stdin should keep its write side open.  Output to a
 * slow client is queued; while any client has more than 1 MiB queued the
 * shim stops reading the container's output (the container blocks, as
 * under Docker).  After the container exited and its output is drained,
 * every client gets EOF and is closed.
 *
 * The log (--log) is Docker's json-file format, one object per line,
 *   {"log":"text\n","stream":"stdout"|"stderr","time":"RFC3339Nano"}
 * split at newlines; a line longer than 16 KiB is written in 16 KiB pieces
 * without the trailing "\n", and so is an unterminated last line at EOF.
 * With --tty everything is "stdout".  Times are UTC, Go's RFC3339Nano
 * (trailing zeros of the fraction dropped), as Docker writes them.
 *
 * Exit: when the init exits the shim reaps it (and any other child),
 * kills what is left of the container, deletes the runtime container
 * (state and cgroup), drains the output into the log and to attach
 * clients, sends them EOF, then writes the exit record atomically:
 *   {"exit_code":N,"signal":S,"finished_at":"RFC3339Nano","oom_killed":B}
 * exit_code is 128+S when the init was killed by signal S (S is 0
 * otherwise); oom_killed is true when the container's memory cgroup
 * recorded an OOM kill.  Then the shim removes its sockets and pid file
 * and exits 0.  So: the exit file appearing means the status is final and
 * the log complete; the shim pid being gone means all its cleanup is done.
 *
 * Signals: SIGTERM and SIGINT to the shim are passed on to the init.
 */
#pragma once
#include "util/error.h"
#include <stdbool.h>

struct shim_opts {
        const char *id;
        const char *bundle;
        const char *runtime_root;
        const char *state_dir;
        const char *log_path;
        const char *exit_file;     /* NULL: STATE_DIR/exit */
        const char *runtime;       /* NULL: berth-runtime's library */
        long long log_max_size;    /* <= 0: never rotate */
        int log_max_files;         /* >= 1 */
        bool tty;
        bool open_stdin;
        bool keep_stdin;
};

/* Launch the shim.  In the calling process this returns 0 once the
 * container is created and the shim serves, or fills *err with why not.
 * The detached shim never returns from here. */
int shim_launch(const struct shim_opts *o, berth_error_t **err);
