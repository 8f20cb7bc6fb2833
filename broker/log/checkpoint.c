/*
 * The per-partition checkpoint file, "partition.checkpoint" in the partition's
 * directory. Text, one "key value" per line, so an operator can read it:
 *
 *   strait-partition-checkpoint 1
 *   start_offset 1200
 *   recovery_point 5000
 *   high_watermark 5000
 *   end_offset 5000
 *   active_base 4096
 *   active_size 81234
 *
 * Written atomically (tmp, fsync, rename, fsync of the directory) so a crash leaves
 * either the old or the new file, never half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/log_int.h"
#include "common/fileio.h"

#define HEADER "strait-partition-checkpoint 1"

static const char *const keys[] = {"start_offset", "end_offset",  "recovery_point",
                                   "active_base",  "active_size", "high_watermark"};

static int64_t *field(st_checkpoint *c, int i)
{
    int64_t *fields[] = {&c->start_offset, &c->end_offset,  &c->recovery_point,
                         &c->active_base,  &c->active_size, &c->high_watermark};
    return fields[i];
}

int st_checkpoint_read(const char *dir, st_checkpoint *out, char *why, size_t whylen)
{
    char path[4096], text[1024];
    snprintf(path, sizeof path, "%s/%s", dir, ST_CHECKPOINT_NAME);
    size_t n;
    int rc = st_file_read_small(path, text, sizeof text, &n, why, whylen);
    if (rc != 0)
        return rc; /* 1: no checkpoint yet */
    if (strncmp(text, HEADER "\n", sizeof HEADER) != 0) {
        snprintf(why, whylen, "%s does not start with \"%s\"", path, HEADER);
        return -1;
    }
    st_checkpoint c;
    unsigned seen = 0;
    char *save = NULL;
    for (char *line = strtok_r(text + sizeof HEADER, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char key[32];
        int64_t value;
        if (sscanf(line, "%31s %" SCNd64, key, &value) != 2)
            continue;
        for (int i = 0; i < 6; i++) {
            if (strcmp(key, keys[i]) == 0) {
                *field(&c, i) = value;
                seen |= 1u << i;
            }
        }
    }
    if (seen != 0x3f || c.start_offset < 0 || c.end_offset < c.start_offset) {
        snprintf(why, whylen, "%s is incomplete or inconsistent", path);
        return -1;
    }
    *out = c;
    return 0;
}

int st_checkpoint_write(const char *dir, const st_checkpoint *c)
{
    char text[1024], err[300];
    st_checkpoint copy = *c;
    int len = snprintf(text, sizeof text, HEADER "\n");
    for (int i = 0; i < 6; i++)
        len += snprintf(text + len, sizeof text - (size_t)len, "%s %" PRId64 "\n", keys[i],
                        *field(&copy, i));
    return st_file_write_atomic(dir, ST_CHECKPOINT_NAME, text, (size_t)len, true, err, sizeof err);
}
