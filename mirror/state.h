/*
 * strait-mirror's state directory (`state_dir`): what a daemon keeps on local disk.
 *
 *   <state_dir>/.lock        common/dirlock.h, taken first thing by main.c: two daemons
 *                            on one state_dir would each copy the same flows and fight
 *                            over the same persisted state, so the second refuses to
 *                            start, naming the pid that holds it
 *   <state_dir>/mgmt.token   the generated management token (main.c)
 *   <state_dir>/flows/<source>.to.<target>.json
 *                            which way a flow runs, remembered across restarts
 *                            (flowstate.c): {"flow", "state": "normal" | "failed-over" |
 *                            "failed-back", "generation", "time_ms", "divergence": [...],
 *                            "failover": the failover report}; written to a temporary
 *                            file, fsynced, renamed
 */
#ifndef ST_MIRROR_STATE_H
#define ST_MIRROR_STATE_H

#include <stddef.h>

#include <jansson.h>

/* <dir>/flows/<source alias>.to.<target alias>.json into out. 0, or -1 if it does not fit. */
int st_flow_state_path(const char *dir, const char *source, const char *target, char *out,
                       size_t cap);
/* Reads a flow's state file: 0 with *state (a new reference), 1 when there is none, -1
 * with err (unreadable or not a JSON object). Blocking: start-up only. */
int st_flow_state_read(const char *path, json_t **state, char *err, size_t errlen);
/* Writes it (creating flows/), durably: temporary file, fsync, rename, directory fsync.
 * 0 or -1 with err. Blocking: a worker's job. */
int st_flow_state_write(const char *path, const json_t *state, char *err, size_t errlen);

#endif
