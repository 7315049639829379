/* .dockerignore: the patterns that keep files out of a build context, with
 * Docker's rules (moby/patternmatcher and its ignorefile reader, and the
 * docker CLI's build-context walk, archive.TarWithOptions):
 *
 * - one pattern a line; a line whose first byte is '#' is a comment (a '#'
 *   after leading spaces is part of a pattern, as in Docker); blank lines
 *   are ignored; a UTF-8 BOM at the start of the file is dropped; "\r\n"
 *   ends a line as "\n" does;
 * - each pattern is trimmed, cleaned as Go's filepath.Clean cleans it
 *   ("a//b/../c/" is "a/c") and loses one leading '/' (patterns are
 *   relative to the context root); '!' makes it an exception that
 *   re-includes what earlier patterns excluded; the last pattern that
 *   matches a path decides;
 * - Go's filepath.Match syntax: '*' (any run of characters but '/'), '?'
 *   (one character but '/'), "[...]" classes with ranges and '^' negation
 *   (a class can match '/'; '!' is not a negation in Go, it is a member),
 *   '\' escaping the next character; and "**" matching any number of
 *   directories, none included ("**" + "/" is one token; "**" at the end
 *   matches everything below);
 * - a path is excluded when a pattern matches it or one of its parent
 *   directories ("docs" excludes "docs/a/b.md");
 * - a malformed pattern (an unclosed or empty class, an inverted range, a
 *   trailing '\', a lone "!") is an error naming its line.
 *
 * What Docker does because it turns patterns into Go regular expressions
 * is kept where it shows in ordinary patterns: a pattern that starts with
 * "**" and has no other wildcard matches by suffix ("**.txt" matches
 * "a/b.txt"), "**" does not cross a newline in a name, and '^' outside a
 * class only matches at the start.  Not kept: '*' or '?' inside a class
 * and "\d"-style escapes, which Docker's regular expressions misread (here
 * they are the literal characters filepath.Match says they are).
 *
 * The walk of a context directory (the docker CLI's rules):
 *
 *   for each entry, depth first, with rel its path from the context root:
 *     excluded = dockerignore_matches_walk(di, rel, parent_info, info);
 *     if (!excluded) send it;
 *     else if it is a directory and dockerignore_may_reinclude(di, rel)
 *       descend without sending the directory itself;
 *     else skip it (and everything under it);
 *
 * and the Dockerfile and .dockerignore themselves are always sent: call
 * dockerignore_keep() for each before the walk.  The daemon, given such a
 * context, reads the Dockerfile and then drops the two files when
 * dockerignore_matches() (the patterns as written) excludes them. */
#pragma once
#include "error.h"
#include <stdbool.h>
#include <stddef.h>

struct dockerignore;

/* Parse the text of a .dockerignore (len bytes; NUL bytes are ordinary
 * bytes that no path contains).  Errors: "line 3: bad pattern \"[a\":
 * syntax error in pattern". */
int dockerignore_parse(const char *text, size_t len, struct dockerignore **out, berth_error_t **err);
void dockerignore_free(struct dockerignore *di);
static inline void cleanup_dockerignorep(struct dockerignore **di) { dockerignore_free(*di); }
#define _cleanup_dockerignore_ __attribute__((cleanup(cleanup_dockerignorep)))

/* Is path (relative to the context root, '/'-separated) excluded?  The
 * path is cleaned first ("./a//b/" is "a/b"); "." and "" are never
 * excluded.  Parent directories count: patternmatcher's
 * MatchesOrParentMatches. */
bool dockerignore_matches(const struct dockerignore *di, const char *path);

/* The same for a walk, as the docker CLI walks a context
 * (MatchesUsingParentResults): path is clean, as a walk makes it; parent
 * is the info the call on path's directory filled (NULL for entries of the
 * context root); info, when not NULL, receives dockerignore_npatterns()
 * values for the entries inside path when path is a directory.  The
 * answer can differ from dockerignore_matches() as Docker's does: with a
 * parent's info, a pattern is not tried again on the parent directories. */
bool dockerignore_matches_walk(const struct dockerignore *di, const char *path, const bool *parent, bool *info);
size_t dockerignore_npatterns(const struct dockerignore *di);
/* Whether any pattern is an exception ("!..."). */
bool dockerignore_has_exceptions(const struct dockerignore *di);

/* An excluded directory: must the walk still descend into it?  Docker's
 * test: some exception, with '/' appended, starts with dir + '/'
 * ("!docs/keep.md" opens "docs"; "!**" + "/keep" opens nothing, so in
 * Docker as here it cannot re-include a file under an excluded directory). */
bool dockerignore_may_reinclude(const struct dockerignore *di, const char *dir);

/* The docker CLI's rule for the Dockerfile and .dockerignore: when path is
 * excluded, append the exception "!path" so that it is sent anyway.  Call
 * it for ".dockerignore" and then for the Dockerfile's path in the context
 * (not when the Dockerfile comes from stdin).  The path is cleaned; the
 * exception is a pattern like any other (Docker does the same), so a path
 * that is not a valid pattern ("a[b") is an error. */
int dockerignore_keep(struct dockerignore *di, const char *path, berth_error_t **err);
