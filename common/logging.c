/* Log lines to one stream; see logging.h for why this state is process-wide. */
#include "logging.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "utf8.h"

static struct {
    enum st_log_level level;
    enum st_log_format format;
    const char *component;
    FILE *out;
} sink = {ST_LOG_INFO, ST_LOG_TEXT, "strait", NULL};

static const char *text_levels[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
static const char *json_levels[] = {"debug", "info", "warn", "error"};

void st_logging_setup(enum st_log_level level, FILE *out)
{
    sink.level = level;
    sink.out = out;
}

void st_logging_set_format(enum st_log_format format, const char *component)
{
    sink.format = format;
    if (component)
        sink.component = component;
}

int st_logging_parse_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, json_levels[i]) == 0)
            return i;
    return -1;
}

int st_logging_parse_format(const char *name)
{
    if (strcasecmp(name, "text") == 0)
        return ST_LOG_TEXT;
    if (strcasecmp(name, "json") == 0)
        return ST_LOG_JSON;
    return -1;
}

int st_logging_enabled(enum st_log_level level)
{
    return level >= sink.level;
}

/* A bounded line under construction: `limit` is where message bytes must stop so the
 * closing part always fits. */
typedef struct line_buf {
    char *p;
    size_t len, cap, limit;
    bool cut;
} line_buf;

static void put(line_buf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cut = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(line_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Appends msg escaped for the format, stopping (whole characters only) at b->limit. */
static void put_message(line_buf *b, enum st_log_format format, const char *msg)
{
    const unsigned char *s = (const unsigned char *)msg;
    size_t n = strlen(msg);
    for (size_t i = 0; i < n;) {
        char esc[8];
        const char *out = esc;
        size_t len, step = 1;
        unsigned char ch = s[i];
        if (ch == '\n' || ch == '\r' || ch == '\t') {
            esc[0] = '\\';
            esc[1] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't';
            len = 2;
        } else if (ch < 0x20 || ch == 0x7F) {
            len = (size_t)snprintf(esc, sizeof esc, format == ST_LOG_JSON ? "\\u%04x" : "\\x%02x",
                                   ch);
        } else if (format == ST_LOG_JSON && (ch == '"' || ch == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)ch;
            len = 2;
        } else if (format == ST_LOG_JSON && ch >= 0x80) {
            step = st_utf8_len(s + i, n - i);
            if (step) {
                out = (const char *)s + i;
                len = step;
            } else { /* not UTF-8: the replacement character, so the line stays valid */
                out = "\\ufffd";
                len = 6;
                step = 1;
            }
        } else {
            out = (const char *)s + i;
            len = 1;
        }
        if (b->len + len > b->limit) {
            b->cut = true;
            return;
        }
        put(b, out, len);
        i += step;
    }
}

size_t st_logging_format_line(char *out, size_t cap, enum st_log_format format,
                              const char *component, enum st_log_level level, long long epoch_ms,
                              const char *file, int line, const char *msg)
{
    /* Room kept for what follows the message: " [cut]" and the JSON tail. */
    enum { TAIL = 16 };
    if (cap < 128 + TAIL)
        return 0;
    line_buf b = {out, 0, cap - 1, cap - 1 - TAIL, false};
    time_t secs = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[48];
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03dZ", (int)(epoch_ms % 1000));
    /* Keep the last two path parts: "log/recovery.c" says enough. */
    const char *shown = file, *p = file + strlen(file);
    int slashes = 0;
    while (p > file) {
        if (*--p == '/' && ++slashes == 2) {
            shown = p + 1;
            break;
        }
    }
    char where[160];
    snprintf(where, sizeof where, "%s:%d", shown, line);
    if (format == ST_LOG_JSON) {
        puts_(&b, "{\"time\":\"");
        puts_(&b, stamp);
        puts_(&b, "\",\"level\":\"");
        puts_(&b, json_levels[level]);
        puts_(&b, "\",\"component\":\"");
        put_message(&b, ST_LOG_JSON, component);
        puts_(&b, "\",\"source\":\"");
        put_message(&b, ST_LOG_JSON, where);
        puts_(&b, "\",\"message\":\"");
        put_message(&b, ST_LOG_JSON, msg);
        b.limit = b.cap; /* the tail always fits: TAIL was kept for it */
        if (b.cut)
            puts_(&b, " [cut]");
        puts_(&b, "\"}");
    } else {
        puts_(&b, stamp);
        puts_(&b, " ");
        puts_(&b, text_levels[level]);
        puts_(&b, " ");
        puts_(&b, where);
        puts_(&b, " ");
        put_message(&b, ST_LOG_TEXT, msg);
        b.limit = b.cap;
        if (b.cut)
            puts_(&b, " [cut]");
    }
    out[b.len++] = '\n';
    out[b.len] = '\0';
    return b.len;
}

void st_logging_write(enum st_log_level level, const char *file, int line, const char *fmt, ...)
{
    if (level < sink.level)
        return;
    FILE *out = sink.out ? sink.out : stderr;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Worst case every message byte becomes a 6-byte \u escape. */
    char text[sizeof msg * 6 + 512];
    size_t len =
        st_logging_format_line(text, sizeof text, sink.format, sink.component, level,
                               (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000, file, line, msg);
    /* One fwrite per line: stdio locks the stream, so lines never interleave. */
    fwrite(text, 1, len, out);
    fflush(out);
}
