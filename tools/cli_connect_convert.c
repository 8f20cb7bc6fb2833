/*
 * Kafka Connect's converters, for the string records of the file connectors:
 *
 *   StringConverter     UTF-8 text as it is (bytes that are not UTF-8 become U+FFFD,
 *                       as Java's decoding makes them)
 *   ByteArrayConverter  the bytes untouched (Kafka would refuse a string schema here;
 *                       passing the bytes is what a user of it wants)
 *   JsonConverter       a JSON string; with schemas.enable=true (Kafka's default) inside
 *                       the envelope {"schema":{"type":"string","optional":false},
 *                       "payload":"..."}, byte for byte what Kafka writes
 *
 * On the sink side a value becomes the text FileStreamSink writes: Java's
 * String.valueOf of what the converter read (null is "null", 5 is "5", a JSON object
 * {"a":1} is {a=1}).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/utf8.h"
#include "tools/cli_connect.h"

/* What JsonConverter writes before a string payload when schemas are on. */
#define ENVELOPE_HEAD "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":"

static const struct {
    const char *name;   /* the simple class name, also accepted alone */
    const char *prefix; /* its package */
    cc_conv_kind kind;
} converters[] = {
    {"StringConverter", "org.apache.kafka.connect.storage.", CC_CONV_STRING},
    {"ByteArrayConverter", "org.apache.kafka.connect.converters.", CC_CONV_BYTES},
    {"JsonConverter", "org.apache.kafka.connect.json.", CC_CONV_JSON},
};

static int lookup(const char *value, cc_conv_kind *kind)
{
    for (size_t i = 0; i < sizeof converters / sizeof converters[0]; i++) {
        size_t plen = strlen(converters[i].prefix);
        if (strcmp(value, converters[i].name) == 0 ||
            (strncmp(value, converters[i].prefix, plen) == 0 &&
             strcmp(value + plen, converters[i].name) == 0)) {
            *kind = converters[i].kind;
            return 0;
        }
    }
    return -1;
}

int cc_converter_config(cc_props *worker, cc_props *conn, const char *prefix, cc_converter *out,
                        char *err, size_t errlen)
{
    cc_props *from = cc_props_find(conn, prefix) ? conn : worker;
    cc_prop *e = cc_props_find(from, prefix);
    if (!e)
        return cc_props_fail(worker, prefix, err, errlen,
                             "missing; Kafka Connect requires it: e.g. "
                             "%s=org.apache.kafka.connect.storage.StringConverter",
                             prefix);
    if (lookup(e->value, &out->kind))
        return cc_props_fail(from, prefix, err, errlen,
                             "\"%s\" is not a converter strait connect has (StringConverter, "
                             "ByteArrayConverter or JsonConverter, by simple or full class name)",
                             e->value);
    char key[64];
    snprintf(key, sizeof key, "%s.schemas.enable", prefix);
    /* The converter's own settings come from the same file as the converter. */
    if (cc_props_bool(from, key, true, &out->schemas, err, errlen))
        return -1;
    if (from == conn) /* a worker setting for a converter the connector replaced: read */
        cc_props_find(worker, key);
    return 0;
}

/* Text as Java holds it after decoding UTF-8: invalid bytes become U+FFFD. */
static int put_text(cc_bytes *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t step = st_utf8_len((const unsigned char *)s + i, n - i);
        if (step) {
            if (cc_bytes_put(out, s + i, step))
                return -1;
            i += step;
        } else {
            if (cc_bytes_put(out, "\xef\xbf\xbd", 3))
                return -1;
            i++;
        }
    }
    return 0;
}

/* A JSON string as Jackson writes it: short escapes for \b \f \n \r \t, \u00XX for the
 * other control characters, everything else (UTF-8 included) as it is. */
static int put_json_string(cc_bytes *out, const char *s, size_t n)
{
    cc_bytes text = {0};
    int rc = -1;
    if (put_text(&text, s, n) || cc_bytes_put(out, "\"", 1))
        goto out;
    for (size_t i = 0; i < text.len; i++) {
        unsigned char ch = (unsigned char)text.p[i];
        char esc[8];
        const char *piece = esc;
        size_t len = 2;
        esc[0] = '\\';
        switch (ch) {
        case '"':
        case '\\':
            esc[1] = (char)ch;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (ch < 0x20) {
                len = (size_t)snprintf(esc, sizeof esc, "\\u%04X", ch);
            } else {
                piece = text.p + i;
                len = 1;
            }
        }
        if (cc_bytes_put(out, piece, len))
            goto out;
    }
    rc = cc_bytes_put(out, "\"", 1);
out:
    cc_bytes_free(&text);
    return rc;
}

int cc_convert_from_string(const cc_converter *c, const char *data, size_t len, bool null,
                           cc_bytes *out, bool *is_null)
{
    out->len = 0;
    *is_null = null;
    if (null)
        return 0;
    switch (c->kind) {
    case CC_CONV_BYTES:
        return cc_bytes_put(out, data, len);
    case CC_CONV_STRING:
        return cc_bytes_put(out, "", 0) || put_text(out, data, len) ? -1 : 0;
    case CC_CONV_JSON:
        if (c->schemas && cc_bytes_put(out, ENVELOPE_HEAD, strlen(ENVELOPE_HEAD)))
            return -1;
        if (put_json_string(out, data, len))
            return -1;
        return c->schemas ? cc_bytes_put(out, "}", 1) : 0;
    }
    return -1;
}

/* Java's Double.toString: the shortest digits that read back, "1.0E20" style outside
 * [1e-3, 1e7). */
