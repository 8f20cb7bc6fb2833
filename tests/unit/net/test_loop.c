/*
 * st_loop: timer order and re-arming, stop and restart, I/O watches, and the two
 * cross-thread entry points (post, stop). Loops that run in a thread are joined with a
 * deadline, so a broken wake-up fails the test instead of hanging it.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/net/loop.h"
#include "common/clock.h"

#define GUARD_MS 5000 /* no test should need the loop for longer than this */

static st_loop *new_loop(void)
{
    char err[128] = "";
    st_loop *loop = st_loop_new(err, sizeof err);
    assert_non_null(loop);
    return loop;
}

/* Stops a loop that a broken test would otherwise leave running forever. */
static void guard_cb(st_loop *loop, st_timer *t)
{
    *(bool *)t->arg = true;
    st_loop_stop(loop);
}

typedef struct ordered {
    st_timer timer;
    int id;
    int64_t started_ms;
    int64_t delay_ms;
} ordered;

typedef struct order_log {
    int ids[64];
    int n;
    int expected;
    bool early; /* a timer fired before its delay elapsed */
} order_log;

static void ordered_cb(st_loop *loop, st_timer *t)
{
    ordered *o = (ordered *)t;
    order_log *log = t->arg;
    if (st_loop_now_ms(loop) < o->started_ms + o->delay_ms)
        log->early = true;
    assert_false(st_timer_armed(t));
    log->ids[log->n++] = o->id;
    if (log->n == log->expected)
        st_loop_stop(loop);
}

static void test_timers_fire_in_order(void **state)
{
    st_loop *loop = new_loop();
    order_log log = {.expected = 5};
    int64_t delays[] = {40, 10, 30, 0, 20};
    ordered timers[5];
    memset(timers, 0, sizeof timers);
    for (int i = 0; i < 5; i++) {
        timers[i].timer.cb = ordered_cb;
        timers[i].timer.arg = &log;
        timers[i].id = (int)delays[i];
        timers[i].delay_ms = delays[i];
        timers[i].started_ms = st_loop_now_ms(loop);
        st_timer_start(loop, &timers[i].timer, delays[i]);
        assert_true(st_timer_armed(&timers[i].timer));
    }
    bool guard_fired = false;
    st_timer guard = {.cb = guard_cb, .arg = &guard_fired};
    st_timer_start(loop, &guard, GUARD_MS);

    assert_int_equal(st_loop_run(loop), 0);
    assert_false(guard_fired);
    assert_int_equal(log.n, 5);
    int want[] = {0, 10, 20, 30, 40};
    for (int i = 0; i < 5; i++)
        assert_int_equal(log.ids[i], want[i]);
    assert_false(log.early);
    st_timer_stop(loop, &guard);
    st_loop_free(loop);
}

/* Many timers with pseudo-random delays, some stopped and some restarted: the heap
 * must hand them out in due order and never fire a stopped one. */
static void test_timer_heap_many(void **state)
{
    st_loop *loop = new_loop();
    enum { N = 60 };
    order_log log = {.expected = 0};
    ordered timers[N];
    memset(timers, 0, sizeof timers);
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245 + 12345;
        timers[i].timer.cb = ordered_cb;
        timers[i].timer.arg = &log;
        timers[i].delay_ms = (seed >> 16) % 30;
        timers[i].id = i;
        timers[i].started_ms = st_loop_now_ms(loop);
        st_timer_start(loop, &timers[i].timer, timers[i].delay_ms);
    }
    /* Stop every third timer; push every fifth (not stopped) further out. */
    int live = 0;
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0) {
            st_timer_stop(loop, &timers[i].timer);
            assert_false(st_timer_armed(&timers[i].timer));
            st_timer_stop(loop, &timers[i].timer); /* stopping twice is a no-op */
            continue;
        }
        if (i % 5 == 0) {
            timers[i].delay_ms = 35 + i % 7;
            st_timer_start(loop, &timers[i].timer, timers[i].delay_ms);
        }
        live++;
    }
    log.expected = live;
    bool guard_fired = false;
    st_timer guard = {.cb = guard_cb, .arg = &guard_fired};
    st_timer_start(loop, &guard, GUARD_MS);
    st_loop_run(loop);
    assert_false(guard_fired);
    assert_int_equal(log.n, live);
    for (int k = 0; k < log.n; k++) {
        int id = log.ids[k];
        assert_int_not_equal(id % 3, 0);
        if (k > 0) {
            int prev = log.ids[k - 1];
            assert_true(timers[prev].started_ms + timers[prev].delay_ms <=
                        timers[id].started_ms + timers[id].delay_ms);
        }
    }
    assert_false(log.early);
    st_timer_stop(loop, &guard);
    st_loop_free(loop);
}

typedef struct rearm {
    st_timer timer;
    int fired;
} rearm;

