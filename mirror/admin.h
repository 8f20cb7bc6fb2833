/*
 * strait-mirror's management commands: what `strait mirror ...` sends over the
 * management bus (common/mgmt.h). A table maps each command to the argument names it
 * takes, a one-line help and its handler; the dispatcher refuses unknown argument names
 * so a typo ("flwo") is an error, never a silently ignored default.
 *
 * Commands and their args (results are JSON objects):
 *   help                   {"commands": [{name, args, help}]}
 *   status                 {"flows": [st_mflow_status...], "uptime_ms"}
 *   status   {flow?}       with flow: that flow's st_mflow_status object alone
 *   pause    {flow}        {"flow", "state"}
 *   resume   {flow}        {"flow", "state"}
 *   failover {flow}        {"flow", "state": "failing-over"}: started; the report is in
 *                          the flow's status ("failover") once its state is failed-over
 *   failback {flow}        the st_mflow_failback report
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

/* The daemon's side of the commands. A plain struct the daemon fills in (and a test can
 * fill with NULL flows to check argument handling, which never touches a flow). */
typedef struct st_mirror_admin {
    const st_mflow_config *configs; /* borrowed: configs[i] names flows[i] */
    st_mflow **flows;               /* borrowed: the running flows */
    size_t nflows;
    int64_t started_ms; /* wall clock at start, for uptime_ms */
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
