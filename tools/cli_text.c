/*
 * Text helpers of the strait CLI: backslash escapes in arguments (--key-sep '\t'),
 * escaping record bytes and names from the cluster for a terminal (a group id or
 * client.id any client chose may hold ESC sequences or newlines), and times and durations given on
 * the command line (ISO 8601, epoch milliseconds, "1h30m", Kafka's "PT1H30M").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/cli.h"

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)tolower((unsigned char)ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int cli_unescape(const char *in, char *out, size_t cap, size_t *len, char *why, size_t whylen)
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        char ch = *p;
        if (ch == '\\') {
            p++;
            switch (*p) {
            case 'n':
                ch = '\n';
                break;
            case 't':
                ch = '\t';
                break;
            case 'r':
                ch = '\r';
                break;
            case '0':
                ch = '\0';
                break;
            case '\\':
                ch = '\\';
                break;
            case 'x': {
                int hi = p[1] ? hex_value(p[1]) : -1, lo = hi >= 0 && p[2] ? hex_value(p[2]) : -1;
                if (hi < 0 || lo < 0) {
                    snprintf(why, whylen, "\"\\x\" must be followed by two hex digits");
                    return -1;
                }
                ch = (char)(hi * 16 + lo);
                p += 2;
                break;
            }
            case '\0':
                snprintf(why, whylen, "it ends with a lone backslash (write \\\\ for one)");
                return -1;
            default:
                snprintf(why, whylen, "unknown escape \"\\%c\" (known: \\n \\t \\r \\0 \\\\ \\xHH)",
                         *p);
                return -1;
            }
        }
        if (n + 1 >= cap) {
            snprintf(why, whylen, "it is longer than %zu bytes", cap - 1);
            return -1;
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    *len = n;
    return 0;
}

/* Length of the valid UTF-8 sequence of at least two bytes at p (n bytes left), or 0. */
static size_t utf8_sequence(const unsigned char *p, size_t n)
{
    size_t need;
    unsigned min;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        need = 2;
        min = 0x80;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        need = 3;
        min = 0x800;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        need = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    unsigned cp = p[0] & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

/* The C1 controls U+0080..U+009F, valid UTF-8 (C2 80..C2 9F) that some terminals obey as
 * they obey ESC sequences (U+009B is CSI): escaped like the C0 controls. */
static bool c1_control(const unsigned char *p, size_t seq)
{
    return seq == 2 && p[0] == 0xC2 && p[1] < 0xA0;
}

/* Writes data to out with every byte a terminal would act on escaped as \xHH: C0 and C1
 * controls, DEL, and bytes that are not valid UTF-8 (0x9B alone is CSI in Latin-1
 * terminals). \n \t \r \0 are written so; a backslash is doubled when `backslash`. */
static void write_safe(FILE *out, const unsigned char *p, size_t len, bool backslash)
{
    for (size_t i = 0; i < len;) {
        unsigned char ch = p[i];
        if (ch >= 0x80) {
            size_t seq = utf8_sequence(p + i, len - i);
            if (seq && !c1_control(p + i, seq)) { /* readable text stays readable */
                fwrite(p + i, 1, seq, out);
                i += seq;
                continue;
            }
            for (size_t k = 0; k < (seq ? seq : 1); k++)
                fprintf(out, "\\x%02x", p[i + k]);
            i += seq ? seq : 1;
            continue;
        } else if (ch == '\\' && backslash) {
            fputs("\\\\", out);
        } else if (ch == '\n') {
            fputs("\\n", out);
        } else if (ch == '\t') {
            fputs("\\t", out);
        } else if (ch == '\r') {
            fputs("\\r", out);
        } else if (ch == '\0') {
            fputs("\\0", out);
        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(out, "\\x%02x", ch);
        } else {
            fputc(ch, out);
        }
        i++;
    }
}

void cli_write_escaped(FILE *out, const void *data, size_t len)
{
    write_safe(out, data, len, true);
}

void cli_write_safe(FILE *out, const char *text)
{
    write_safe(out, (const unsigned char *)text, strlen(text), false);
}

char *cli_safe(const char *text)
{
    char *copy = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&copy, &len);
    if (!f)
        abort(); /* out of memory: nothing sensible to print */
    cli_write_safe(f, text ? text : "");
    if (fclose(f) != 0)
        abort();
    return copy;
}