static void rearm_cb(st_loop *loop, st_timer *t)
{
    rearm *r = (rearm *)t;
    if (++r->fired < 3)
        st_timer_start(loop, t, 5); /* re-arm from its own callback */
    else
        st_loop_stop(loop);
}

static void test_rearm_and_restart(void **state)
{
    st_loop *loop = new_loop();
    rearm r = {.timer.cb = rearm_cb};
    /* Armed far out, then restarted sooner: the later start wins. */
    st_timer_start(loop, &r.timer, 60000);
    st_timer_start(loop, &r.timer, 1);
    bool guard_fired = false;
    st_timer guard = {.cb = guard_cb, .arg = &guard_fired};
    st_timer_start(loop, &guard, GUARD_MS);
    int64_t t0 = st_mono_ms();
    st_loop_run(loop);
    assert_false(guard_fired);
    assert_int_equal(r.fired, 3);
    assert_false(st_timer_armed(&r.timer));
    assert_true(st_mono_ms() - t0 >= 10); /* two 5 ms re-arms */
    st_timer_stop(loop, &guard);
    st_loop_free(loop);
}

static void count_and_stop_cb(st_loop *loop, st_timer *t)
{
    (*(int *)t->arg)++;
    st_loop_stop(loop);
}

static void test_stop_and_run_again(void **state)
{
    st_loop *loop = new_loop();
    int count = 0;
    st_timer t = {.cb = count_and_stop_cb, .arg = &count};
    bool guard_fired = false;
    st_timer guard = {.cb = guard_cb, .arg = &guard_fired};
    st_timer_start(loop, &guard, GUARD_MS);

    st_timer_start(loop, &t, 1);
    st_loop_run(loop);
    assert_int_equal(count, 1);
    /* The stop was consumed: a second run keeps going until the next stop. */
    st_timer_start(loop, &t, 1);
    st_loop_run(loop);
    assert_int_equal(count, 2);
    assert_false(guard_fired);

    /* A stop requested before run makes run return after one iteration. */
    st_loop_stop(loop);
    int64_t t0 = st_mono_ms();
    st_loop_run(loop);
    assert_true(st_mono_ms() - t0 < 1000);
    assert_false(guard_fired);
    st_timer_stop(loop, &guard);
    st_loop_free(loop);
}

typedef struct pipe_state {
    int fds[2];
    int calls;
    uint32_t events;
    char got;
} pipe_state;

static void pipe_cb(st_loop *loop, int fd, uint32_t events, void *arg)
{
    pipe_state *p = arg;
    p->calls++;
    p->events = events;
    assert_int_equal(fd, p->fds[0]);
    assert_int_equal(read(fd, &p->got, 1), 1);
    st_loop_unwatch(loop, fd);
    st_loop_stop(loop);
}

static void test_watch_fd(void **state)
{
    st_loop *loop = new_loop();
    pipe_state p = {0};
    assert_int_equal(pipe(p.fds), 0);
    assert_int_equal(st_loop_watch(loop, p.fds[0], EPOLLIN, pipe_cb, &p), 0);
    /* Watching again replaces the registration rather than failing. */
    assert_int_equal(st_loop_watch(loop, p.fds[0], EPOLLIN, pipe_cb, &p), 0);
    assert_int_equal(write(p.fds[1], "x", 1), 1);
    bool guard_fired = false;
    st_timer guard = {.cb = guard_cb, .arg = &guard_fired};
    st_timer_start(loop, &guard, GUARD_MS);
    st_loop_run(loop);
    assert_false(guard_fired);
    assert_int_equal(p.calls, 1);
    assert_true(p.events & EPOLLIN);
    assert_int_equal(p.got, 'x');

    /* Unwatched: more data must not call back. A short timer ends the run. */
    assert_int_equal(write(p.fds[1], "y", 1), 1);
    int count = 0;
    st_timer t = {.cb = count_and_stop_cb, .arg = &count};
    st_timer_start(loop, &t, 20);
    st_loop_run(loop);
    assert_int_equal(count, 1);
    assert_int_equal(p.calls, 1);
    assert_int_equal(st_loop_watch(loop, -1, EPOLLIN, pipe_cb, &p), -1);
    st_timer_stop(loop, &guard);
    close(p.fds[0]);
    close(p.fds[1]);
    st_loop_free(loop);
}

typedef struct threaded {
    st_loop *loop;
    pthread_t loop_thread;
    pthread_t ran_on;
    int posts_run;
    int64_t loop_returned_ms;
} threaded;

static void *run_thread(void *arg)
{
    threaded *th = arg;
    st_loop_run(th->loop);
    __atomic_store_n(&th->loop_returned_ms, st_mono_ms(), __ATOMIC_RELEASE);
    return NULL;
}

static void join_within(pthread_t thread, int ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int rc = pthread_timedjoin_np(thread, NULL, &deadline);
    assert_int_equal(rc, 0); /* ETIMEDOUT: the loop did not stop */
}

