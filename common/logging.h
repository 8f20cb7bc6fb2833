/*
 * Log lines: "2026-11-21T17:30:01.123Z INFO  log/recovery.c:88 orders-0: truncated ...".
 *
 * The log destination and level are process-wide, like stderr itself, so they are the
 * one piece of static state in common/: passing a logger through every call would buy
 * nothing but noise. Set once at start-up, before threads exist; writing is thread-safe.
 */
#ifndef ST_LOGGING_H
#define ST_LOGGING_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/clock.h"

enum st_log_level { ST_LOG_DEBUG, ST_LOG_INFO, ST_LOG_WARN, ST_LOG_ERROR };

/* Borrows `out` (default stderr); must outlive every log call. */
void st_logging_setup(enum st_log_level level, FILE *out);
/* "debug", "info", "warn", "error" → level; -1 if unknown. */
int st_logging_parse_level(const char *name);
int st_logging_enabled(enum st_log_level level);
void st_logging_write(enum st_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Rate-limited lines, for what a peer or a failing disk can repeat without end (accept
 * errors, refused connections, ENOSPC): at most one line per interval, and the line that
 * goes out says how many were held back since the previous one:
 *
 *   WARN  net/listen.c:61 refusing 127.0.0.1:40112: ... [1234 similar lines suppressed]
 *
 * One st_log_limit per kind of line, owned by whoever logs it (static storage is fine:
 * it holds no pointer, and ST_LOG_LIMIT_INIT needs no setup). Any thread: the state is
 * updated with atomics. Held-back lines are reported with the next line that goes out;
 * a caller that must not lose the count (a storm that stops) keeps its own counter.
 */
typedef struct st_log_limit {
    int64_t interval_ms;
    int64_t next_ms;     /* monotonic: a line may go out from here on */
    uint64_t suppressed; /* lines held back since the last one written */
} st_log_limit;

#define ST_LOG_LIMIT_INIT(ms)                                                                      \
    {                                                                                              \
        .interval_ms = (ms), .next_ms = 0, .suppressed = 0                                         \
    }

/* True when a line may be written at now_ms (monotonic), with *suppressed set to the
 * lines held back before it; false (and one more held back) otherwise. */
bool st_log_limit_take(st_log_limit *l, int64_t now_ms, uint64_t *suppressed);
/* As st_logging_write, with " [N similar lines suppressed]" appended when N > 0. */
void st_logging_write_suppressed(enum st_log_level level, const char *file, int line,
                                 uint64_t suppressed, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* st_log_every(&limit, ST_LOG_WARN, "cannot accept on %s: %s", ...): a rate-limited line. */
#define st_log_every(limit, level, ...)                                                            \
    do {                                                                                           \
        uint64_t st_suppressed_;                                                                   \
        if (st_logging_enabled(level) &&                                                           \
            st_log_limit_take((limit), st_mono_ms(), &st_suppressed_))                             \
            st_logging_write_suppressed((level), __FILE__, __LINE__, st_suppressed_, __VA_ARGS__); \
    } while (0)

#define st_debug(...)                                                                              \
    do {                                                                                           \
        if (st_logging_enabled(ST_LOG_DEBUG))                                                      \
            st_logging_write(ST_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__);                       \
    } while (0)
#define st_info(...)  st_logging_write(ST_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define st_warn(...)  st_logging_write(ST_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define st_error(...) st_logging_write(ST_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#endif
