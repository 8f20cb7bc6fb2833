/*
 * Writeback: keeps the event loop out of the kernel's dirty-page throttle.
 *
 * An append is a pwrite into the page cache: a memory copy, until the machine's dirty
 * and under-writeback pages pass the kernel's "freerun" point, halfway between
 * vm.dirty_background_* and vm.dirty_*. Past it, every writer is put to sleep in
 * balance_dirty_pages until the disk catches up — and straitd's writer is its event
 * loop thread, so every connection waits: a 50 MB/s producer's p99 went to 570 ms
 * right after a flat-out one had filled memory faster than the disk drained it.
 *
 * Two things keep the loop below that point:
 *
 * 1. Early writeback. Each partition hands every filled ST_WRITEBACK_CHUNK of its active
 *    segment (whole pages only, so the page being appended to is never under
 *    writeback) to this module's thread, which starts the kernel's writeback of the
 *    range with sync_file_range(SYNC_FILE_RANGE_WRITE). The disk then works from the
 *    first MiB of a burst instead of from the background threshold on, and while it
 *    keeps up the dirty pages stay few. Only that flag: the waiting ones would consume
 *    a writeback error (the file's errseq) that the flusher's fsync must still see.
 *
 * 2. Back-pressure. When the disk does not keep up, the machine's dirty + writeback
 *    pages — sampled from /proc/vmstat every SAMPLE_MS while writes go on, plus what the
 *    loop appended since the sample — reach `limit`, set at 7/8 of the freerun point
 *    (recomputed every second from /proc/sys/vm/dirty_* and /proc/meminfo, as the
 *    kernel computes it). Appends then report disk_behind, and the producer's answer
 *    waits (st_writeback_await) until the pages are below the limit again, or
 *    max_wait_ms at most. A connection reads nothing while its answer waits, so the
 *    producers slow to the disk's pace while the loop keeps serving everybody else.
 *
 *   loop thread                               writeback thread
 *   append ─▶ st_writeback_note_append ─queue─▶ sync_file_range(WRITE) per range
 *          ◀─ st_writeback_behind (atomics) ◀── sample /proc/vmstat, limits
 *   st_writeback_await ──────────waiters────▶ below the limit, or due ─▶ post(done)
 *
 * The machine-wide figure counts other processes' dirty pages too, which is right: the
 * kernel throttles on the total. A memory cgroup with its own limit (cgroup v2
 * memory.max) has its own, lower, throttle point that this does not compute.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "broker/log/log_int.h"
#include "common/clock.h"
#include "common/logging.h"

#define SAMPLE_MS       50   /* how often dirty pages are sampled while writes go on */
#define LIMITS_MS       1000 /* how often the kernel's thresholds are recomputed */
#define ACTIVE_MS       1000 /* sampling goes on this long after the last range */
#define DEFAULT_WAIT_MS 500  /* the longest an answer is held */
#define BEHIND_LINE_MS  10000

typedef struct wb_range {
    struct wb_range *next;
    st_fileref *file; /* owned reference */
    int64_t from, to;
} wb_range;

typedef struct wb_waiter {
    struct wb_waiter *next;
    st_log_flushed_cb *cb;
    void *cb_arg;
    int64_t due_ms; /* monotonic */
    int64_t since_ms;
} wb_waiter;

struct st_writeback {
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* CLOCK_MONOTONIC */
    /* guarded by lock */
    wb_range *head, *tail;
    wb_waiter *waiters, **waiters_tail;
    bool stopping;
    int64_t max_wait_ms;
    int64_t sample_ms;
    bool fixed_limit;        /* set by st_writeback_configure: not recomputed */
    int64_t active_until_ms; /* sample until then (monotonic) */
    st_post_fn *post;
    void *post_ctx;
    /* read by the loop thread without the lock */
    int64_t appended;        /* bytes appended so far (the loop adds) */
    int64_t sample_dirty;    /* machine's dirty + writeback bytes at the last sample */
    int64_t sample_appended; /* `appended` just before that sample */
    int64_t limit;           /* bytes; 0: never behind */
    /* statistics (atomic) */
    st_writeback_stats stats;
    /* the writeback thread's own */
    int64_t limits_at_ms, sampled_at_ms;
    st_ratelog behind_lines;
    bool was_behind;
    long page_size;
};

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v)   __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)

