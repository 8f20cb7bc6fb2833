/*
 * Unit tests for strait connect's .properties reader and converters
 * (tools/cli_connect_props.c, tools/cli_connect_convert.c): Java's escapes and line
 * continuations, line numbers in errors, and the bytes the converters write and read.
 * The two files are compiled in here: the CLI is an executable, not a library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/cli_connect_convert.c"
#include "tools/cli_connect_props.c"

static cc_props parse_ok(const char *text)
{
    cc_props p;
    char err[256] = "";
    if (cc_props_parse(&p, "t.properties", text, strlen(text), err, sizeof err))
        fail_msg("parse failed: %s", err);
    return p;
}

static void expect(cc_props *p, const char *key, const char *value, int line)
{
    cc_prop *e = cc_props_find(p, key);
    if (!e)
        fail_msg("no key \"%s\"", key);
    assert_string_equal(e->value, value);
    assert_int_equal(e->line, line);
}

static void test_separators(void **state)
{
    cc_props p = parse_ok("a=1\n"
                          "b:2\n"
                          "c 3\n"
                          "  d  =  4  \n" /* leading blanks go, trailing ones stay (Java) */
                          "e\t:\tfive\n"
                          "f=g=h\n"
                          "lonely\n"
                          "empty=\n");
    expect(&p, "a", "1", 1);
    expect(&p, "b", "2", 2);
    expect(&p, "c", "3", 3);
    expect(&p, "d", "4  ", 4);
    expect(&p, "e", "five", 5);
    expect(&p, "f", "g=h", 6);
    expect(&p, "lonely", "", 7);
    expect(&p, "empty", "", 8);
    assert_int_equal(p.n, 8);
    cc_props_free(&p);
}

static void test_comments_and_line_ends(void **state)
{
    cc_props p = parse_ok("# a comment\r\n"
                          "! another\r"
                          "\n"
                          "   \t\n"
                          "name=local-file-source\r\n"
                          "# a comment ending in a backslash does not continue \\\n"
                          "topic=connect-test\r"
                          "file=test.txt");
    /* "! another\r" "\n" is one line end (\r\n): the blank line is line 3 */
    expect(&p, "name", "local-file-source", 4);
    expect(&p, "topic", "connect-test", 6);
    expect(&p, "file", "test.txt", 7);
    assert_int_equal(p.n, 3);
    cc_props_free(&p);
}

static void test_continuations(void **state)
{
    cc_props p = parse_ok("bootstrap.servers=a:9092,\\\n"
                          "    b:9092,\\\n"
                          "\t\tc:9092\n"
                          "path=C:\\\\dir\\\\\n" /* even backslashes: literal, no continuation */
                          "next=1\n"
                          "last=x\\"); /* a continuation at the end of the file */
    expect(&p, "bootstrap.servers", "a:9092,b:9092,c:9092", 1);
    expect(&p, "path", "C:\\dir\\", 4);
    expect(&p, "next", "1", 5);
    expect(&p, "last", "x", 6);
    cc_props_free(&p);
}

static void test_escapes(void **state)
{
    cc_props p = parse_ok("key\\:with\\=seps\\ and\\ blanks=v\n"
                          "tabs=a\\tb\\nc\\rd\\fe\n"
                          "other=\\q\\#\\!\n"
                          "latin=caf\\u00e9\n"
                          "emoji=\\uD83D\\uDE00!\n"
                          "lone=\\uD800x\n"
                          "raw=café\n");
    expect(&p, "key:with=seps and blanks", "v", 1);
    expect(&p, "tabs", "a\tb\nc\rd\fe", 2);
    expect(&p, "other", "q#!", 3);
    expect(&p, "latin", "caf\xc3\xa9", 4);
    expect(&p, "emoji", "\xf0\x9f\x98\x80!", 5);
    expect(&p, "lone", "\xef\xbf\xbdx", 6);
    expect(&p, "raw", "caf\xc3\xa9", 7);
    cc_props_free(&p);
}