static void post_fn(void *arg)
{
    threaded *th = arg;
    th->ran_on = pthread_self();
    if (__atomic_add_fetch(&th->posts_run, 1, __ATOMIC_ACQ_REL) == 100)
        st_loop_stop(th->loop);
}

static void test_post_from_other_thread(void **state)
{
    threaded th = {.loop = new_loop()};
    assert_int_equal(pthread_create(&th.loop_thread, NULL, run_thread, &th), 0);
    /* The loop is idle (no timers): only the eventfd can wake it. */
    for (int i = 0; i < 100; i++)
        st_loop_post(th.loop, post_fn, &th);
    join_within(th.loop_thread, GUARD_MS);
    assert_int_equal(th.posts_run, 100);
    assert_true(pthread_equal(th.ran_on, th.loop_thread));
    assert_false(pthread_equal(th.ran_on, pthread_self()));
    st_loop_free(th.loop);
}

static void test_stop_from_other_thread(void **state)
{
    threaded th = {.loop = new_loop()};
    assert_int_equal(pthread_create(&th.loop_thread, NULL, run_thread, &th), 0);
    /* Wait (bounded) until the loop thread is inside st_loop_run's first sleep: a
     * post proves the loop is up; then stop must wake an idle epoll_wait. */
    th.posts_run = 0;
    st_loop_post_fn(th.loop, post_fn, &th);
    int64_t deadline = st_mono_ms() + GUARD_MS;
    while (__atomic_load_n(&th.posts_run, __ATOMIC_ACQUIRE) == 0 && st_mono_ms() < deadline)
        sched_yield();
    assert_int_equal(__atomic_load_n(&th.posts_run, __ATOMIC_ACQUIRE), 1);
    int64_t stopped_at = st_mono_ms();
    st_loop_stop(th.loop);
    join_within(th.loop_thread, GUARD_MS);
    assert_true(th.loop_returned_ms - stopped_at < 1000);
    st_loop_free(th.loop);
}

/* Signal handlers get no argument: the one place a test needs a static. */
static st_loop *g_signal_loop;

static void on_alarm(int sig)
{
    st_loop_stop(g_signal_loop);
}

static void test_stop_from_signal_handler(void **state)
{
    st_loop *loop = new_loop();
    g_signal_loop = loop;
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {.it_value = {0, 50 * 1000}};
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    bool guard_fired = false;
    st_timer guard = {.cb = guard_cb, .arg = &guard_fired};
    st_timer_start(loop, &guard, GUARD_MS);
    st_loop_run(loop); /* EINTR from epoll_wait, then the eventfd: either way it returns */
    assert_false(guard_fired);
    st_timer_stop(loop, &guard);
    signal(SIGALRM, SIG_DFL);
    st_loop_free(loop);
}

/* An idle loop (no timers, no I/O) must sleep in epoll_wait, not spin. */
static void test_idle_loop_uses_no_cpu(void **state)
{
    threaded th = {.loop = new_loop()};
    assert_int_equal(pthread_create(&th.loop_thread, NULL, run_thread, &th), 0);
    clockid_t cpu;
    assert_int_equal(pthread_getcpuclockid(th.loop_thread, &cpu), 0);
    struct timespec before, after;
    clock_gettime(cpu, &before);
    /* The measurement window itself, not a wait for a condition. */
    usleep(300 * 1000);
    clock_gettime(cpu, &after);
    int64_t used_us =
        (after.tv_sec - before.tv_sec) * 1000000 + (after.tv_nsec - before.tv_nsec) / 1000;
    st_loop_stop(th.loop);
    join_within(th.loop_thread, GUARD_MS);
    assert_true(used_us < 20 * 1000);
    st_loop_free(th.loop);
}

static void noop_fn(void *arg)
{
    (*(int *)arg)++;
}

static void test_free_drops_pending_posts(void **state)
{
    st_loop *loop = new_loop();
    int ran = 0;
    st_loop_post(loop, noop_fn, &ran);
    st_loop_post(loop, noop_fn, &ran);
    st_timer armed = {.cb = count_and_stop_cb, .arg = &ran};
    st_timer_start(loop, &armed, 1000);
    st_loop_free(loop); /* must neither run nor leak the posts */
    assert_int_equal(ran, 0);
    assert_false(st_timer_armed(&armed));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_fire_in_order),
        cmocka_unit_test(test_timer_heap_many),
        cmocka_unit_test(test_rearm_and_restart),
        cmocka_unit_test(test_stop_and_run_again),
        cmocka_unit_test(test_watch_fd),
        cmocka_unit_test(test_post_from_other_thread),
        cmocka_unit_test(test_stop_from_other_thread),
        cmocka_unit_test(test_free_drops_pending_posts),
        cmocka_unit_test(test_stop_from_signal_handler),
        cmocka_unit_test(test_idle_loop_uses_no_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
