/*
 * How strait consume prints a record: a format string (cli_format_*), or one JSON object
 * per line (--json). Unprintable bytes in keys, values and headers are escaped unless
 * --raw, so that one record is always one line: a value holding a newline or a NUL
 * cannot split a record or be mistaken for the end of one.
 *
 * Format directives (kcat's letters, so muscle memory carries over):
 *   %t topic        %p partition      %o offset
 *   %k key          %K key length     (-1 for a null key)
 *   %s value        %S value length   (-1 for a null value)
 *   %h headers      as k=v pairs joined by ','
 *   %T timestamp    milliseconds since the epoch (-1 if none)
 *   %y timestamp type: CreateTime, LogAppendTime or none
 *   %%  a percent sign
 * and the escapes \n \t \r \0 \\ \xHH anywhere in the format.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

#define FORMAT_MAX 4096

struct cli_format {
    char text[FORMAT_MAX]; /* unescaped; may hold NULs */
    size_t len;
    bool raw;
};

cli_format *cli_format_new(const char *spec, bool raw, char *why, size_t whylen)
{
    cli_format *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    f->raw = raw;
    if (cli_unescape(spec, f->text, sizeof f->text, &f->len, why, whylen) != 0)
        goto bad;
    for (size_t i = 0; i < f->len; i++) {
        if (f->text[i] != '%')
            continue;
        if (++i >= f->len || !strchr("tpokKsShTy%", f->text[i])) {
            if (i >= f->len)
                snprintf(why, whylen, "it ends with a lone %% (write %%%% for one)");
            else
                snprintf(why, whylen,
                         "unknown directive %%%c (known: %%t %%p %%o %%k %%K %%s %%S %%h %%T %%y "
                         "%%%%)",
                         f->text[i]);
            goto bad;
        }
    }
    return f;
bad:
    free(f);
    return NULL;
}

void cli_format_free(cli_format *f)
{
    free(f);
}

static void bytes_out(const cli_format *f, FILE *out, const void *p, size_t len)
{
    if (f->raw)
        fwrite(p, 1, len, out);
    else
        cli_write_escaped(out, p, len);
}

static const char *timestamp_type(const rd_kafka_message_t *m, int64_t *ts)
{
    rd_kafka_timestamp_type_t type;
    *ts = rd_kafka_message_timestamp(m, &type);
    return type == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? "CreateTime"
           : type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "LogAppendTime"
                                                        : "none";
}

static void headers_out(const cli_format *f, FILE *out, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    const char *name;
    const void *value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == 0; i++) {
        if (i)
            fputc(',', out);
        bytes_out(f, out, name, strlen(name));
        fputc('=', out);
        if (value)
            bytes_out(f, out, value, size);
    }
}

void cli_format_print(const cli_format *f, FILE *out, const rd_kafka_message_t *m)
{
    int64_t ts;
    for (size_t i = 0; i < f->len; i++) {
        char ch = f->text[i];
        if (ch != '%') {
            fputc(ch, out);
            continue;
        }
        switch (f->text[++i]) {
        case 't':
            fputs(rd_kafka_topic_name(m->rkt), out);
            break;
        case 'p':
            fprintf(out, "%d", (int)m->partition);
            break;
        case 'o':
            fprintf(out, "%lld", (long long)m->offset);
            break;
        case 'k':
            if (m->key)
                bytes_out(f, out, m->key, m->key_len);
            break;
        case 'K':
            fprintf(out, "%lld", m->key ? (long long)m->key_len : -1LL);
            break;
        case 's':
            if (m->payload)
                bytes_out(f, out, m->payload, m->len);
            break;
        case 'S':
            fprintf(out, "%lld", m->payload ? (long long)m->len : -1LL);
            break;
        case 'h':
            headers_out(f, out, m);
            break;
        case 'T':
            timestamp_type(m, &ts);
            fprintf(out, "%lld", (long long)ts);
            break;
        case 'y':
            fputs(timestamp_type(m, &ts), out);
            break;
        default: /* '%' */
            fputc('%', out);
            break;
        }
    }
}

static char *base64(const unsigned char *p, size_t len)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < len ? p[i + 2] : 0);
        *o++ = digits[v >> 18 & 63];
        *o++ = digits[v >> 12 & 63];
        *o++ = i + 1 < len ? digits[v >> 6 & 63] : '=';
        *o++ = i + 2 < len ? digits[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

/* Sets obj[name] to the bytes as a string when they are UTF-8 text, else sets
 * obj[name_base64]; null bytes (p NULL) set obj[name] to null. */
static void json_bytes(json_t *obj, const char *name, const void *p, size_t len)
{
    if (!p) {
        json_object_set_new(obj, name, json_null());
        return;
    }
    if (cli_is_utf8(p, len)) {
        json_object_set_new(obj, name, json_stringn(p, len));
        return;
    }
    char key[64];
    snprintf(key, sizeof key, "%s_base64", name);
    char *b64 = base64(p, len);
    json_object_set_new(obj, key, b64 ? json_string(b64) : json_null());
    free(b64);
}

void cli_record_json(FILE *out, const rd_kafka_message_t *m)
{
    int64_t ts;
    const char *type = timestamp_type(m, &ts);
    json_t *o = json_object();
    json_object_set_new(o, "topic", json_string(rd_kafka_topic_name(m->rkt)));
    json_object_set_new(o, "partition", json_integer(m->partition));
    json_object_set_new(o, "offset", json_integer(m->offset));
    json_object_set_new(o, "timestamp", json_integer(ts));
    json_object_set_new(o, "timestamp_type", json_string(type));
    json_bytes(o, "key", m->key, m->key_len);
    json_object_set_new(o, "key_length", json_integer(m->key ? (json_int_t)m->key_len : -1));
    json_bytes(o, "value", m->payload, m->len);
    json_object_set_new(o, "value_length", json_integer(m->payload ? (json_int_t)m->len : -1));
    json_t *headers = json_array();
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == 0; i++) {
            json_t *h = json_object();
            json_bytes(h, "key", name, strlen(name));
            json_bytes(h, "value", value, size);
            json_array_append_new(headers, h);
        }
    }
    json_object_set_new(o, "headers", headers);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        fputs(s, out);
        fputc('\n', out);
        free(s);
    }
    json_decref(o);
}
