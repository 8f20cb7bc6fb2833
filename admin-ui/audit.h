/*
 * The audit log: every action taken through the console, and every state-changing
 * command the daemons report over the bus (mgmt.log: what `strait` did), with who,
 * what, when and the result. One JSON object per line in an append-only file (opened
 * O_APPEND, never rewritten), so it survives restarts; the newest entries are also
 * kept in memory for the audit view.
 *
 *   {"time":"2026-11-21T17:30:01.123Z","time_ms":...,"who":"alice","role":"admin",
 *    "via":"console","daemon":"dc1/b0","action":"topics.create","args":{...},
 *    "ok":true,"result":"..."}                     (or "ok":false,"error":"...")
 *   imported from a daemon: "via":"bus", "who" as the daemon recorded it (e.g.
 *   "unix:root" for the strait CLI), plus "boot" and "seq" so an entry is imported once.
 *
 * Passwords never reach it (args are copied with every "password" blanked:
 * st_mgmt_redact, as the daemons' own command log). An entry
 * stays small whatever a client sent: "args" over ST_AUDIT_MAX_ARGS bytes of JSON, a
 * "result" over ST_AUDIT_MAX_RESULT and any other text over ST_AUDIT_MAX_TEXT are cut
 * (their start kept as a string, with the full size). Writes
 * (write + fdatasync) happen on the audit's own thread, never on the event loop.
 */
#ifndef ST_CONSOLE_AUDIT_H
#define ST_CONSOLE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define ST_AUDIT_KEEP       500 /* entries kept in memory */
#define ST_AUDIT_MAX_ARGS   4096
#define ST_AUDIT_MAX_RESULT 4096
#define ST_AUDIT_MAX_TEXT   1024

typedef struct st_audit st_audit;

/* Opens (creating, mode 0600) the log, reads its newest entries, starts the writer
 * thread. NULL with err. Blocking: call before the event loop runs. */
st_audit *st_audit_open(const char *path, char *err, size_t errlen);

/* Writes what is queued, stops the writer, frees. NULL is ignored. */
void st_audit_close(st_audit *a);

/* Records an entry (borrowed; "time" is added, oversized fields are cut): kept in memory
 * at once, written to the file by the writer thread. Loop thread. */
void st_audit_append(st_audit *a, json_t *entry);

/* True (and remembered) the first time a daemon's log entry (daemon id, boot, seq) is
 * seen, across restarts of the console. Loop thread. */
bool st_audit_first_sight(st_audit *a, const char *daemon, const char *boot, uint64_t seq);

/* The newest entries, oldest first (new reference). Loop thread. */
json_t *st_audit_recent(const st_audit *a);

/* Changes whenever an entry is appended. Loop thread. */
uint64_t st_audit_version(const st_audit *a);

#endif