/* Reads a small /proc file whole into buf (NUL-terminated). -1 if unreadable. */
static int read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return 0;
}

/* The number after "\n<key>" (or at the start) in text, or -1. */
static int64_t field(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = text; (p = strstr(p, key)) != NULL; p += klen) {
        if ((p == text || p[-1] == '\n') && (p[klen] == ' ' || p[klen] == ':' || p[klen] == '\t'))
            return strtoll(p + klen + 1 + strspn(p + klen + 1, " \t"), NULL, 10);
    }
    return -1;
}

static int64_t read_number(const char *path)
{
    char buf[64];
    return read_small(path, buf, sizeof buf) < 0 ? -1 : strtoll(buf, NULL, 10);
}

int64_t st_writeback_freerun_bytes(void)
{
    char mem[8192];
    if (read_small("/proc/meminfo", mem, sizeof mem) < 0)
        return -1;
    /* The kernel's dirtyable memory: free pages plus the file cache (its reserves are a
     * few % more; the 1/8 margin below the point covers them). */
    int64_t free_kib = field(mem, "MemFree"), active = field(mem, "Active(file)"),
            inactive = field(mem, "Inactive(file)");
    if (free_kib < 0 || active < 0 || inactive < 0)
        return -1;
    int64_t dirtyable = (free_kib + active + inactive) * 1024;
    int64_t bytes = read_number("/proc/sys/vm/dirty_bytes");
    int64_t ratio = read_number("/proc/sys/vm/dirty_ratio");
    int64_t bg_bytes = read_number("/proc/sys/vm/dirty_background_bytes");
    int64_t bg_ratio = read_number("/proc/sys/vm/dirty_background_ratio");
    int64_t thresh = bytes > 0 ? bytes : (ratio >= 0 ? dirtyable / 100 * ratio : -1);
    int64_t bg = bg_bytes > 0 ? bg_bytes : (bg_ratio >= 0 ? dirtyable / 100 * bg_ratio : -1);
    if (thresh <= 0 || bg < 0)
        return -1;
    if (bg >= thresh)
        bg = thresh / 2; /* the kernel's rule */
    return (thresh + bg) / 2;
}

/* The machine's dirty + writeback bytes now, or -1. */
static int64_t dirty_now(st_writeback *wb)
{
    char text[16384];
    if (read_small("/proc/vmstat", text, sizeof text) < 0)
        return -1;
    int64_t dirty = field(text, "nr_dirty"), writeback = field(text, "nr_writeback");
    if (dirty < 0 || writeback < 0)
        return -1;
    return (dirty + writeback) * wb->page_size;
}

/* On the writeback thread: a fresh sample when one is due, and the limit when it is. */
static void sample(st_writeback *wb, int64_t now_ms)
{
    pthread_mutex_lock(&wb->lock);
    bool fixed = wb->fixed_limit;
    int64_t every = wb->sample_ms;
    pthread_mutex_unlock(&wb->lock);
    if (now_ms - wb->sampled_at_ms < every)
        return;
    wb->sampled_at_ms = now_ms;
    if (!fixed && now_ms - wb->limits_at_ms >= LIMITS_MS) {
        wb->limits_at_ms = now_ms;
        int64_t freerun = st_writeback_freerun_bytes();
        if (freerun > 0)
            STORE(&wb->limit, freerun - freerun / 8);
    }
    int64_t appended = LOAD(&wb->appended);
    int64_t dirty = dirty_now(wb);
    if (dirty < 0)
        return; /* no /proc: the last sample stands */
    STORE(&wb->sample_appended, appended);
    STORE(&wb->sample_dirty, dirty);
}

bool st_writeback_behind(st_writeback *wb)
{
    int64_t limit = LOAD(&wb->limit);
    if (limit <= 0)
        return false;
    int64_t since = LOAD(&wb->appended) - LOAD(&wb->sample_appended);
    return LOAD(&wb->sample_dirty) + (since > 0 ? since : 0) > limit;
}

static void waiter_done(void *arg)
{
    wb_waiter *w = arg;
    w->cb(w->cb_arg, 0);
    free(w);
}

