/*
 * st_loop: epoll (level-triggered), a binary min-heap of intrusive timers, and a post
 * queue that other threads fill under a mutex and wake the loop through an eventfd.
 *
 * One iteration:
 *
 *   run due timers  ->  epoll_wait(time to the earliest timer, or -1)  ->  refresh now
 *     -> dispatch I/O events  ->  run posted functions  ->  stop flag set? return
 *
 * A turn's length — epoll_wait returning to the next epoll_wait — is what every other
 * connection waited; each is recorded (loop_turns.c) for `strait status`.
 *
 * Watchers live in a table indexed by fd. epoll carries (generation << 32 | fd) as its
 * user data, and each fresh registration of an fd bumps the generation: an event that
 * was already fetched for an fd that a callback then unwatched (and maybe closed, and
 * the number reused by accept) in the same iteration is recognised as stale and skipped.
 */
#include "broker/net/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/clock.h"

#define MAX_EVENTS 128

typedef struct watcher {
    st_io_cb *cb; /* NULL when the fd is not watched */
    void *arg;
    uint32_t gen;
} watcher;

typedef struct post_item {
    struct post_item *next;
    void (*fn)(void *arg);
    void *arg;
} post_item;

struct st_loop {
    int epfd;
    int wakefd; /* eventfd: posts and st_loop_stop write to it */
    int64_t now_ms;
    uint64_t iteration; /* turns of st_loop_run so far */

    watcher *watchers; /* indexed by fd */
    size_t nwatchers;

    st_timer **heap; /* 1-based: heap[1] is the earliest; heap[0] unused */
    size_t heap_len;
    size_t heap_cap;

    pthread_mutex_t post_lock; /* guards post_head / post_tail */
    post_item *post_head;
    post_item *post_tail;

    int stop; /* atomic: set by st_loop_stop, possibly from another thread or a signal handler */

    /* How long turns took (st_loop_turn_stats): since start, the minute in progress and
     * the last complete one. */
    st_loop_turn_hist turns_total, turns_minute, turns_last_minute;
    int64_t minute_started_ms;
    bool have_last_minute;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "out of memory in the event loop (%zu bytes)\n", n);
        abort();
    }
    return q;
}

st_loop *st_loop_new(char *err, size_t errlen)
{
    st_loop *loop = calloc(1, sizeof *loop);
    if (loop)
        loop->minute_started_ms = st_mono_ms();
    if (!loop) {
        snprintf(err, errlen, "cannot allocate the event loop");
        return NULL;
    }
    loop->epfd = -1;
    loop->wakefd = -1;
    pthread_mutex_init(&loop->post_lock, NULL);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        goto fail;
    }
    loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->wakefd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    /* The wake fd is not in the watcher table: u64 = UINT64_MAX marks it. */
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) < 0) {
        snprintf(err, errlen, "epoll_ctl(eventfd): %s", strerror(errno));
        goto fail;
    }
    loop->now_ms = st_mono_ms();
    return loop;
fail:
    st_loop_free(loop);
    return NULL;
}

void st_loop_free(st_loop *loop)
{
    if (!loop)
        return;
    if (loop->epfd >= 0)
        close(loop->epfd);
    if (loop->wakefd >= 0)
        close(loop->wakefd);
    post_item *p = loop->post_head;
    while (p) {
        post_item *next = p->next;
        free(p);
        p = next;
    }
    /* Timers still armed belong to their owners; just forget them. */
    for (size_t i = 1; i <= loop->heap_len; i++)
        loop->heap[i]->heap_index = 0;
    pthread_mutex_destroy(&loop->post_lock);
    free(loop->heap);
    free(loop->watchers);
    free(loop);
}

/* ---- I/O watchers ---- */

int st_loop_watch(st_loop *loop, int fd, uint32_t events, st_io_cb *cb, void *arg)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= loop->nwatchers) {
        size_t n = loop->nwatchers ? loop->nwatchers : 64;
        while (n <= (size_t)fd)
            n *= 2;
        loop->watchers = xrealloc(loop->watchers, n * sizeof *loop->watchers);
        memset(loop->watchers + loop->nwatchers, 0, (n - loop->nwatchers) * sizeof *loop->watchers);
        loop->nwatchers = n;
    }
    watcher *w = &loop->watchers[fd];
    bool fresh = w->cb == NULL;
    uint32_t gen = fresh ? w->gen + 1 : w->gen;
    struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd};
    int rc = epoll_ctl(loop->epfd, fresh ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
    /* A table that says "not watched" while epoll has the fd means the owner closed a
     * dup'ed fd without unwatching; MOD repairs it rather than failing. */
    if (rc < 0 && fresh && errno == EEXIST)
        rc = epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
    if (rc < 0)
        return -1;
    w->cb = cb;
    w->arg = arg;
    w->gen = gen;
    return 0;
}

