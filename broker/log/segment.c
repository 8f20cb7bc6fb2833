/*
 * Segments: file naming, lazy opening, the two sparse indexes and the tail scans that
 * rebuild them (see segment.h for the formats).
 *
 * The in-memory indexes are authoritative while the broker runs; the files exist for
 * the next start. So a failed index write is logged and retried at the next sync, and a
 * damaged index file is never fatal: its valid prefix is kept and the rest is rebuilt by
 * scanning batch headers from the last good entry.
 */
#include "broker/log/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/log_int.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

#define INDEX_ENTRY 8
#define TIME_ENTRY  12

void st_segment_path(char *buf, size_t buflen, const char *dir, int64_t base, const char *ext)
{
    snprintf(buf, buflen, "%s/%020" PRId64 ".%s", dir, base, ext);
}

static ssize_t pread_full(int fd, void *buf, size_t n, int64_t pos)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + done, n - done, pos + (int64_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

static int pwrite_full(int fd, const void *buf, size_t n, int64_t pos)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, (const uint8_t *)buf + done, n - done, pos + (int64_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

void st_scan_init(st_scan *sc, int fd, int64_t pos, int64_t limit)
{
    sc->fd = fd;
    sc->pos = pos;
    sc->limit = limit;
    sc->buf_pos = 0;
    sc->buf_len = 0;
}

int st_scan_next(st_scan *sc, st_batch_info *info, int64_t *at)
{
    if (sc->pos >= sc->limit)
        return ST_SCAN_END;
    if (sc->limit - sc->pos < ST_BATCH_HEADER_SIZE)
        return ST_SCAN_BAD;
    if (sc->pos < sc->buf_pos ||
        sc->pos + ST_BATCH_HEADER_SIZE > sc->buf_pos + (int64_t)sc->buf_len) {
        int64_t want = sc->limit - sc->pos;
        if (want > (int64_t)sizeof sc->buf)
            want = sizeof sc->buf;
        ssize_t n = pread_full(sc->fd, sc->buf, (size_t)want, sc->pos);
        if (n < 0)
            return ST_SCAN_IO;
        sc->buf_pos = sc->pos;
        sc->buf_len = (size_t)n;
        if (n < ST_BATCH_HEADER_SIZE)
            return ST_SCAN_BAD;
    }
    if (st_batch_parse_header(sc->buf + (sc->pos - sc->buf_pos), info) != ST_ERR_NONE ||
        sc->pos + info->size > sc->limit)
        return ST_SCAN_BAD;
    *at = sc->pos;
    sc->pos += info->size;
    return ST_SCAN_BATCH;
}

st_segment *st_segment_new(int64_t base, int64_t size)
{
    st_segment *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base = base;
    s->size = size;
    s->writeback_pos = size; /* what exists already is the kernel's business */
    s->end_offset = base;
    s->max_ts = -1;
    s->max_ts_rel = -1;
    s->roll_ts = -1;
    s->created_ms = st_wall_ms();
    s->roll_jitter_ms = -1;
    return s;
}

void st_segment_free(st_segment *s)
{
    if (!s)
        return;
    st_fileref_unref(s->file);
    st_fileref_unref(s->index_file);
    st_fileref_unref(s->time_file);
    free(s->index);
    free(s->times);
    free(s);
}

static st_fileref *open_ref(const char *dir, int64_t base, const char *ext, int flags)
{
    char path[4096];
    st_segment_path(path, sizeof path, dir, base, ext);
    int fd = open(path, flags | O_CLOEXEC, 0644);
    return fd < 0 ? NULL : st_fileref_new(fd);
}

st_segment *st_segment_create(const char *dir, int64_t base)
{
    st_segment *s = st_segment_new(base, 0);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    st_fileref *log = open_ref(dir, base, "log", O_RDWR | O_CREAT | O_TRUNC);
    if (!log) {
        int saved = errno;
        st_segment_free(s);
        errno = saved;
        return NULL;
    }
    /* Nothing stays open: an idle new partition holds no descriptor. Index files of an
     * earlier segment with this base would describe other data; an empty segment has
     * none (the first write creates them). */
    st_fileref_unref(log);
    static const char *const exts[] = {"index", "timeindex"};
    for (int i = 0; i < 2; i++) {
        char path[4096];
        st_segment_path(path, sizeof path, dir, base, exts[i]);
        if (unlink(path) < 0 && errno != ENOENT) {
            int saved = errno;
            st_segment_free(s);
            errno = saved;
            return NULL;
        }
    }
    s->loaded = true;
    return s;
}

int st_segment_open_log(const char *dir, st_segment *s)
{
    if (s->file)
        return 0;
    s->file = open_ref(dir, s->base, "log", O_RDWR);
    return s->file ? 0 : -1;
}

int st_segment_reserve(st_segment *s, int32_t n)
{
    if (s->nindex + n > s->index_cap) {
        int32_t cap = s->index_cap ? s->index_cap : 8;
        while (cap < s->nindex + n)
            cap *= 2;
        st_index_entry *p = realloc(s->index, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        s->index = p;
        s->index_cap = cap;
    }
    if (s->ntimes + n > s->times_cap) {
        int32_t cap = s->times_cap ? s->times_cap : 8;
        while (cap < s->ntimes + n)
            cap *= 2;
        st_time_entry *p = realloc(s->times, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        s->times = p;
        s->times_cap = cap;
    }
    return 0;
}

void st_segment_note_batch(st_segment *s, int64_t pos, const st_batch_info *b,
                           int32_t index_interval)
{
    int32_t rel = (int32_t)(b->base_offset - s->base);
    if (b->max_timestamp > s->max_ts) {
        s->max_ts = b->max_timestamp;
        s->max_ts_rel = rel;
    }
    if (pos == 0)
        s->roll_ts = b->max_timestamp;
    if (pos > 0 && s->bytes_since_index >= index_interval) {
        s->index[s->nindex++] = (st_index_entry){rel, (int32_t)pos};
        if (s->max_ts >= 0 && (s->ntimes == 0 || s->max_ts > s->times[s->ntimes - 1].ts))
            s->times[s->ntimes++] = (st_time_entry){s->max_ts, (int32_t)s->max_ts_rel};
        s->bytes_since_index = 0;
    }
    s->bytes_since_index += b->size;
    s->end_offset = b->base_offset + b->last_offset_delta + 1;
}

void st_segment_seal(st_segment *s)
{
    if (!s->loaded || s->max_ts < 0)
        return;
    if (s->ntimes > 0 && s->times[s->ntimes - 1].ts >= s->max_ts)
        return;
    if (st_segment_reserve(s, 1) == 0)
        s->times[s->ntimes++] = (st_time_entry){s->max_ts, (int32_t)s->max_ts_rel};
}

int64_t st_segment_lookup(const st_segment *s, int64_t offset)
{
    int64_t rel = offset - s->base;
    int32_t lo = 0, hi = s->nindex; /* first entry with rel > target */
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (s->index[mid].rel <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : s->index[lo - 1].pos;
}

/*
 * Writes len bytes at `at` of one index file: into ref when the cleaner set one, else
 * into the file opened for this write, cut after them. With out, the file is returned
 * there (a new reference) for an fsync; without, a file opened here is closed.
 */
static int write_entries(const char *dir, st_segment *s, st_fileref *ref, const char *ext,
                         int64_t at, const uint8_t *data, size_t len, st_fileref **out)
{
    int fd = ref ? ref->fd : -1;
    if (!ref) {
        char path[4096];
        st_segment_path(path, sizeof path, dir, s->base, ext);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    }
    int rc = fd < 0 ? -1 : pwrite_full(fd, data, len, at);
    if (rc == 0 && !ref && ftruncate(fd, at + (int64_t)len) < 0)
        rc = -1;
    if (rc < 0)
        s->write_errno = errno; /* the caller reports it (storage.c rate-limits) */
    if (rc == 0 && out) {
        *out = ref ? st_fileref_ref(ref) : st_fileref_new(fd);
        if (*out)
            return 0;
        rc = -1; /* out of memory: the caller cannot fsync it */
        s->write_errno = ENOMEM;
    }
    if (!ref && fd >= 0)
        close(fd);
    if (rc == 0)
        s->index_unflushed = true;
    return rc;
}

/* Opens an index file only to fsync what an earlier write left in the page cache. */
static st_fileref *reopen_for_fsync(const char *dir, st_segment *s, st_fileref *ref,
                                    const char *ext)
{
    if (ref)
        return st_fileref_ref(ref);
    char path[4096];
    st_segment_path(path, sizeof path, dir, s->base, ext);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL; /* never written (or removed): nothing to sync */
    st_fileref *f = st_fileref_new(fd);
    if (!f)
        close(fd);
    return f;
}

int st_segment_write_indexes(const char *dir, st_segment *s, st_fileref *out[2])
{
    int rc = ST_ERR_NONE;
    bool was_unflushed = s->index_unflushed;
    st_fileref **index_out = out ? &out[0] : NULL, **times_out = out ? &out[1] : NULL;
    if (out)
        out[0] = out[1] = NULL;
    if (s->index_synced < s->nindex) {
        int32_t n = s->nindex - s->index_synced;
        uint8_t *buf = malloc((size_t)n * INDEX_ENTRY);
        if (!buf)
            return ST_ERR_KAFKA_STORAGE_ERROR;
        for (int32_t i = 0; i < n; i++) {
            st_put_be32(buf + i * INDEX_ENTRY, (uint32_t)s->index[s->index_synced + i].rel);
            st_put_be32(buf + i * INDEX_ENTRY + 4, (uint32_t)s->index[s->index_synced + i].pos);
        }
        if (write_entries(dir, s, s->index_file, "index", (int64_t)s->index_synced * INDEX_ENTRY,
                          buf, (size_t)n * INDEX_ENTRY, index_out) == 0)
            s->index_synced = s->nindex;
        else
            rc = ST_ERR_KAFKA_STORAGE_ERROR;
        free(buf);
    }
    if (s->times_synced < s->ntimes) {
        int32_t n = s->ntimes - s->times_synced;
        uint8_t *buf = malloc((size_t)n * TIME_ENTRY);
        if (!buf)
            return ST_ERR_KAFKA_STORAGE_ERROR;
        for (int32_t i = 0; i < n; i++) {
            st_put_be64(buf + i * TIME_ENTRY, (uint64_t)s->times[s->times_synced + i].ts);
            st_put_be32(buf + i * TIME_ENTRY + 8, (uint32_t)s->times[s->times_synced + i].rel);
        }
        if (write_entries(dir, s, s->time_file, "timeindex", (int64_t)s->times_synced * TIME_ENTRY,
                          buf, (size_t)n * TIME_ENTRY, times_out) == 0)
            s->times_synced = s->ntimes;
        else
            rc = ST_ERR_KAFKA_STORAGE_ERROR;
        free(buf);
    }
    if (out && rc == ST_ERR_NONE) {
        /* files an earlier plain write left unsynced: this flush covers them too */
        if (was_unflushed && !out[0])
            out[0] = reopen_for_fsync(dir, s, s->index_file, "index");
        if (was_unflushed && !out[1])
            out[1] = reopen_for_fsync(dir, s, s->time_file, "timeindex");
        s->index_unflushed = false;
    }
    return rc;
}

int st_segment_sync_indexes(const char *dir, st_segment *s)
{
    return st_segment_write_indexes(dir, s, NULL);
}

/* Reads a whole small file. 0, 1 if missing, -1 on error (errno). *data is malloc'd. */
static int read_whole(const char *path, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) < 0)
        goto out;
    *data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    if (!*data)
        goto out;
    ssize_t n = pread_full(fd, *data, (size_t)st.st_size, 0);
    if (n < 0)
        goto out;
    *len = (size_t)n;
    rc = 0;
out:
    close(fd);
    if (rc) {
        free(*data);
        *data = NULL;
    }
    return rc;
}

/*
 * Reads both index files into memory, keeping each one's longest valid prefix: entries
 * in increasing order, inside the .log (file_size) and the offset range. Returns true
 * when the files hold exactly what was kept (nothing to rewrite).
 */
static bool parse_indexes(const char *dir, st_segment *s, int64_t file_size)
{
    char path[4096];
    uint8_t *data;
    size_t len;
    bool exact = true;
    s->nindex = s->ntimes = 0;

    /* a missing file is exact when nothing is kept: an empty segment has none */
    st_segment_path(path, sizeof path, dir, s->base, "index");
    if (read_whole(path, &data, &len) < 0)
        exact = false;
    size_t n = len / INDEX_ENTRY;
    if (n > 0 && st_segment_reserve(s, (int32_t)n) == 0) {
        for (size_t i = 0; i < n; i++) {
            int32_t rel = (int32_t)st_be32(data + i * INDEX_ENTRY);
            int32_t pos = (int32_t)st_be32(data + i * INDEX_ENTRY + 4);
            bool ordered = s->nindex == 0 ||
                           (rel > s->index[s->nindex - 1].rel && pos > s->index[s->nindex - 1].pos);
            if (rel < 0 || pos <= 0 || pos >= file_size || !ordered)
                break;
            s->index[s->nindex++] = (st_index_entry){rel, pos};
        }
    }
    exact = exact && len == (size_t)s->nindex * INDEX_ENTRY;
    free(data);

    st_segment_path(path, sizeof path, dir, s->base, "timeindex");
    if (read_whole(path, &data, &len) < 0)
        exact = false;
    n = len / TIME_ENTRY;
    if (n > 0 && st_segment_reserve(s, (int32_t)n) == 0) {
        for (size_t i = 0; i < n; i++) {
            int64_t ts = (int64_t)st_be64(data + i * TIME_ENTRY);
            int32_t rel = (int32_t)st_be32(data + i * TIME_ENTRY + 8);
            bool ordered = s->ntimes == 0 ||
                           (ts > s->times[s->ntimes - 1].ts && rel >= s->times[s->ntimes - 1].rel);
            if (rel < 0 || ts < 0 || !ordered)
                break;
            s->times[s->ntimes++] = (st_time_entry){ts, rel};
        }
    }
    exact = exact && len == (size_t)s->ntimes * TIME_ENTRY;
    free(data);
    return exact;
}

/* Restarts the in-memory state at index entry k (-1: the segment's start), keeping the
 * time entries that describe only batches before it. */
static void restart_at(st_segment *s, int32_t k)
{
    int32_t rel = k >= 0 ? s->index[k].rel : 0;
    s->nindex = k + 1;
    while (s->ntimes > 0 && (k < 0 || s->times[s->ntimes - 1].rel >= rel))
        s->ntimes--;
    s->max_ts = s->ntimes ? s->times[s->ntimes - 1].ts : -1;
    s->max_ts_rel = s->ntimes ? s->times[s->ntimes - 1].rel : -1;
    s->bytes_since_index = 0;
    s->end_offset = s->base + rel;
}

/* Empties one index file, open or not. */
static int empty_file(const char *dir, st_segment *s, st_fileref *ref, const char *ext)
{
    char path[4096];
    st_segment_path(path, sizeof path, dir, s->base, ext);
    int fd = ref ? ref->fd : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 || (ref && ftruncate(fd, 0) < 0) ? -1 : 0;
    if (rc < 0)
        s->write_errno = errno;
    if (!ref && fd >= 0)
        close(fd);
    return rc;
}

/* Rewrites both index files from memory. */
static int rewrite_indexes(const char *dir, st_segment *s)
{
    s->index_synced = s->times_synced = 0;
    s->index_unflushed = true; /* the truncation too wants the next flush's fsync */
    if (empty_file(dir, s, s->index_file, "index") < 0 ||
        empty_file(dir, s, s->time_file, "timeindex") < 0)
        return ST_ERR_KAFKA_STORAGE_ERROR;
    return st_segment_sync_indexes(dir, s);
}

/* Index entry to start a scan at: the last one at or below offset whose position
 * really holds a batch with that base offset; -1 for the segment's start. */
static int32_t start_entry(st_segment *s, int64_t offset)
{
    int32_t k = s->nindex - 1;
    while (k >= 0 && s->base + s->index[k].rel > offset)
        k--;
    if (k >= 0) {
        uint8_t head[8];
        if (pread_full(s->file->fd, head, 8, s->index[k].pos) != 8 ||
            (int64_t)st_be64(head) != s->base + s->index[k].rel)
            k = -1; /* the index does not describe this file: rebuild it whole */
    }
    return k;
}

int st_segment_load(const char *dir, st_segment *s, int32_t index_interval)
{
    if (st_segment_open_log(dir, s) < 0) {
        st_error("%s: cannot open segment %" PRId64 ": %s", dir, s->base, strerror(errno));
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    if (s->loaded)
        return ST_ERR_NONE; /* a new segment, or one whose .log was closed at a roll */
    bool exact = parse_indexes(dir, s, s->size);
    int32_t k = start_entry(s, INT64_MAX);
    if (k != s->nindex - 1)
        exact = false;
    restart_at(s, k);
    int64_t before = s->nindex;
    int32_t times_kept = s->ntimes; /* the file's prefix still in memory */
    st_scan sc;
    st_scan_init(&sc, s->file->fd, k >= 0 ? s->index[k].pos : 0, s->size);
    st_batch_info b;
    int64_t at;
    int rc;
    while ((rc = st_scan_next(&sc, &b, &at)) == ST_SCAN_BATCH) {
        if (st_segment_reserve(s, 1) < 0) {
            st_error("%s: out of memory loading segment %" PRId64, dir, s->base);
            return ST_ERR_KAFKA_STORAGE_ERROR;
        }
        /* compaction leaves gaps: offsets only have to increase */
        if (b.base_offset < s->end_offset) {
            rc = ST_SCAN_BAD;
            sc.pos = at;
            break;
        }
        st_segment_note_batch(s, at, &b, index_interval);
    }
    if (rc == ST_SCAN_IO) {
        st_error("%s: reading segment %" PRId64 " failed: %s", dir, s->base, strerror(errno));
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    if (rc == ST_SCAN_BAD) {
        /* A clean start trusts the files, but a bad tail must not be served. */
        st_warn("%s: segment %" PRId64 " has no valid batch at position %" PRId64 " of %" PRId64
                "; serving only what precedes it",
                dir, s->base, sc.pos, s->size);
        s->size = sc.pos;
    }
    while (s->ntimes > 0 && s->times[s->ntimes - 1].rel >= s->end_offset - s->base) {
        s->ntimes--;
        exact = false;
    }
    if (s->nindex != before)
        exact = false;
    s->loaded = true;
    if (exact) {
        s->index_synced = s->nindex;
        s->times_synced = s->ntimes < times_kept ? s->ntimes : times_kept;
    } else if (rewrite_indexes(dir, s) != ST_ERR_NONE) {
        s->rebuild_failed = true; /* memory is what counts; the log reports it */
    }
    return ST_ERR_NONE;
}

int st_segment_recover(const char *dir, st_segment *s, int32_t index_interval, int64_t from_offset,
                       int64_t *cut_bytes, int64_t *cut_pos, char *reason, size_t reasonlen)
{
    int rc = ST_ERR_KAFKA_STORAGE_ERROR;
    uint8_t *buf = NULL;
    size_t bufcap = 0;
    struct stat st;
    *cut_bytes = *cut_pos = 0;
    reason[0] = '\0';
    bool was_open = s->file != NULL;
    if (st_segment_open_log(dir, s) < 0 || fstat(s->file->fd, &st) < 0) {
        st_error("%s: cannot open segment %" PRId64 ": %s", dir, s->base, strerror(errno));
        return rc;
    }
    int64_t file_size = st.st_size;
    parse_indexes(dir, s, file_size);
    restart_at(s, start_entry(s, from_offset));
    int64_t pos = s->nindex ? s->index[s->nindex - 1].pos : 0;
    while (pos < file_size) {
        int64_t left = file_size - pos;
        uint8_t head[ST_BATCH_LOG_OVERHEAD];
        if (left < ST_BATCH_LOG_OVERHEAD) {
            snprintf(reason, reasonlen, "torn batch header, %" PRId64 " bytes", left);
            break;
        }
        if (pread_full(s->file->fd, head, sizeof head, pos) != (ssize_t)sizeof head)
            goto io_error;
        int32_t batch_length = (int32_t)st_be32(head + 8);
        if (batch_length < ST_BATCH_HEADER_SIZE - ST_BATCH_LOG_OVERHEAD ||
            batch_length > INT32_MAX - ST_BATCH_LOG_OVERHEAD) {
            snprintf(reason, reasonlen, "impossible batchLength %d", batch_length);
            break;
        }
        int64_t size = (int64_t)batch_length + ST_BATCH_LOG_OVERHEAD;
        if (size > left) {
            snprintf(reason, reasonlen, "torn batch, %" PRId64 " of %" PRId64 " bytes", left, size);
            break;
        }
        if ((size_t)size > bufcap) {
            uint8_t *p = realloc(buf, (size_t)size);
            if (!p)
                goto out;
            buf = p;
            bufcap = (size_t)size;
        }
        if (pread_full(s->file->fd, buf, (size_t)size, pos) != size)
            goto io_error;
        st_batch_info b;
        if (st_batch_header(buf, (size_t)size, &b) != ST_ERR_NONE) {
            snprintf(reason, reasonlen, "bad batch header (magic %d)", buf[16]);
            break;
        }
        if (!st_batch_intact(buf, (size_t)size)) {
            snprintf(reason, reasonlen, "CRC mismatch");
            break;
        }
        if (b.base_offset < s->end_offset || b.last_offset_delta < 0) {
            snprintf(reason, reasonlen,
                     "batch at offset %" PRId64 " where %" PRId64 " or later was expected",
                     b.base_offset, s->end_offset);
            break;
        }
        if (st_segment_reserve(s, 1) < 0)
            goto out;
        st_segment_note_batch(s, pos, &b, index_interval);
        pos += size;
    }
    if (pos < file_size) {
        if (ftruncate(s->file->fd, pos) < 0) {
            st_error("%s: cannot truncate segment %" PRId64 ": %s", dir, s->base, strerror(errno));
            goto out;
        }
        *cut_bytes = file_size - pos;
        *cut_pos = pos;
    }
    s->size = pos;
    s->loaded = true;
    rc = rewrite_indexes(dir, s);
    goto out;
io_error:
    st_error("%s: reading segment %" PRId64 " failed: %s", dir, s->base, strerror(errno));
out:
    free(buf);
    if (!was_open) {
        /* recovery of 10,000 idle partitions must not leave 10,000 descriptors: the
         * first read or append opens the .log again */
        st_fileref_unref(s->file);
        s->file = NULL;
    }
    return rc;
}

int64_t st_segment_max_ts(const char *dir, st_segment *s, int32_t index_interval)
{
    if (!s->loaded && st_segment_load(dir, s, index_interval) != ST_ERR_NONE && !s->loaded)
        return -1;
    return s->max_ts;
}

void st_segment_unlink(const char *dir, int64_t base)
{
    static const char *const exts[] = {"log", "index", "timeindex"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        st_segment_path(path, sizeof path, dir, base, exts[i]);
        if (unlink(path) < 0 && errno != ENOENT)
            st_warn("%s: cannot delete %s: %s", path, exts[i], strerror(errno));
    }
}