static int put_double(cc_bytes *out, double d)
{
    char buf[64];
    if (isnan(d) || isinf(d))
        return cc_bytes_put(out,
                            isnan(d) ? "NaN"
                            : d > 0  ? "Infinity"
                                     : "-Infinity",
                            isnan(d) ? 3
                            : d > 0  ? 8
                                     : 9);
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
    char digits[32];
    size_t nd = 0;
    const char *p = buf;
    bool neg = *p == '-';
    if (neg)
        p++;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    cc_bytes s = {0};
    int rc = -1;
    if (neg && cc_bytes_put(&s, "-", 1))
        goto out;
    double mag = fabs(d);
    if (mag >= 1e-3 && mag < 1e7) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                if (cc_bytes_put(&s, (size_t)i < nd ? &digits[i] : "0", 1))
                    goto out;
            if (cc_bytes_put(&s, ".", 1))
                goto out;
            if ((size_t)exp10 + 1 >= nd) {
                if (cc_bytes_put(&s, "0", 1))
                    goto out;
            } else if (cc_bytes_put(&s, digits + exp10 + 1, nd - (size_t)exp10 - 1)) {
                goto out;
            }
        } else {
            if (cc_bytes_put(&s, "0.", 2))
                goto out;
            for (int i = -1; i > exp10; i--)
                if (cc_bytes_put(&s, "0", 1))
                    goto out;
            if (cc_bytes_put(&s, digits, nd))
                goto out;
        }
    } else {
        char e[16];
        if (cc_bytes_put(&s, digits, 1) || cc_bytes_put(&s, ".", 1) ||
            cc_bytes_put(&s, nd > 1 ? digits + 1 : "0", nd > 1 ? nd - 1 : 1))
            goto out;
        int n = snprintf(e, sizeof e, "E%d", exp10);
        if (cc_bytes_put(&s, e, (size_t)n))
            goto out;
    }
    rc = cc_bytes_put(out, s.p, s.len);
out:
    cc_bytes_free(&s);
    return rc;
}

/* String.valueOf of what JsonConverter makes of v: Long, Double, Boolean, String, null,
 * Map ("{a=1, b=x}"), List ("[1, 2]"). */
static int put_json_text(cc_bytes *out, json_t *v, int depth)
{
    char num[32];
    if (depth > 64)
        return -1;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return cc_bytes_put(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return cc_bytes_put(out, num, strlen(num));
    case JSON_REAL:
        return put_double(out, json_real_value(v));
    case JSON_TRUE:
        return cc_bytes_put(out, "true", 4);
    case JSON_FALSE:
        return cc_bytes_put(out, "false", 5);
    case JSON_NULL:
        return cc_bytes_put(out, "null", 4);
    case JSON_ARRAY: {
        if (cc_bytes_put(out, "[", 1))
            return -1;
        for (size_t i = 0; i < json_array_size(v); i++)
            if ((i && cc_bytes_put(out, ", ", 2)) ||
                put_json_text(out, json_array_get(v, i), depth + 1))
                return -1;
        return cc_bytes_put(out, "]", 1);
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *item;
        bool first = true;
        if (cc_bytes_put(out, "{", 1))
            return -1;
        json_object_foreach(v, k, item)
        {
            if ((!first && cc_bytes_put(out, ", ", 2)) || cc_bytes_put(out, k, strlen(k)) ||
                cc_bytes_put(out, "=", 1) || put_json_text(out, item, depth + 1))
                return -1;
            first = false;
        }
        return cc_bytes_put(out, "}", 1);
    }
    }
    return -1;
}

int cc_convert_to_text(const cc_converter *c, const void *data, size_t len, cc_bytes *out,
                       char *err, size_t errlen)
{
    out->len = 0;
    if (cc_bytes_put(out, "", 0))
        goto oom;
    if (!data)
        return cc_bytes_put(out, "null", 4) ? (snprintf(err, errlen, "out of memory"), -1) : 0;
    if (c->kind == CC_CONV_BYTES)
        return cc_bytes_put(out, data, len) ? (snprintf(err, errlen, "out of memory"), -1) : 0;
    if (c->kind == CC_CONV_STRING)
        return put_text(out, data, len) ? (snprintf(err, errlen, "out of memory"), -1) : 0;
    json_error_t jerr;
    json_t *doc = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!doc) {
        snprintf(err, errlen, "JsonConverter: the value is not JSON (%s at byte %d)", jerr.text,
                 jerr.position);
        return -1;
    }
    json_t *payload = doc;
    if (c->schemas) {
        json_t *schema = json_object_get(doc, "schema");
        payload = json_object_get(doc, "payload");
        if (!json_is_object(doc) || json_object_size(doc) != 2 || !schema || !payload) {
            json_decref(doc);
            snprintf(err, errlen,
                     "JsonConverter with schemas.enable=true needs an object with exactly "
                     "\"schema\" and \"payload\" (set value.converter.schemas.enable=false "
                     "for plain JSON)");
            return -1;
        }
        const char *type = json_string_value(json_object_get(schema, "type"));
        if (type && strcmp(type, "struct") == 0) {
            json_decref(doc);
            snprintf(err, errlen,
                     "JsonConverter: struct values are not supported by strait's "
                     "FileStreamSink (strings, numbers, booleans, maps, arrays are)");
            return -1;
        }
    }
    int rc = put_json_text(out, payload, 0);
    json_decref(doc);
    if (rc) {
        snprintf(err, errlen, "JsonConverter: the value is nested deeper than 64 levels");
        return -1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}
