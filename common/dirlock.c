/*
 * The directory lock of dirlock.h: flock on <dir>/.lock, our pid written into it once
 * the lock is ours.
 */
#include "common/dirlock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logging.h"

#define LOCK_NAME ".lock"

struct st_dirlock {
    int fd;
};

/* What the holder wrote into the lock file: its pid, or "" when unreadable (it may be
 * between taking the lock and writing its pid). */
static void read_holder(int fd, char *out, size_t cap)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    out[0] = '\0';
    if (n <= 0)
        return;
    text[n] = '\0';
    char *end;
    errno = 0;
    long pid = strtol(text, &end, 10);
    if (errno == 0 && end != text && pid > 0 && (*end == '\0' || *end == '\n'))
        snprintf(out, cap, "%ld", pid);
}

st_dirlock *st_dirlock_take(const char *dir, const char *what, char *err, size_t errlen)
{
    char path[PATH_MAX + 16];
    if (snprintf(path, sizeof path, "%s/%s", dir, LOCK_NAME) >= (int)sizeof path) {
        snprintf(err, errlen, "%s path too long: %.64s...", what, dir);
        return NULL;
    }
    /* O_CREAT without O_TRUNC: a holder's pid must survive our failed attempt. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the lock file %s of the %s: %s", path, what,
                 strerror(errno));
        return NULL;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            char holder[32];
            read_holder(fd, holder, sizeof holder);
            snprintf(err, errlen,
                     "%s %s is in use: %s is locked by %s%s; stop that process, or give this one "
                     "another directory",
                     what, dir, path, holder[0] ? "process " : "another process",
                     holder[0] ? holder : "");
        } else {
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        }
        close(fd);
        return NULL;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        /* The lock holds without the pid; only the message of a second process suffers. */
        st_warn("cannot write the pid into %s: %s", path, strerror(errno));
    }
    st_dirlock *l = malloc(sizeof *l);
    if (!l) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->fd = fd;
    return l;
}

void st_dirlock_release(st_dirlock *l)
{
    if (!l)
        return;
    close(l->fd); /* closing the last descriptor drops the flock */
    free(l);
}
