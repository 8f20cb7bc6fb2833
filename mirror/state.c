/*
 * The state directory (see state.h).
 */
#include "mirror/state.h"

#include "common/fileio.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <sys/stat.h>
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

int st_flow_state_path(const char *dir, const char *source, const char *target, char *out,
                       size_t cap)
{
    int n = snprintf(out, cap, "%s/flows/%s.to.%s.json", dir, source, target);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int st_flow_state_read(const char *path, json_t **state, char *err, size_t errlen)
{
    json_error_t jerr;
    *state = NULL;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 1;
    json_t *v = json_load_file(path, 0, &jerr);
    if (!v || !json_is_object(v)) {
        snprintf(err, errlen, "%s: %s", path, v ? "not a JSON object" : jerr.text);
        json_decref(v);
        return -1;
    }
    *state = v;
    return 0;
}

int st_flow_state_write(const char *path, const json_t *state, char *err, size_t errlen)
{
    char dir[PATH_MAX], name[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir ||
        snprintf(name, sizeof name, "%s", path) >= (int)sizeof name) {
        snprintf(err, errlen, "path too long: %.64s...", path);
        return -1;
    }
    char *d = dirname(dir), *b = basename(name);
    if (mkdir(d, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", d, strerror(errno));
        return -1;
    }
    char *text = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t len = strlen(text);
    text[len] = '\0';
    int rc = st_file_write_atomic(d, b, text, len, true, err, errlen);
    free(text);
    return rc;
}
