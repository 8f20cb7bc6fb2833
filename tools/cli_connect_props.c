/*
 * Java .properties files as java.util.Properties.load reads them, which is how Kafka
 * Connect reads its worker and connector files:
 *
 * - natural lines end at \n, \r or \r\n; a line whose first non-blank character is '#'
 *   or '!' is a comment; blank lines are skipped
 * - a line ending in an odd number of backslashes continues on the next one, whose
 *   leading blanks are dropped (a comment line never continues)
 * - the key ends at the first unescaped '=', ':' or blank; blanks, then one '=' or ':',
 *   then blanks separate it from the value (so "a=b", "a: b", "a b" are the same)
 * - escapes in keys and values: \t \n \r \f, \uXXXX (UTF-16, surrogate pairs joined),
 *   and a backslash before any other character stands for that character ("\:" ":")
 *
 * One difference, on purpose: Java reads the bytes as ISO-8859-1; here they are taken
 * as they are (UTF-8 files mean what they say), and \uXXXX becomes UTF-8.
 * Each property keeps the number of the line it starts on, for error messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tools/cli_connect.h"

#define PROPS_MAX_BYTES (1 << 20)

int cc_bytes_put(cc_bytes *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

void cc_bytes_free(cc_bytes *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static bool blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\f';
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static void put_utf8(cc_bytes *out, uint32_t cp, int *oom)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (cc_bytes_put(out, u, n))
        *oom = 1;
}

/* Reads \uXXXX at s[0..] (s points after "\u"); -1 if fewer than 4 hex digits. */
static int32_t read_u4(const char *s, size_t left)
{
    if (left < 4)
        return -1;
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Unescapes s[0..len) into out. 0, or -1 with *why set. */
static int unescape(const char *s, size_t len, cc_bytes *out, const char **why)
{
    int oom = 0;
    out->len = 0;
    if (cc_bytes_put(out, "", 0))
        return *why = "out of memory", -1;
    for (size_t i = 0; i < len && !oom; i++) {
        char ch = s[i];
        if (ch != '\\' || i + 1 >= len) {
            if (cc_bytes_put(out, &ch, 1))
                oom = 1;
            continue;
        }
        ch = s[++i];
        if (ch != 'u') {
            char lit = ch == 't'   ? '\t'
                       : ch == 'n' ? '\n'
                       : ch == 'r' ? '\r'
                       : ch == 'f' ? '\f'
                                   : ch;
            if (cc_bytes_put(out, &lit, 1))
                oom = 1;
            continue;
        }
        int32_t unit = read_u4(s + i + 1, len - i - 1);
        if (unit < 0)
            return *why = "malformed \\uXXXX escape (four hex digits expected)", -1;
        i += 4;
        uint32_t cp = (uint32_t)unit;
        if (unit >= 0xD800 && unit <= 0xDBFF && i + 6 < len && s[i + 1] == '\\' &&
            s[i + 2] == 'u') {
            int32_t low = read_u4(s + i + 3, len - i - 3);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + (((uint32_t)unit - 0xD800) << 10) + ((uint32_t)low - 0xDC00);
                i += 6;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
        if (cp == 0)
            return *why = "\\u0000 (a NUL character) is not allowed", -1;
        put_utf8(out, cp, &oom);
    }
    if (oom)
        return *why = "out of memory", -1;
    return 0;
}

static int add_prop(cc_props *p, const char *key, const char *value, int line)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].key, key) == 0) { /* the last one wins */
            char *v = strdup(value);
            if (!v)
                return -1;
            free(p->v[i].value);
            p->v[i].value = v;
            p->v[i].line = line;
            return 0;
        }
    }
    cc_prop *grown = realloc(p->v, (p->n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    p->v = grown;
    cc_prop *e = &p->v[p->n];
    e->key = strdup(key);
    e->value = strdup(value);
    e->line = line;
    e->used = false;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return -1;
    }
    p->n++;
    return 0;
}

/* One natural line from text[*pos]: [start, end) without its terminator; advances *pos
 * past the terminator. */
