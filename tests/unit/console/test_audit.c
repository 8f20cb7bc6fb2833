/*
 * The console's audit log (admin-ui/audit.c): an entry stays small whatever a client
 * put in it (oversized args, result and text fields are cut at a UTF-8 boundary and
 * marked), passwords are blanked, and what is kept in memory is what is written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin-ui/audit.h"
#include "common/mgmt.h"

/* n bytes of "é" (2 bytes each) after one "x", so a cut at an even offset lands inside a
 * character. */
static char *utf8_text(size_t n)
{
    char *s = malloc(n + 2);
    s[0] = 'x';
    for (size_t i = 1; i + 1 < n + 1; i += 2) {
        s[i] = (char)0xC3;
        s[i + 1] = (char)0xA9;
    }
    s[n % 2 ? n : n - 1] = '\0';
    return s;
}

static void test_entries_are_bounded(void **state)
{
    char dir[] = "/tmp/console-audit-XXXXXX", path[256], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/audit.log", dir);
    st_audit *a = st_audit_open(path, err, sizeof err);
    assert_non_null(a);

    char *big = utf8_text(60000);
    json_t *args = json_pack("{s:s, s:s}", "pad", big, "password", "hunter2");
    json_t *redacted = st_mgmt_redact(args);
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:s}", "who", "acme-viewer", "via",
                          "console", "daemon", big, "action", "topics.create", "args", redacted,
                          "ok", 0, "error", big);
    st_audit_append(a, e);
    json_decref(e);

    json_t *recent = st_audit_recent(a);
    assert_int_equal(json_array_size(recent), 1);
    json_t *kept = json_array_get(recent, 0);
    char *line = json_dumps(kept, JSON_COMPACT);
    assert_non_null(line); /* valid UTF-8 everywhere, or jansson would not have it */
    assert_true(strlen(line) < ST_AUDIT_MAX_ARGS + 2 * ST_AUDIT_MAX_TEXT + 1024);
    assert_null(strstr(line, "hunter2"));
    const char *shown = json_string_value(json_object_get(kept, "args"));
    assert_non_null(shown);
    assert_non_null(strstr(shown, "cut for the audit log"));
    assert_non_null(
        strstr(json_string_value(json_object_get(kept, "daemon")), "bytes, cut for the audit log"));
    assert_string_equal(json_string_value(json_object_get(kept, "action")), "topics.create");
    free(line);
    json_decref(recent);

    /* small fields go in untouched */
    e = json_pack("{s:s, s:{s:s}, s:b}", "who", "admin", "args", "name", "orders", "ok", 1);
    st_audit_append(a, e);
    json_decref(e);
    recent = st_audit_recent(a);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(recent, 1), "args"), "name")),
                        "orders");
    json_decref(recent);

    st_audit_close(a);
    /* what was written is what was kept: the file's lines are as small */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[16384];
    size_t lines = 0;
    while (fgets(buf, sizeof buf, f)) {
        assert_non_null(strchr(buf, '\n')); /* every line fits: none over 16 KiB */
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 2);
    free(big);
    json_decref(args);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
