/*
 * The shared fixture of the log module's unit tests: a fresh directory per test with a
 * partition directory path inside it, the broker's log lines captured to a temp file
 * (so tests can check what was logged), everything removed afterwards.
 */
#ifndef ST_TEST_LOG_FIXTURE_H
#define ST_TEST_LOG_FIXTURE_H

#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/logging.h"

typedef struct fixture {
    char root[64];
    char dir[128]; /* root/orders-0: where the test's log lives */
    FILE *logfile; /* what st_warn/st_info wrote */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/st-log-test-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof f->dir, "%s/orders-0", f->root);
    f->logfile = tmpfile();
    st_logging_setup(ST_LOG_INFO, f->logfile);
    *state = f;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    st_logging_setup(ST_LOG_INFO, NULL);
    fclose(f->logfile);
    free(f);
    return 0;
}

/* True if the log output so far contains needle. */
__attribute__((unused)) static bool logged(fixture *f, const char *needle)
{
    static char text[1 << 20];
    fflush(f->logfile);
    size_t n = (size_t)pread(fileno(f->logfile), text, sizeof text - 1, 0);
    text[n] = '\0';
    return strstr(text, needle) != NULL;
}

/* A post function for st_flusher_new that queues completions for the test's thread, and
 * the loop that runs them (what the broker's event loop does): static inline, since not
 * every test file uses them. */
typedef struct post_queue {
    pthread_mutex_t lock;
    void (*fn[64])(void *);
    void *arg[64];
    int n;
} post_queue;

static inline void test_post(void *ctx, void (*fn)(void *), void *arg)
{
    post_queue *q = ctx;
    pthread_mutex_lock(&q->lock);
    q->fn[q->n] = fn;
    q->arg[q->n++] = arg;
    pthread_mutex_unlock(&q->lock);
}

/* Runs what was posted so far; returns how many. */
static inline int run_posted(post_queue *q)
{
    void (*fn[64])(void *);
    void *arg[64];
    pthread_mutex_lock(&q->lock);
    int n = q->n;
    memcpy(fn, q->fn, sizeof fn);
    memcpy(arg, q->arg, sizeof arg);
    q->n = 0;
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < n; i++)
        fn[i](arg[i]);
    return n;
}

#endif
