/*
 * Log lines, one per event, in one of two formats:
 *
 *   text  2026-11-21T17:30:01.123Z INFO  log/recovery.c:88 orders-0: truncated ...
 *   json  {"time":"2026-11-21T17:30:01.123Z","level":"info","component":"straitd",
 *          "source":"log/recovery.c:88","message":"orders-0: truncated ..."}
 *
 * (the JSON object is on one line; it is wrapped here only to fit). JSON lines are for
 * log shippers (journald → Loki, Fluent Bit, Vector): every line is one object, always
 * valid JSON and valid UTF-8 whatever the message holds. In text lines control
 * characters of a message are escaped (\n, \t, \x01), so one event is one line there too
 * — a peer cannot forge a log line by sending a name with a newline in it.
 *
 * The log destination, level and format are process-wide, like stderr itself, so they
 * are the one piece of static state in common/: passing a logger through every call
 * would buy nothing but noise. Set once at start-up, before threads exist; writing is
 * thread-safe.
 */
#ifndef ST_LOGGING_H
#define ST_LOGGING_H

#include <stddef.h>
#include <stdio.h>

enum st_log_level { ST_LOG_DEBUG, ST_LOG_INFO, ST_LOG_WARN, ST_LOG_ERROR };
enum st_log_format { ST_LOG_TEXT, ST_LOG_JSON };

/* Borrows `out` (default stderr); must outlive every log call. */
void st_logging_setup(enum st_log_level level, FILE *out);
/* The line format and, for JSON lines, the "component" field (the daemon: "straitd",
 * "strait-mirror"). Borrows component (a string literal). Default: text. */
void st_logging_set_format(enum st_log_format format, const char *component);
/* "debug", "info", "warn", "error" → level; -1 if unknown. */
int st_logging_parse_level(const char *name);
/* "text", "json" → format; -1 if unknown. */
int st_logging_parse_format(const char *name);
int st_logging_enabled(enum st_log_level level);
void st_logging_write(enum st_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Formats one line (with its '\n') into out (cap bytes) as st_logging_write would, for
 * the given time; exposed for the unit tests. Returns the length written (a message too
 * long for cap is cut at a character boundary, the line stays whole and valid).
 */
size_t st_logging_format_line(char *out, size_t cap, enum st_log_format format,
                              const char *component, enum st_log_level level, long long epoch_ms,
                              const char *file, int line, const char *msg);

#define st_debug(...)                                                                              \
    do {                                                                                           \
        if (st_logging_enabled(ST_LOG_DEBUG))                                                      \
            st_logging_write(ST_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__);                       \
    } while (0)
#define st_info(...)  st_logging_write(ST_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define st_warn(...)  st_logging_write(ST_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define st_error(...) st_logging_write(ST_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#endif