/* The last of a repeated key wins, with its own line. */
static void test_duplicates(void **state)
{
    cc_props p = parse_ok("a=1\nb=2\na=3\n");
    expect(&p, "a", "3", 3);
    assert_int_equal(p.n, 2);
    cc_props_free(&p);
}

static void test_bad_files(void **state)
{
    cc_props p;
    char err[256];
    const char *bad_u = "ok=1\n# fine\nbad=\\u12g4\n";
    assert_int_equal(cc_props_parse(&p, "w.properties", bad_u, strlen(bad_u), err, sizeof err), -1);
    assert_string_equal(err, "w.properties:3: malformed \\uXXXX escape (four hex digits expected)");
    cc_props_free(&p);
    const char *nul = "a=\\u0000\n";
    assert_int_equal(cc_props_parse(&p, "w.properties", nul, strlen(nul), err, sizeof err), -1);
    assert_non_null(strstr(err, "w.properties:1: \\u0000"));
    cc_props_free(&p);
    const char *nokey = "a=1\n=value\n";
    assert_int_equal(cc_props_parse(&p, "w.properties", nokey, strlen(nokey), err, sizeof err), -1);
    assert_non_null(strstr(err, "w.properties:2: a value without a key"));
    cc_props_free(&p);
}

/* Errors about a value name the file, the line and the key. */
static void test_value_errors(void **state)
{
    cc_props p = parse_ok("x=1\n\ntasks.max=two\nflag=maybe\nbig=5000\n");
    char err[256];
    int64_t v;
    bool b;
    assert_int_equal(cc_props_int(&p, "tasks.max", 1, 1, 100, &v, err, sizeof err), -1);
    assert_string_equal(err, "t.properties:3: tasks.max: \"two\" is not a whole number");
    assert_int_equal(cc_props_int(&p, "big", 1, 1, 100, &v, err, sizeof err), -1);
    assert_string_equal(err, "t.properties:5: big: 5000 is out of range (1..100)");
    assert_int_equal(cc_props_bool(&p, "flag", true, &b, err, sizeof err), -1);
    assert_string_equal(err, "t.properties:4: flag: \"maybe\" is not true or false");
    assert_int_equal(cc_props_int(&p, "absent", 7, 1, 100, &v, err, sizeof err), 0);
    assert_int_equal(v, 7);
    cc_props_fail(&p, "missing", err, sizeof err, "needed");
    assert_string_equal(err, "t.properties: missing: needed");
    cc_props_free(&p);
}

static void test_converter_config(void **state)
{
    cc_props w = parse_ok("key.converter=org.apache.kafka.connect.json.JsonConverter\n"
                          "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
                          "value.converter.schemas.enable=false\n");
    cc_props c = parse_ok("name=x\nvalue.converter=StringConverter\n");
    cc_converter conv;
    char err[256];
    assert_int_equal(cc_converter_config(&w, &c, "key.converter", &conv, err, sizeof err), 0);
    assert_int_equal(conv.kind, CC_CONV_JSON);
    assert_true(conv.schemas); /* Kafka's default */
    assert_int_equal(cc_converter_config(&w, &c, "value.converter", &conv, err, sizeof err), 0);
    assert_int_equal(conv.kind, CC_CONV_STRING); /* the connector's wins */
    cc_props_free(&c);
    c = parse_ok("name=x\n");
    assert_int_equal(cc_converter_config(&w, &c, "value.converter", &conv, err, sizeof err), 0);
    assert_int_equal(conv.kind, CC_CONV_JSON);
    assert_false(conv.schemas);
    cc_props_free(&c);
    c = parse_ok("name=x\n\nvalue.converter=io.confluent.connect.avro.AvroConverter\n");
    assert_int_equal(cc_converter_config(&w, &c, "value.converter", &conv, err, sizeof err), -1);
    assert_non_null(strstr(err, "t.properties:3: value.converter: \"io.confluent.connect.avro."
                                "AvroConverter\" is not a converter"));
    cc_props_free(&c);
    cc_props_free(&w);
    w = parse_ok("bootstrap.servers=x\n");
    c = parse_ok("name=x\n");
    assert_int_equal(cc_converter_config(&w, &c, "key.converter", &conv, err, sizeof err), -1);
    assert_non_null(strstr(err, "t.properties: key.converter: missing"));
    cc_props_free(&c);
    cc_props_free(&w);
}

