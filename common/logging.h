/*
 * Log lines: "2026-11-21T17:30:01.123Z INFO  log/recovery.c:88 orders-0: truncated ...".
 *
 * The log destination and level are process-wide, like stderr itself, so they are the
 * one piece of static state in common/: passing a logger through every call would buy
 * nothing but noise. Set once at start-up, before threads exist; writing is thread-safe.
 */
#ifndef ST_LOGGING_H
#define ST_LOGGING_H

#include <stdio.h>

enum st_log_level { ST_LOG_DEBUG, ST_LOG_INFO, ST_LOG_WARN, ST_LOG_ERROR };

/* Borrows `out` (default stderr); must outlive every log call. */
void st_logging_setup(enum st_log_level level, FILE *out);
/* "debug", "info", "warn", "error" → level; -1 if unknown. */
int st_logging_parse_level(const char *name);
int st_logging_enabled(enum st_log_level level);
void st_logging_write(enum st_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define st_debug(...)                                                                              \
    do {                                                                                           \
        if (st_logging_enabled(ST_LOG_DEBUG))                                                      \
            st_logging_write(ST_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__);                       \
    } while (0)
#define st_info(...)  st_logging_write(ST_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define st_warn(...)  st_logging_write(ST_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define st_error(...) st_logging_write(ST_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#endif
