/*
 * The state directory (see state.h).
 */
#include "mirror/state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int st_state_dir_lock(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX + 16];
    if (snprintf(path, sizeof path, "%s/.lock", dir) >= (int)sizeof path) {
        snprintf(err, errlen, "state_dir is too long: %.64s...", dir);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the state_dir lock %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        if (e == EWOULDBLOCK) {
            ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\r\n")] = '\0';
            snprintf(err, errlen,
                     "state_dir %s is in use by another strait-mirror (pid %s holds %s): stop "
                     "it first, or give this daemon its own state_dir",
                     dir, pid[0] ? pid : "unknown", path);
        } else {
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        }
        close(fd);
        return -1;
    }
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
        snprintf(err, errlen, "cannot write our pid into %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void st_state_dir_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* the lock goes with the last descriptor */
}