void st_loop_unwatch(st_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->nwatchers || !loop->watchers[fd].cb)
        return;
    /* Fails harmlessly if the owner already closed fd (epoll dropped it then). */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->watchers[fd].cb = NULL;
    loop->watchers[fd].arg = NULL;
}

/* ---- timer heap ---- */

static bool earlier(const st_timer *a, const st_timer *b)
{
    return a->due_ms < b->due_ms;
}

static void heap_set(st_loop *loop, size_t i, st_timer *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(st_loop *loop, size_t i)
{
    st_timer *t = loop->heap[i];
    while (i > 1 && earlier(t, loop->heap[i / 2])) {
        heap_set(loop, i, loop->heap[i / 2]);
        i /= 2;
    }
    heap_set(loop, i, t);
}

static void sift_down(st_loop *loop, size_t i)
{
    st_timer *t = loop->heap[i];
    for (;;) {
        size_t child = i * 2;
        if (child > loop->heap_len)
            break;
        if (child + 1 <= loop->heap_len && earlier(loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!earlier(loop->heap[child], t))
            break;
        heap_set(loop, i, loop->heap[child]);
        i = child;
    }
    heap_set(loop, i, t);
}

static void heap_remove(st_loop *loop, st_timer *t)
{
    size_t i = t->heap_index;
    st_timer *last = loop->heap[loop->heap_len--];
    t->heap_index = 0;
    if (last == t)
        return;
    heap_set(loop, i, last);
    /* The moved element may belong above or below its new slot. */
    if (i > 1 && earlier(last, loop->heap[i / 2]))
        sift_up(loop, i);
    else
        sift_down(loop, i);
}

void st_timer_start(st_loop *loop, st_timer *t, int64_t delay_ms)
{
    if (delay_ms < 0)
        delay_ms = 0;
    if (st_timer_armed(t))
        heap_remove(loop, t);
    t->due_ms = loop->now_ms + delay_ms;
    if (loop->heap_len + 1 >= loop->heap_cap) {
        loop->heap_cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        loop->heap = xrealloc(loop->heap, loop->heap_cap * sizeof *loop->heap);
    }
    loop->heap[++loop->heap_len] = t;
    sift_up(loop, loop->heap_len);
}

void st_timer_stop(st_loop *loop, st_timer *t)
{
    if (st_timer_armed(t))
        heap_remove(loop, t);
}

static void run_timers(st_loop *loop)
{
    /* At most as many firings as timers armed now: a callback that re-arms itself with
     * delay 0 runs again next iteration instead of starving I/O forever. */
    size_t budget = loop->heap_len;
    while (budget-- > 0 && loop->heap_len > 0 && loop->heap[1]->due_ms <= loop->now_ms) {
        st_timer *t = loop->heap[1];
        heap_remove(loop, t);
        t->cb(loop, t);
    }
}

static int wait_timeout_ms(const st_loop *loop)
{
    if (loop->heap_len == 0)
        return -1; /* nothing scheduled: sleep until I/O or a post */
    int64_t delta = loop->heap[1]->due_ms - st_mono_ms();
    if (delta <= 0)
        return 0;
    return delta > INT32_MAX ? INT32_MAX : (int)delta;
}

/* ---- posts and stop ---- */

static void wake(st_loop *loop)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already huge, i.e. the loop is being woken anyway. */
    ssize_t n = write(loop->wakefd, &one, sizeof one);
    (void)n;
}

void st_loop_post(st_loop *loop, void (*fn)(void *arg), void *arg)
{
    post_item *p = xrealloc(NULL, sizeof *p);
    p->next = NULL;
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_lock(&loop->post_lock);
    bool was_empty = loop->post_head == NULL;
    if (loop->post_tail)
        loop->post_tail->next = p;
    else
        loop->post_head = p;
    loop->post_tail = p;
    pthread_mutex_unlock(&loop->post_lock);
    /* The loop drains the whole queue after every wake-up, so only the post that makes
     * the queue non-empty needs to wake it. */
    if (was_empty)
        wake(loop);
}

void st_loop_post_fn(void *loop, void (*fn)(void *arg), void *arg)
{
    st_loop_post(loop, fn, arg);
}

static void run_posts(st_loop *loop)
{
    pthread_mutex_lock(&loop->post_lock);
    post_item *p = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    pthread_mutex_unlock(&loop->post_lock);
    /* Posts made by these functions land in the fresh queue and wake the next wait. */
    while (p) {
        post_item *next = p->next;
        p->fn(p->arg);
        free(p);
        p = next;
    }
}

void st_loop_run_posted(st_loop *loop)
{
    run_posts(loop);
}

void st_loop_stop(st_loop *loop)
{
    /* A lock-free atomic store and write(2): both async-signal-safe. */
    __atomic_store_n(&loop->stop, 1, __ATOMIC_RELEASE);
    wake(loop);
}

/* ---- running ---- */

static bool stop_requested(st_loop *loop)
{
    return __atomic_load_n(&loop->stop, __ATOMIC_ACQUIRE) != 0;
}

static void dispatch(st_loop *loop, const struct epoll_event *ev)
{
    if (ev->data.u64 == UINT64_MAX) {
        uint64_t count;
        ssize_t n = read(loop->wakefd, &count, sizeof count);
        (void)n; /* EAGAIN: another event already drained it */
        return;
    }
    int fd = (int)(uint32_t)ev->data.u64;
    uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
    if ((size_t)fd >= loop->nwatchers)
        return;
    watcher *w = &loop->watchers[fd];
    if (!w->cb || w->gen != gen)
        return; /* unwatched (or re-registered) earlier in this iteration */
    w->cb(loop, fd, ev->events, w->arg);
}

static void record_turn(st_loop *loop, int64_t us)
{
    if (loop->now_ms - loop->minute_started_ms >= 60000) {
        loop->turns_last_minute = loop->turns_minute;
        memset(&loop->turns_minute, 0, sizeof loop->turns_minute);
        loop->minute_started_ms = loop->now_ms;
        loop->have_last_minute = true;
    }
    st_loop_turn_record(&loop->turns_total, us);
    st_loop_turn_record(&loop->turns_minute, us);
}

void st_loop_turn_stats(const st_loop *loop, st_loop_turns *since_start, st_loop_turns *last_minute)
{
    st_loop_turn_summary(&loop->turns_total, since_start);
    st_loop_turn_summary(loop->have_last_minute ? &loop->turns_last_minute : &loop->turns_minute,
                         last_minute);
}

int st_loop_run(st_loop *loop)
{
    struct epoll_event events[MAX_EVENTS];
    int64_t turn_started_us = -1; /* when the last epoll_wait returned */
    for (;;) {
        loop->iteration++;
        loop->now_ms = st_mono_ms();
        run_timers(loop);
        if (turn_started_us >= 0)
            record_turn(loop, st_mono_us() - turn_started_us);
        int timeout = stop_requested(loop) ? 0 : wait_timeout_ms(loop);
        int n = epoll_wait(loop->epfd, events, MAX_EVENTS, timeout);
        turn_started_us = st_mono_us();
        loop->now_ms = turn_started_us / 1000;
        if (n < 0 && errno != EINTR) {
            /* Only EBADF/EFAULT/EINVAL: a programming error, not a runtime condition. */
            fprintf(stderr, "epoll_wait: %s\n", strerror(errno));
            abort();
        }
        for (int i = 0; i < n; i++)
            dispatch(loop, &events[i]);
        run_posts(loop);
        /* Consuming the flag lets st_loop_run be called again afterwards. */
        if (__atomic_exchange_n(&loop->stop, 0, __ATOMIC_ACQ_REL))
            break;
    }
    return 0;
}

int64_t st_loop_now_ms(const st_loop *loop)
{
    return loop->now_ms;
}

void st_loop_update_time(st_loop *loop)
{
    loop->now_ms = st_mono_ms();
}

uint64_t st_loop_iteration(const st_loop *loop)
{
    return loop->iteration;
}
