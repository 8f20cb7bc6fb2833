/*
 * st_loop: an epoll event loop with one timer heap and a thread-safe post queue.
 *
 * All I/O callbacks and timers run on the thread that calls st_loop_run. Other threads
 * (the flusher) hand work back with st_loop_post, which wakes the loop through an
 * eventfd. Timers are intrusive (embedded in their owner, no allocation) and kept in
 * a binary min-heap; the loop sleeps exactly until the earliest one, so an idle broker
 * burns no CPU.
 */
#ifndef ST_LOOP_H
#define ST_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct st_loop st_loop;
typedef struct st_timer st_timer;

/* events is a mask of EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP as epoll reported it. */
typedef void st_io_cb(st_loop *loop, int fd, uint32_t events, void *arg);
typedef void st_timer_cb(st_loop *loop, st_timer *timer);

struct st_timer {
    int64_t due_ms;    /* monotonic ms; private to the loop */
    size_t heap_index; /* private: 0 when not armed */
    st_timer_cb *cb;
    void *arg; /* for the owner */
};

/* Returns a new loop or NULL with err set. */
st_loop *st_loop_new(char *err, size_t errlen);
/* Frees the loop. Watched fds are not closed; pending posts are dropped. */
void st_loop_free(st_loop *loop);

/* Watches fd for `events` (EPOLLIN|EPOLLOUT, level-triggered), replacing any earlier
 * registration of the same fd. Returns 0 or -1 with errno. */
int st_loop_watch(st_loop *loop, int fd, uint32_t events, st_io_cb *cb, void *arg);
void st_loop_unwatch(st_loop *loop, int fd);

/* A zeroed st_timer with cb set is ready to start. (Re)arms it to fire once after
 * delay_ms. Loop thread only. */
void st_timer_start(st_loop *loop, st_timer *t, int64_t delay_ms);
void st_timer_stop(st_loop *loop, st_timer *t); /* no-op if not armed */
static inline bool st_timer_armed(const st_timer *t)
{
    return t->heap_index != 0;
}

/* Runs fn(arg) on the loop thread soon. Any thread. Never fails (aborts on OOM). */
void st_loop_post(st_loop *loop, void (*fn)(void *arg), void *arg);
/* Runs what has been posted so far, now (loop thread, or at shutdown after the posting
 * threads were joined: work they handed back still owns memory to free). */
void st_loop_run_posted(st_loop *loop);
/* Same signature as st_post_fn in log.h, for the flusher: post_ctx is the loop. */
void st_loop_post_fn(void *loop, void (*fn)(void *arg), void *arg);

/* Runs until st_loop_stop. Returns 0. */
int st_loop_run(st_loop *loop);
/* Makes st_loop_run return after the current iteration. Any thread, and
 * async-signal-safe (it only writes to the eventfd). */
void st_loop_stop(st_loop *loop);

/* Monotonic ms, read once per loop iteration (cheap). */
int64_t st_loop_now_ms(const st_loop *loop);
/* Reads the clock again: timers started after slow set-up work (before st_loop_run)
 * then count from now, not from when the loop was made. Loop thread. */
void st_loop_update_time(st_loop *loop);
/* Counts loop iterations ("turns"): callers bound their work per turn with it (the
 * connection layer's fair share). */
uint64_t st_loop_iteration(const st_loop *loop);

/*
 * How long the loop's turns took: from epoll_wait returning to the next epoll_wait (I/O
 * callbacks, posted functions, due timers) — the time every other connection waited.
 * Kept in a histogram whose buckets are 1/8 of a power of two wide, so a percentile is
 * the upper edge of its bucket: at most 12.5% above the true value. (loop_turns.c)
 */
#define ST_LOOP_TURN_BUCKETS 320
typedef struct st_loop_turn_hist {
    uint64_t turns;
    int64_t longest_us;
    uint64_t count[ST_LOOP_TURN_BUCKETS];
} st_loop_turn_hist;

typedef struct st_loop_turns {
    uint64_t turns;
    int64_t longest_us;
    int64_t p50_us, p99_us, p999_us; /* 0 when no turn was measured */
} st_loop_turns;

/* Since the loop started, and over the last complete minute (the minute in progress
 * until one has passed). Loop thread. */
void st_loop_turn_stats(const st_loop *loop, st_loop_turns *since_start,
                        st_loop_turns *last_minute);

/* The histogram itself (loop_turns.c), for the loop and its tests. */
void st_loop_turn_record(st_loop_turn_hist *h, int64_t us);
void st_loop_turn_summary(const st_loop_turn_hist *h, st_loop_turns *out);

#endif