static void natural_line(const char *text, size_t len, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos;
    *start = i;
    while (i < len && text[i] != '\n' && text[i] != '\r')
        i++;
    *end = i;
    if (i < len && text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
        i += 2;
    else if (i < len)
        i++;
    *pos = i;
}

/* Splits a logical line (escapes still in it) into key and value; unescapes both. */
static int split_line(cc_props *p, const char *s, size_t len, int line, char *err, size_t errlen)
{
    size_t k = 0;
    bool escaped = false;
    while (k < len) {
        char ch = s[k];
        if (escaped)
            escaped = false;
        else if (ch == '\\')
            escaped = true;
        else if (ch == '=' || ch == ':' || blank(ch))
            break;
        k++;
    }
    size_t v = k;
    while (v < len && blank(s[v]))
        v++;
    if (v < len && (s[v] == '=' || s[v] == ':')) {
        v++;
        while (v < len && blank(s[v]))
            v++;
    }
    cc_bytes key = {0}, value = {0};
    const char *why = NULL;
    int rc = -1;
    if (unescape(s, k, &key, &why) || unescape(s + v, len - v, &value, &why)) {
        snprintf(err, errlen, "%s:%d: %s", p->path, line, why);
        goto out;
    }
    if (!key.len) {
        snprintf(err, errlen, "%s:%d: a value without a key (\"%.40s\")", p->path, line, s);
        goto out;
    }
    if (add_prop(p, key.p, value.p, line)) {
        snprintf(err, errlen, "%s:%d: out of memory", p->path, line);
        goto out;
    }
    rc = 0;
out:
    cc_bytes_free(&key);
    cc_bytes_free(&value);
    return rc;
}

int cc_props_parse(cc_props *p, const char *path, const char *text, size_t len, char *err,
                   size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->path = strdup(path);
    if (!p->path) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    cc_bytes logical = {0};
    size_t pos = 0;
    int lineno = 0, rc = -1;
    while (pos < len) {
        size_t start, end;
        natural_line(text, len, &pos, &start, &end);
        int first = ++lineno;
        while (start < end && blank(text[start]))
            start++;
        if (start == end || text[start] == '#' || text[start] == '!')
            continue;
        logical.len = 0;
        for (;;) {
            size_t slashes = 0;
            while (end - slashes > start && text[end - 1 - slashes] == '\\')
                slashes++;
            bool more = slashes % 2 == 1;
            if (cc_bytes_put(&logical, text + start, end - start - (more ? 1 : 0))) {
                snprintf(err, errlen, "%s:%d: out of memory", path, first);
                goto out;
            }
            if (!more || pos >= len)
                break; /* a continuation at the end of the file ends there, as in Java */
            natural_line(text, len, &pos, &start, &end);
            lineno++;
            while (start < end && blank(text[start]))
                start++;
        }
        if (split_line(p, logical.p, logical.len, first, err, errlen))
            goto out;
    }
    rc = 0;
out:
    cc_bytes_free(&logical);
    return rc;
}

int cc_props_load(cc_props *p, const char *path, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(PROPS_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, PROPS_MAX_BYTES + 1, f) : 0;
    int rc = -1;
    if (!buf)
        snprintf(err, errlen, "%s: out of memory", path);
    else if (ferror(f))
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    else if (n > PROPS_MAX_BYTES)
        snprintf(err, errlen, "%s: larger than %d bytes: not a properties file?", path,
                 PROPS_MAX_BYTES);
    else if (memchr(buf, '\0', n))
        snprintf(err, errlen, "%s: holds NUL bytes: not a properties file", path);
    else
        rc = cc_props_parse(p, path, buf, n, err, errlen);
    free(buf);
    fclose(f);
    return rc;
}

void cc_props_free(cc_props *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].key);
        free(p->v[i].value);
    }
    free(p->v);
    free(p->path);
    memset(p, 0, sizeof *p);
}

cc_prop *cc_props_find(cc_props *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].key, key) == 0) {
            p->v[i].used = true;
            return &p->v[i];
        }
    }
    return NULL;
}

const char *cc_props_get(cc_props *p, const char *key, const char *def)
{
    cc_prop *e = cc_props_find(p, key);
    return e ? e->value : def;
}

int cc_props_fail(const cc_props *p, const char *key, char *err, size_t errlen, const char *fmt,
                  ...)
{
    int line = 0;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].key, key) == 0)
            line = p->v[i].line;
    int n = line ? snprintf(err, errlen, "%s:%d: %s: ", p->path, line, key)
                 : snprintf(err, errlen, "%s: %s: ", p->path, key);
    if (n < 0 || (size_t)n >= errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int cc_props_int(cc_props *p, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out,
                 char *err, size_t errlen)
{
    cc_prop *e = cc_props_find(p, key);
    if (!e) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(e->value, &end, 10);
    if (!e->value[0] || *end || errno)
        return cc_props_fail(p, key, err, errlen, "\"%s\" is not a whole number", e->value);
    if (v < min || v > max)
        return cc_props_fail(p, key, err, errlen, "%lld is out of range (%lld..%lld)", v,
                             (long long)min, (long long)max);
    *out = v;
    return 0;
}

int cc_props_bool(cc_props *p, const char *key, bool def, bool *out, char *err, size_t errlen)
{
    cc_prop *e = cc_props_find(p, key);
    if (!e) {
        *out = def;
        return 0;
    }
    if (strcasecmp(e->value, "true") == 0)
        *out = true;
    else if (strcasecmp(e->value, "false") == 0)
        *out = false;
    else
        return cc_props_fail(p, key, err, errlen, "\"%s\" is not true or false", e->value);
    return 0;
}
