/* Unit tests for common/logging.c: one event is one line, JSON lines always parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/logging.h"

/* 2026-11-21T17:30:01.123Z */
#define T_MS 1795282201123LL

static json_t *parse_json_line(const char *line, size_t len)
{
    assert_true(len > 0);
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1)); /* one line */
    json_error_t jerr;
    json_t *obj = json_loadb(line, len, 0, &jerr);
    if (!obj)
        fail_msg("not JSON (%s): %s", jerr.text, line);
    assert_true(json_is_object(obj));
    return obj;
}

static void test_json_fields(void **state)
{
    char out[4096];
    size_t len = st_logging_format_line(out, sizeof out, ST_LOG_JSON, "straitd", ST_LOG_WARN, T_MS,
                                        "/src/broker/log/recovery.c", 88, "orders-0: truncated");
    json_t *obj = parse_json_line(out, len);
    assert_string_equal(json_string_value(json_object_get(obj, "time")),
                        "2026-11-21T17:30:01.123Z");
    assert_string_equal(json_string_value(json_object_get(obj, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(obj, "component")), "straitd");
    assert_string_equal(json_string_value(json_object_get(obj, "source")), "log/recovery.c:88");
    assert_string_equal(json_string_value(json_object_get(obj, "message")), "orders-0: truncated");
    json_decref(obj);
}

/* Quotes, backslashes, newlines, control bytes and UTF-8 come through as themselves. */
static void test_json_escapes(void **state)
{
    const char *msg =
        "a \"quoted\" \\path\\ line1\nline2\r\t\x01\x1f\x7f caf\xc3\xa9 \xf0\x9f\x98\x80";
    char out[4096];
    size_t len = st_logging_format_line(out, sizeof out, ST_LOG_JSON, "strait-mirror", ST_LOG_INFO,
                                        T_MS, "main.c", 1, msg);
    json_t *obj = parse_json_line(out, len);
    assert_string_equal(json_string_value(json_object_get(obj, "message")), msg);
    json_decref(obj);
}

/* Bytes that are not UTF-8 (a client id, a raw name) become U+FFFD, never invalid JSON. */
static void test_json_invalid_utf8(void **state)
{
    /* a lone continuation byte, a cut 2-byte sequence, an overlong '/', a surrogate, 0xff */
    const char *msg = "x\x80y\xc3z\xc0\xafw\xed\xa0\x80v\xff";
    char out[4096];
    size_t len = st_logging_format_line(out, sizeof out, ST_LOG_JSON, "straitd", ST_LOG_ERROR, T_MS,
                                        "a/b/c.c", 2, msg);
    json_t *obj = parse_json_line(out, len);
    const char *got = json_string_value(json_object_get(obj, "message"));
    assert_string_equal(got, "x\xef\xbf\xbdy\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbdw\xef\xbf\xbd\xef"
                             "\xbf\xbd\xef\xbf\xbdv\xef\xbf\xbd");
    json_decref(obj);
}

/* A message longer than the buffer is cut at a character boundary, marked, still JSON. */
static void test_json_cut(void **state)
{
    char msg[3000];
    for (size_t i = 0; i + 1 < sizeof msg; i++)
        msg[i] = i % 7 == 0 ? '"' : 'a';
    msg[sizeof msg - 1] = '\0';
    char out[1024];
    size_t len = st_logging_format_line(out, sizeof out, ST_LOG_JSON, "straitd", ST_LOG_INFO, T_MS,
                                        "x.c", 3, msg);
    assert_true(len < sizeof out);
    json_t *obj = parse_json_line(out, len);
    const char *got = json_string_value(json_object_get(obj, "message"));
    size_t n = strlen(got);
    assert_true(n > 500);
    assert_string_equal(got + n - 6, " [cut]");
    assert_memory_equal(got, msg, n - 6);
    json_decref(obj);
}

/* Text lines: the old layout, control characters escaped so one event stays one line. */
static void test_text_line(void **state)
{
    char out[4096];
    size_t len = st_logging_format_line(out, sizeof out, ST_LOG_TEXT, "straitd", ST_LOG_INFO, T_MS,
                                        "/src/broker/net/conn.c", 42,
                                        "client \"x\"\n2026-01-01T00:00:00.000Z ERROR forged\x01");
    assert_string_equal(out, "2026-11-21T17:30:01.123Z INFO  net/conn.c:42 client \"x\"\\n"
                             "2026-01-01T00:00:00.000Z ERROR forged\\x01\n");
    assert_int_equal(len, strlen(out));
}

static void test_parse_names(void **state)
{
    assert_int_equal(st_logging_parse_format("json"), ST_LOG_JSON);
    assert_int_equal(st_logging_parse_format("TEXT"), ST_LOG_TEXT);
    assert_int_equal(st_logging_parse_format("xml"), -1);
    assert_int_equal(st_logging_parse_level("warn"), ST_LOG_WARN);
    assert_int_equal(st_logging_parse_level("loud"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_fields),       cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_json_invalid_utf8), cmocka_unit_test(test_json_cut),
        cmocka_unit_test(test_text_line),         cmocka_unit_test(test_parse_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
