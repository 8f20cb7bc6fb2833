/*
 * The leader epoch cache (see leader_epoch.h for the rules and the file). A sorted
 * array: a partition sees a handful of epochs in its life, so lookups are linear.
 */
#include "broker/log/leader_epoch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fileio.h"

struct st_leader_epoch_cache {
    st_epoch_entry *entries;
    int32_t n, cap;
};

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        abort();
    return q;
}

st_leader_epoch_cache *st_leader_epoch_new(void)
{
    st_leader_epoch_cache *c = xrealloc(NULL, sizeof *c);
    memset(c, 0, sizeof *c);
    return c;
}

void st_leader_epoch_free(st_leader_epoch_cache *c)
{
    if (!c)
        return;
    free(c->entries);
    free(c);
}

int32_t st_leader_epoch_latest(const st_leader_epoch_cache *c)
{
    return c->n ? c->entries[c->n - 1].epoch : ST_UNDEFINED_EPOCH;
}

int32_t st_leader_epoch_count(const st_leader_epoch_cache *c)
{
    return c->n;
}

const st_epoch_entry *st_leader_epoch_entries(const st_leader_epoch_cache *c)
{
    return c->entries;
}

bool st_leader_epoch_assign(st_leader_epoch_cache *c, int32_t epoch, int64_t start_offset)
{
    if (epoch < 0 || start_offset < 0)
        return false; /* not an epoch: records of old producers carry -1 */
    if (c->n) {
        const st_epoch_entry *last = &c->entries[c->n - 1];
        if (last->epoch == epoch && start_offset >= last->start_offset)
            return false;
    }
    /* drop what the new entry contradicts: later or equal epochs, later or equal starts */
    while (c->n && (c->entries[c->n - 1].epoch >= epoch ||
                    c->entries[c->n - 1].start_offset >= start_offset))
        c->n--;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->entries = xrealloc(c->entries, (size_t)c->cap * sizeof *c->entries);
    }
    c->entries[c->n++] = (st_epoch_entry){epoch, start_offset};
    return true;
}

bool st_leader_epoch_truncate_from_end(st_leader_epoch_cache *c, int64_t end_offset)
{
    if (end_offset < 0 || !c->n || c->entries[c->n - 1].start_offset < end_offset)
        return false;
    while (c->n && c->entries[c->n - 1].start_offset >= end_offset)
        c->n--;
    return true;
}

bool st_leader_epoch_truncate_from_start(st_leader_epoch_cache *c, int64_t start_offset)
{
    if (start_offset < 0 || !c->n || c->entries[0].start_offset >= start_offset)
        return false;
    int32_t removed = 0;
    while (removed < c->n && c->entries[removed].start_offset <= start_offset)
        removed++;
    /* the last removed epoch is the one the new log start falls in */
    st_epoch_entry first = {c->entries[removed - 1].epoch, start_offset};
    memmove(c->entries + 1, c->entries + removed, (size_t)(c->n - removed) * sizeof *c->entries);
    c->entries[0] = first;
    c->n = c->n - removed + 1;
    return true;
}

void st_leader_epoch_end_offset_for(const st_leader_epoch_cache *c, int32_t requested,
                                    int64_t log_end_offset, int32_t *epoch, int64_t *end_offset)
{
    *epoch = ST_UNDEFINED_EPOCH;
    *end_offset = ST_UNDEFINED_EPOCH_OFFSET;
    if (requested == ST_UNDEFINED_EPOCH || !c->n)
        return;
    if (requested == c->entries[c->n - 1].epoch) {
        *epoch = requested;
        *end_offset = log_end_offset;
        return;
    }
    /* the first entry with a higher epoch ends `requested` */
    int32_t higher = 0;
    while (higher < c->n && c->entries[higher].epoch <= requested)
        higher++;
    if (higher == c->n)
        return; /* newer than anything we know */
    *epoch = higher > 0 ? c->entries[higher - 1].epoch : requested;
    *end_offset = c->entries[higher].start_offset;
}

/* ---- the file ---- */

