/*
 * strait-mirror's state directory (`state_dir`): what a daemon keeps on local disk.
 *
 *   <state_dir>/.lock        flock()ed by the running daemon for its whole life, holding
 *                            its pid: two daemons on one state_dir would each copy the
 *                            same flows and fight over the same persisted state, so the
 *                            second refuses to start, naming the pid that holds it
 *   <state_dir>/mgmt.token   the generated management token (main.c)
 */
#ifndef ST_MIRROR_STATE_H
#define ST_MIRROR_STATE_H

#include <stddef.h>

/*
 * Takes the exclusive lock of dir (which must exist) before anything in it is read, and
 * writes our pid into the lock file. Returns the lock's fd (keep it open: closing it
 * releases the lock), or -1 with err — for a held lock: "state_dir DIR is in use by
 * another strait-mirror (pid N holds DIR/.lock): ...". Blocking file I/O: start-up only.
 */
int st_state_dir_lock(const char *dir, char *err, size_t errlen);
/* Releases it (the process's exit does too). -1 is fine. */
void st_state_dir_unlock(int fd);

#endif
