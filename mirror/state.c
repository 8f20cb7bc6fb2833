/*
 * The flows' state files in the state directory (see state.h).
 */
#include "mirror/state.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"

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