/* Posts the waiters that may go: all when the disk caught up, else the due ones. */
static void release_waiters(st_writeback *wb, int64_t now_ms, bool all)
{
    bool behind = !all && st_writeback_behind(wb);
    wb_waiter *go = NULL, **go_tail = &go;
    pthread_mutex_lock(&wb->lock);
    wb_waiter **pp = &wb->waiters;
    while (*pp) {
        wb_waiter *w = *pp;
        if (!behind || w->due_ms <= now_ms) {
            *pp = w->next;
            w->next = NULL;
            *go_tail = w;
            go_tail = &w->next;
            if (behind)
                ADD(&wb->stats.waits_expired, 1);
        } else {
            pp = &w->next;
        }
    }
    wb->waiters_tail = pp;
    pthread_mutex_unlock(&wb->lock);
    while (go) {
        wb_waiter *w = go;
        go = w->next;
        ADD(&wb->stats.waited_ms, (uint64_t)(now_ms - w->since_ms));
        wb->post(wb->post_ctx, waiter_done, w);
    }
}

/* Says once per interval that producers are being slowed, and when it ends. */
static void report(st_writeback *wb, int64_t now_ms)
{
    bool behind = st_writeback_behind(wb);
    uint64_t held;
    if (behind && !wb->was_behind && st_ratelog_allow(&wb->behind_lines, now_ms, &held))
        st_info("the disk is behind: %" PRId64 " MiB dirty or under writeback, limit %" PRId64
                " MiB (7/8 of the point where the kernel throttles writers); produce answers wait "
                "up to %" PRId64 " ms for it to drain",
                LOAD(&wb->sample_dirty) >> 20, LOAD(&wb->limit) >> 20, wb->max_wait_ms);
    wb->was_behind = behind;
}

static void start_ranges(st_writeback *wb, wb_range *r)
{
    while (r) {
        wb_range *next = r->next;
        /* The range's pages were filled: start writing them; do not wait. */
        if (sync_file_range(r->file->fd, r->from, r->to - r->from, SYNC_FILE_RANGE_WRITE) == 0)
            ADD(&wb->stats.started_bytes, (uint64_t)(r->to - r->from));
        st_fileref_unref(r->file);
        free(r);
        r = next;
    }
}

static void *writeback_main(void *arg)
{
    st_writeback *wb = arg;
    /* The lowest priority (nice 19) for this thread only: it is woken for every filled
     * MiB, and sync_file_range does the block allocation and I/O submission in its
     * context. At the loop's priority, on a broker pinned to one core, it preempted the
     * event loop each time (test_fair_service: Metadata p50 3-6 ms -> 33-160 ms). Nice
     * 19 still gets ~1.5% of a busy core, so held answers are released and the samples
     * taken; a failure only costs that, so it is not checked. */
    setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
    pthread_mutex_lock(&wb->lock);
    for (;;) {
        wb_range *ranges = wb->head;
        wb->head = wb->tail = NULL;
        bool stopping = wb->stopping;
        pthread_mutex_unlock(&wb->lock);

        start_ranges(wb, ranges);
        int64_t now = st_mono_ms();
        sample(wb, now);
        release_waiters(wb, now, stopping);
        report(wb, now);

        pthread_mutex_lock(&wb->lock);
        if (stopping && !wb->head && !wb->waiters)
            break;
        if (wb->head || wb->stopping)
            continue;
        if (!wb->waiters && now >= wb->active_until_ms) {
            pthread_cond_wait(&wb->wake, &wb->lock); /* idle: nothing to watch */
            continue;
        }
        int64_t until = now + wb->sample_ms;
        for (wb_waiter *w = wb->waiters; w; w = w->next)
            if (w->due_ms < until)
                until = w->due_ms;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (until - now) * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        if (until > now)
            pthread_cond_timedwait(&wb->wake, &wb->lock, &ts);
    }
    pthread_mutex_unlock(&wb->lock);
    return NULL;
}

