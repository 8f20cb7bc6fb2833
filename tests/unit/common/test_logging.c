/*
 * common/logging.c: one call is one line. A message quoting what a peer sent (a login's
 * user name, say) cannot start a forged line with a newline or hide text with other
 * control characters: they are shown escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/logging.h"

static void test_control_characters_escaped(void **state)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    st_logging_setup(ST_LOG_INFO, f);
    st_warn(
        "console: failed login for \"%s\"",
        "x\n2026-12-07T16:00:00.000Z INFO  admin-ui/http.c:296 console: admin logged in\r\x1b[2K");
    st_info("tabs\tstay");
    st_logging_setup(ST_LOG_INFO, NULL);
    rewind(f);
    char lines[4][512];
    int n = 0;
    while (n < 4 && fgets(lines[n], sizeof lines[n], f))
        n++;
    fclose(f);
    assert_int_equal(n, 2); /* two calls, two lines: nothing forged */
    assert_non_null(strstr(lines[0], "for \"x\\n2026-12-07T16:00:00.000Z INFO  admin-ui/http.c:296 "
                                     "console: admin logged in\\r\\x1b[2K\""));
    assert_non_null(strstr(lines[1], "tabs\tstay\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_control_characters_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