/* Reads one line's fields into a, b (b absent when want == 1); returns the next line. */
static const char *read_line(const char *p, const char *end, int want, long long *a, long long *b)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return NULL;
    char line[64];
    size_t n = (size_t)(nl - p);
    if (n == 0 || n >= sizeof line)
        return NULL;
    memcpy(line, p, n);
    line[n] = 0;
    char *cur = line, *stop;
    if (!(line[0] == '-' || (line[0] >= '0' && line[0] <= '9')))
        return NULL;
    errno = 0;
    *a = strtoll(cur, &stop, 10);
    if (errno || stop == cur || (*stop && *stop != ' '))
        return NULL;
    if (want == 2) {
        if (*stop != ' ')
            return NULL;
        cur = stop + 1;
        if (!(*cur == '-' || (*cur >= '0' && *cur <= '9')))
            return NULL; /* exactly one space between the fields */
        errno = 0;
        *b = strtoll(cur, &stop, 10);
        if (errno || stop == cur || *stop)
            return NULL;
    } else if (*stop) {
        return NULL;
    }
    return nl + 1;
}

int st_leader_epoch_parse(st_leader_epoch_cache *c, const char *text, size_t len, char *err,
                          size_t errlen)
{
    c->n = 0;
    const char *p = text, *end = text + len;
    long long version, count, epoch = 0, offset = 0;
    if (!(p = read_line(p, end, 1, &version, NULL)) || version != 0) {
        snprintf(err, errlen, "line 1: expected version 0");
        return -1;
    }
    if (!(p = read_line(p, end, 1, &count, NULL)) || count < 0 || count > (long long)(len / 4)) {
        snprintf(err, errlen, "line 2: expected the number of entries (at most %zu here)", len / 4);
        return -1;
    }
    for (long long i = 0; i < count; i++) {
        if (!(p = read_line(p, end, 2, &epoch, &offset)) || epoch < 0 || epoch > INT32_MAX ||
            offset < 0) {
            snprintf(err, errlen, "line %lld: expected \"epoch start_offset\" (entry %lld of %lld)",
                     i + 3, i + 1, count);
            c->n = 0;
            return -1;
        }
        st_leader_epoch_assign(c, (int32_t)epoch, offset);
    }
    if (p != end) {
        snprintf(err, errlen, "%zu bytes after the %lld entries the file announces",
                 (size_t)(end - p), count);
        c->n = 0;
        return -1;
    }
    return 0;
}

int st_leader_epoch_load(st_leader_epoch_cache *c, const char *dir, char *err, size_t errlen)
{
    char path[4096], why[256];
    snprintf(path, sizeof path, "%s/%s", dir, ST_LEADER_EPOCH_FILE);
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        c->n = 0;
        return 0;
    }
    /* room for the file as it is now (+1 for the NUL), bounded: a longer file fails */
    size_t cap = stat(path, &st) == 0 && (size_t)st.st_size < ST_LEADER_EPOCH_FILE_MAX
                     ? (size_t)st.st_size + 2
                     : ST_LEADER_EPOCH_FILE_MAX;
    char *buf = xrealloc(NULL, cap);
    size_t len = 0;
    int rc = st_file_read_small(path, buf, cap, &len, why, sizeof why);
    if (rc == 1) {
        c->n = 0;
        rc = 0;
    } else if (rc == 0 && st_leader_epoch_parse(c, buf, len, why, sizeof why) != 0) {
        rc = -1;
    }
    if (rc)
        snprintf(err, errlen, "%s: %s", path, why);
    free(buf);
    return rc;
}

char *st_leader_epoch_format(const st_leader_epoch_cache *c, size_t *len)
{
    size_t cap = 32 + (size_t)c->n * 40;
    char *s = xrealloc(NULL, cap);
    size_t o = (size_t)snprintf(s, cap, "0\n%d\n", c->n);
    for (int32_t i = 0; i < c->n; i++)
        o += (size_t)snprintf(s + o, cap - o, "%d %lld\n", c->entries[i].epoch,
                              (long long)c->entries[i].start_offset);
    *len = o;
    return s;
}

int st_leader_epoch_write(const char *dir, const char *data, size_t len, bool sync, char *err,
                          size_t errlen)
{
    return st_file_write_atomic(dir, ST_LEADER_EPOCH_FILE, data, len, sync, err, errlen);
}