st_writeback *st_writeback_new(st_post_fn *post, void *post_ctx, char *err, size_t errlen)
{
    st_writeback *wb = calloc(1, sizeof *wb);
    if (!wb) {
        snprintf(err, errlen, "writeback: out of memory");
        return NULL;
    }
    wb->post = post;
    wb->post_ctx = post_ctx;
    wb->waiters_tail = &wb->waiters;
    wb->max_wait_ms = DEFAULT_WAIT_MS;
    wb->sample_ms = SAMPLE_MS;
    wb->sampled_at_ms = INT64_MIN / 2;
    wb->page_size = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    wb->behind_lines = (st_ratelog)ST_RATELOG_INIT(BEHIND_LINE_MS);
    wb->limits_at_ms = INT64_MIN / 2;
    int64_t freerun = st_writeback_freerun_bytes();
    if (freerun > 0) {
        wb->limit = freerun - freerun / 8;
        wb->limits_at_ms = st_mono_ms();
    }
    pthread_mutex_init(&wb->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wb->wake, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&wb->thread, NULL, writeback_main, wb);
    if (rc != 0) {
        snprintf(err, errlen, "writeback: cannot start its thread: %s", strerror(rc));
        pthread_cond_destroy(&wb->wake);
        pthread_mutex_destroy(&wb->lock);
        free(wb);
        return NULL;
    }
    wb->started = true;
    return wb;
}

void st_writeback_configure(st_writeback *wb, int64_t limit_bytes, int64_t max_wait_ms,
                            int64_t sample_ms)
{
    pthread_mutex_lock(&wb->lock);
    wb->fixed_limit = limit_bytes != 0;
    if (limit_bytes != 0)
        STORE(&wb->limit, limit_bytes < 0 ? 0 : limit_bytes);
    else
        wb->limits_at_ms = INT64_MIN / 2; /* recomputed at the next sample */
    if (max_wait_ms >= 0)
        wb->max_wait_ms = max_wait_ms;
    wb->sample_ms = sample_ms > 0 ? sample_ms : SAMPLE_MS;
    pthread_cond_signal(&wb->wake); /* waiters may go now, or later */
    pthread_mutex_unlock(&wb->lock);
}

void st_writeback_note_append(st_writeback *wb, int64_t bytes)
{
    ADD(&wb->appended, bytes);
}

void st_writeback_submit(st_writeback *wb, st_fileref *file, int64_t from, int64_t to)
{
    wb_range *r = malloc(sizeof *r);
    if (!r)
        return; /* the kernel writes it back anyway, later */
    *r = (wb_range){NULL, st_fileref_ref(file), from, to};
    pthread_mutex_lock(&wb->lock);
    if (wb->tail)
        wb->tail->next = r;
    else
        wb->head = r;
    wb->tail = r;
    wb->active_until_ms = st_mono_ms() + ACTIVE_MS;
    pthread_cond_signal(&wb->wake);
    pthread_mutex_unlock(&wb->lock);
}

void st_writeback_await(st_writeback *wb, st_log_flushed_cb *cb, void *arg)
{
    wb_waiter *w = malloc(sizeof *w);
    if (!w) {
        cb(arg, 0); /* no memory to wait with: answer now rather than never */
        return;
    }
    int64_t now = st_mono_ms();
    ADD(&wb->stats.waits, 1);
    pthread_mutex_lock(&wb->lock);
    *w = (wb_waiter){NULL, cb, arg, now + wb->max_wait_ms, now};
    *wb->waiters_tail = w;
    wb->waiters_tail = &w->next;
    pthread_cond_signal(&wb->wake);
    pthread_mutex_unlock(&wb->lock);
}

void st_writeback_get_stats(st_writeback *wb, st_writeback_stats *out)
{
    out->started_bytes = LOAD(&wb->stats.started_bytes);
    out->waits = LOAD(&wb->stats.waits);
    out->waits_expired = LOAD(&wb->stats.waits_expired);
    out->waited_ms = LOAD(&wb->stats.waited_ms);
    out->dirty_bytes = LOAD(&wb->sample_dirty);
    out->limit_bytes = LOAD(&wb->limit);
    out->behind = st_writeback_behind(wb);
}

void st_writeback_free(st_writeback *wb)
{
    if (!wb)
        return;
    pthread_mutex_lock(&wb->lock);
    wb->stopping = true;
    pthread_cond_signal(&wb->wake);
    pthread_mutex_unlock(&wb->lock);
    if (wb->started)
        pthread_join(wb->thread, NULL); /* starts what is queued, posts every waiter */
    pthread_cond_destroy(&wb->wake);
    pthread_mutex_destroy(&wb->lock);
    free(wb);
}
