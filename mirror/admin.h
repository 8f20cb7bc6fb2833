/*
 * strait-mirror's management commands: what `strait mirror ...` sends over the
 * management bus (common/mgmt.h). A table maps each command to the argument names it
 * takes, a one-line help and its handler; the dispatcher refuses unknown argument names
 * so a typo ("flwo") is an error, never a silently ignored default.
 *
 * Commands and their args (results are JSON objects):
 *   help                   {"commands": [{name, args, help}]}
 *   status                 {"flows": [st_mflow_status...], "uptime_ms", "loop": {"turns",
 *                          "max_ms", "p99_ms"} (over the last ST_MIRROR_TURNS turns)}
 *   status   {flow?}       with flow: that flow's st_mflow_status object alone
 *   pause    {flow}        {"flow", "state"}
 *   resume   {flow}        {"flow", "state"}
 *   failover {flow}        {"flow", "state": "failing-over"}: started; the report is in
 *                          the flow's status ("failover") once its state is failed-over,
 *                          which is once the state file holds it (fsynced); a report with
 *                          "state_error" says it could not be written, and failover again
 *                          writes it again
 *   failback {flow}        the st_mflow_failback report
 *   reset    {flow}        {"flow", "state": "resetting"}: a failed-back flow runs as
 *                          configured again
 *                          After failback / reset the status says "failing-back" /
 *                          "resetting" until the state file holds the new state (fsynced),
 *                          then the new state, with "state_error" if it could not be
 *                          written (the same command again writes it again)
 * Flow names are "<source>-><target>" (st_mflow_config.name); an unknown one is an error
 * that lists the flows this daemon runs.
 */
#ifndef ST_MIRROR_ADMIN_H
#define ST_MIRROR_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mirror/config.h"
#include "mirror/flow.h"

/* How long the daemon's loop turns take (a turn: answer what waits on the management
 * socket, step every flow). A command waits at most one turn, so these bound how late
 * `status` can answer. The last ST_MIRROR_TURNS turns are kept (~100 s when idle). */
#define ST_MIRROR_TURNS 10000
typedef struct st_mirror_turns {
    uint64_t count;
    uint32_t us[ST_MIRROR_TURNS]; /* ring of the last turns' lengths, microseconds */
    size_t head, n;
} st_mirror_turns;

/* Notes one turn's length. */
void st_mirror_turns_add(st_mirror_turns *t, int64_t us);

/* The daemon's side of the commands. A plain struct the daemon fills in (and a test can
 * fill with NULL flows to check argument handling, which never touches a flow). */
typedef struct st_mirror_admin {
    const st_mflow_config *configs; /* borrowed: configs[i] names flows[i] */
    st_mflow **flows;               /* borrowed: the running flows */
    size_t nflows;
    int64_t started_ms;     /* wall clock at start, for uptime_ms */
    st_mirror_turns *turns; /* borrowed; NULL: not reported */
} st_mirror_admin;

/*
 * An st_mgmt_handler: ctx is the st_mirror_admin*. Borrows cmd and args; on success
 * returns 0 with *result a new reference, else -1 with err set.
 * Daemon thread only (it drives the flows). No command waits for a cluster.
 */
int st_mirror_admin_handle(void *ctx, const char *cmd, json_t *args, json_t **result, char *err,
                           size_t errlen);

/* The commands that change nothing (NULL-terminated): served in the console's surveys
 * and left out of the management command log (common/mgmt.h). */
extern const char *const st_mirror_admin_readonly[];

#endif
