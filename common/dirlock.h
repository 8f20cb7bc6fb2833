/*
 * An exclusive lock on a directory that one daemon owns (straitd's data directory,
 * strait-mirror's state directory): <dir>/.lock, held with flock(LOCK_EX) for the
 * daemon's whole life and holding its pid as text, so a second daemon started on the
 * same directory refuses before it reads or writes anything there, and its message
 * names the process that holds the lock.
 *
 * flock is released by the kernel when the process dies (kill -9 included), so a stale
 * .lock file from a crash never blocks a restart; the file itself is left in place.
 * The descriptor is close-on-exec. A second lock from the same process (another open
 * file description) conflicts too, so two brokers in one test process cannot share a
 * directory either.
 *
 * The lock is advisory: it keeps out our own daemons, not a user with rm.
 */
#ifndef ST_DIRLOCK_H
#define ST_DIRLOCK_H

#include <stddef.h>

typedef struct st_dirlock st_dirlock;

/*
 * Takes <dir>/.lock (creating the file, never truncating someone else's pid). `what`
 * names the directory's role for messages ("data directory"). The directory must exist.
 * Returns a new lock, or NULL with err saying why: held by another process ("data
 * directory /d is in use: /d/.lock is locked by process 1234; stop it, or give this
 * one another directory"), or a system error with the path.
 */
st_dirlock *st_dirlock_take(const char *dir, const char *what, char *err, size_t errlen);

/* Releases the lock (the file stays). NULL is ignored. */
void st_dirlock_release(st_dirlock *l);

#endif