static void expect_wire(cc_conv_kind kind, bool schemas, const char *in, const char *want)
{
    cc_converter c = {kind, schemas};
    cc_bytes out = {0};
    bool is_null;
    assert_int_equal(cc_convert_from_string(&c, in, strlen(in), false, &out, &is_null), 0);
    assert_false(is_null);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.p, want, out.len);
    cc_bytes_free(&out);
}

/* What Kafka's JsonConverter writes for FileStreamSource's string records. */
static void test_to_wire(void **state)
{
    expect_wire(CC_CONV_JSON, true, "foo",
                "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":\"foo\"}");
    expect_wire(CC_CONV_JSON, false, "say \"hi\"\\\t\x01", "\"say \\\"hi\\\"\\\\\\t\\u0001\"");
    expect_wire(CC_CONV_JSON, false, "caf\xc3\xa9 \xff", "\"caf\xc3\xa9 \xef\xbf\xbd\"");
    expect_wire(CC_CONV_STRING, false, "plain \xc3", "plain \xef\xbf\xbd");
    expect_wire(CC_CONV_BYTES, false, "raw \xc3", "raw \xc3");
    cc_converter c = {CC_CONV_JSON, true};
    cc_bytes out = {0};
    bool is_null;
    assert_int_equal(cc_convert_from_string(&c, NULL, 0, true, &out, &is_null), 0);
    assert_true(is_null);
    cc_bytes_free(&out);
}

static void expect_text(cc_conv_kind kind, bool schemas, const char *in, const char *want)
{
    cc_converter c = {kind, schemas};
    cc_bytes out = {0};
    char err[256] = "";
    if (cc_convert_to_text(&c, in, in ? strlen(in) : 0, &out, err, sizeof err))
        fail_msg("to_text(%s) failed: %s", in, err);
    assert_string_equal(out.p, want);
    cc_bytes_free(&out);
}

/* What FileStreamSink writes: String.valueOf of what the converter read. */
static void test_to_text(void **state)
{
    expect_text(CC_CONV_JSON, true,
                "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":\"foo\"}", "foo");
    expect_text(CC_CONV_JSON, false, "\"bar\"", "bar");
    expect_text(CC_CONV_JSON, false, "5", "5");
    expect_text(CC_CONV_JSON, false, "1.5", "1.5");
    expect_text(CC_CONV_JSON, false, "100.0", "100.0");
    expect_text(CC_CONV_JSON, false, "1e20", "1.0E20");
    expect_text(CC_CONV_JSON, false, "0.0001", "1.0E-4");
    expect_text(CC_CONV_JSON, false, "0.001", "0.001");
    expect_text(CC_CONV_JSON, false, "true", "true");
    expect_text(CC_CONV_JSON, false, "null", "null");
    expect_text(CC_CONV_JSON, false, "{\"a\":1,\"b\":[\"x\",2.5]}", "{a=1, b=[x, 2.5]}");
    expect_text(CC_CONV_STRING, false, "text", "text");
    expect_text(CC_CONV_STRING, false, NULL, "null");
    expect_text(CC_CONV_BYTES, false, "bytes", "bytes");

    cc_converter c = {CC_CONV_JSON, true};
    cc_bytes out = {0};
    char err[256];
    assert_int_equal(cc_convert_to_text(&c, "\"bare\"", 6, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "exactly \"schema\" and \"payload\""));
    assert_int_equal(cc_convert_to_text(&c, "{oops", 5, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "not JSON"));
    cc_bytes_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separators),    cmocka_unit_test(test_comments_and_line_ends),
        cmocka_unit_test(test_continuations), cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_duplicates),    cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_value_errors),  cmocka_unit_test(test_converter_config),
        cmocka_unit_test(test_to_wire),       cmocka_unit_test(test_to_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
