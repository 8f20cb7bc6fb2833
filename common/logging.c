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

void st_logging_write(enum st_log_level level, const char *file, int line, const char *fmt, ...)
{
    if (level < sink.level)
        return;
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
    char raw[2048], msg[2048 * 4];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* Messages quote what peers sent (a login's user name, a client id): a newline or
     * another control character in it would start a forged line of its own. Shown
     * escaped instead, so one call is always one line. */
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)raw; *c; c++) {
        if (*c == '\n' || *c == '\r')
            o += (size_t)snprintf(msg + o, sizeof msg - o, "\\%c", *c == '\n' ? 'n' : 'r');
        else if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
            o += (size_t)snprintf(msg + o, sizeof msg - o, "\\x%02x", *c);
        else
            msg[o++] = (char)*c;
    }
    msg[o] = '\0';
    /* One fprintf per line: stdio locks the stream, so lines never interleave. */
    fprintf(out, "%s.%03dZ %s %s:%d %s\n", stamp, (int)(tv.tv_usec / 1000), level_names[level],
            shown, line, msg);
    fflush(out);
}