bool cli_is_utf8(const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t seq = utf8_sequence(p + i, len - i);
        if (!seq)
            return false;
        i += seq;
    }
    return true;
}

/* Digits at *p (at least min, at most max of them) into *v; advances *p. */
static bool take_digits(const char **p, int min, int max, long *v)
{
    int n = 0;
    *v = 0;
    while (n < max && isdigit((unsigned char)**p)) {
        *v = *v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n >= min;
}

int cli_parse_time(const char *text, int64_t now_ms, int64_t *ms)
{
    if (*text && text[strspn(text, "0123456789")] == '\0' && strlen(text) <= 15) {
        *ms = strtoll(text, NULL, 10); /* epoch milliseconds */
        return 0;
    }
    if (text[0] == '-') { /* now minus a duration, e.g. -15m */
        int64_t d;
        if (cli_parse_duration(text + 1, &d) != 0)
            return -1;
        *ms = now_ms - d;
        return 0;
    }
    /* YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM]; a date alone is its midnight; no
     * zone means UTC. */
    const char *p = text;
    long year, mon, day, hour = 0, min = 0, sec = 0, frac = 0, frac_digits = 0;
    if (!take_digits(&p, 4, 4, &year) || *p++ != '-' || !take_digits(&p, 2, 2, &mon) ||
        *p++ != '-' || !take_digits(&p, 2, 2, &day))
        return -1;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!take_digits(&p, 2, 2, &hour) || *p++ != ':' || !take_digits(&p, 2, 2, &min))
            return -1;
        if (*p == ':') {
            p++;
            if (!take_digits(&p, 2, 2, &sec))
                return -1;
            if (*p == '.') {
                p++;
                const char *start = p;
                if (!take_digits(&p, 1, 9, &frac))
                    return -1;
                frac_digits = p - start;
            }
        }
    }
    long offset_min = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        long oh, om = 0;
        if (!take_digits(&p, 2, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p) && !take_digits(&p, 2, 2, &om))
            return -1;
        offset_min = sign * (oh * 60 + om);
    }
    if (*p || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return -1;
    struct tm tm = {.tm_year = (int)year - 1900,
                    .tm_mon = (int)mon - 1,
                    .tm_mday = (int)day,
                    .tm_hour = (int)hour,
                    .tm_min = (int)min,
                    .tm_sec = (int)sec};
    time_t t = timegm(&tm);
    while (frac_digits > 3) {
        frac /= 10;
        frac_digits--;
    }
    while (frac_digits > 0 && frac_digits < 3) {
        frac *= 10;
        frac_digits++;
    }
    *ms = ((int64_t)t - offset_min * 60) * 1000 + frac;
    return 0;
}

int cli_parse_duration(const char *text, int64_t *ms)
{
    const char *p = text;
    bool iso = false;
    if (*p == 'P' || *p == 'p') { /* Kafka's --by-duration form: PnDTnHnMnS */
        iso = true;
        p++;
    }
    int64_t total = 0;
    bool any = false;
    while (*p) {
        if (iso && (*p == 'T' || *p == 't')) {
            p++;
            continue;
        }
        char *end;
        double v = strtod(p, &end);
        if (end == p || v < 0)
            return -1;
        p = end;
        double unit;
        if (strncmp(p, "ms", 2) == 0) {
            unit = 1;
            p += 2;
        } else {
            switch (tolower((unsigned char)*p)) {
            case 'd':
                unit = 86400000.0;
                break;
            case 'h':
                unit = 3600000.0;
                break;
            case 'm':
                unit = 60000.0;
                break;
            case 's':
                unit = 1000.0;
                break;
            default:
                return -1;
            }
            p++;
        }
        total += (int64_t)(v * unit);
        any = true;
    }
    if (!any)
        return -1;
    *ms = total;
    return 0;
}
