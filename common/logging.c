/* Log lines to one stream; see logging.h for why this state is process-wide. */
#include "logging.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static struct {
    enum st_log_level level;
    FILE *out;
} sink = {ST_LOG_INFO, NULL};

static const char *level_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

void st_logging_setup(enum st_log_level level, FILE *out)
{
    sink.level = level;
    sink.out = out;
}

int st_logging_parse_level(const char *name)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

int st_logging_enabled(enum st_log_level level)
{
    return level >= sink.level;
}

/* Writes one line: the message, then `suffix` (may be ""). */
static void write_line(enum st_log_level level, const char *file, int line, const char *suffix,
                       const char *fmt, va_list ap)
{
    FILE *out = sink.out ? sink.out : stderr;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    /* Keep the last two path parts: "log/recovery.c" says enough. */
    const char *shown = file, *p = file + strlen(file);
    int slashes = 0;
    while (p > file) {
        if (*--p == '/' && ++slashes == 2) {
            shown = p + 1;
            break;
        }
    }
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* One fprintf per line: stdio locks the stream, so lines never interleave. */
    fprintf(out, "%s.%03dZ %s %s:%d %s%s\n", stamp, (int)(tv.tv_usec / 1000), level_names[level],
            shown, line, msg, suffix);
    fflush(out);
}

void st_logging_write(enum st_log_level level, const char *file, int line, const char *fmt, ...)
{
    if (level < sink.level)
        return;
    va_list ap;
    va_start(ap, fmt);
    write_line(level, file, line, "", fmt, ap);
    va_end(ap);
}

bool st_log_limit_take(st_log_limit *l, int64_t now_ms, uint64_t *suppressed)
{
    int64_t next = __atomic_load_n(&l->next_ms, __ATOMIC_ACQUIRE);
    /* Exactly one caller wins the slot that opens at `next`; the others count as held
     * back, so a burst from several threads still writes one line. */
    if (now_ms >= next && __atomic_compare_exchange_n(&l->next_ms, &next, now_ms + l->interval_ms,
                                                      false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        *suppressed = __atomic_exchange_n(&l->suppressed, 0, __ATOMIC_ACQ_REL);
        return true;
    }
    __atomic_add_fetch(&l->suppressed, 1, __ATOMIC_RELAXED);
    return false;
}

void st_logging_write_suppressed(enum st_log_level level, const char *file, int line,
                                 uint64_t suppressed, const char *fmt, ...)
{
    if (level < sink.level)
        return;
    char suffix[80] = "";
    if (suppressed > 0)
        snprintf(suffix, sizeof suffix, " [%llu similar line%s suppressed]",
                 (unsigned long long)suppressed, suppressed == 1 ? "" : "s");
    va_list ap;
    va_start(ap, fmt);
    write_line(level, file, line, suffix, fmt, ap);
    va_end(ap);
}
