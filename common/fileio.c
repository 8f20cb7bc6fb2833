/* Whole-file replacement and small reads; see fileio.h. */
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

int st_file_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int st_file_write_atomic(const char *dir, const char *name, const void *data, size_t len, bool sync,
                         char *err, size_t errlen)
{
    return st_file_write_atomic_mode(dir, name, data, len, sync, 0644, err, errlen);
}

int st_file_write_atomic_mode(const char *dir, const char *name, const void *data, size_t len,
                              bool sync, int mode, char *err, size_t errlen)
{
    char path[PATH_MAX + 256], tmp[PATH_MAX + 260];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    int rc = -1, saved = 0;
    unlink(tmp); /* a leftover could carry other permissions: O_CREAT would keep them */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        saved = errno;
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(saved));
        errno = saved;
        return -1;
    }
    const char *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            saved = errno;
            snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(saved));
            goto out;
        }
        off += (size_t)n;
    }
    if (sync && fsync(fd) != 0) {
        saved = errno;
        snprintf(err, errlen, "cannot fsync %s: %s", tmp, strerror(saved));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(saved));
        goto out;
    }
    if (sync && st_file_fsync_dir(dir) != 0) {
        saved = errno;
        snprintf(err, errlen, "cannot fsync directory %s: %s", dir, strerror(saved));
        goto out;
    }
    rc = 0;
out:
    close(fd);
    if (rc != 0) {
        unlink(tmp);
        errno = saved;
    }
    return rc;
}

int st_file_read_small(const char *path, char *buf, size_t cap, size_t *len, char *err,
                       size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    size_t got = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == cap - 1) {
            char extra;
            if (read(fd, &extra, 1) > 0) {
                snprintf(err, errlen, "%s is larger than %zu bytes", path, cap - 1);
                rc = -1;
            }
            break;
        }
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return rc;
}

static int mkdir_failed(const char *dir, char *err, size_t errlen)
{
    int saved = errno;
    if (err)
        snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(saved));
    errno = saved;
    return -1;
}

/* One level: made now, or already a directory. */
static int make_one(const char *dir, int mode)
{
    if (mkdir(dir, (mode_t)mode) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    errno = ENOTDIR;
    return -1;
}

int st_mkdir_p(const char *path, int mode, char *err, size_t errlen)
{
    /* the parent almost always exists: one mkdir for a new partition */
    if (make_one(path, mode) == 0)
        return 0;
    if (errno != ENOENT)
        return mkdir_failed(path, err, errlen);
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        if (err)
            snprintf(err, errlen, "directory path too long: %.64s...", path);
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (make_one(tmp, mode) < 0)
            return mkdir_failed(tmp, err, errlen);
        *p = '/';
    }
    return make_one(tmp, mode) < 0 ? mkdir_failed(tmp, err, errlen) : 0;
}
