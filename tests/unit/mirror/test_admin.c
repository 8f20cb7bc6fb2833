/*
 * strait-mirror's management commands: argument checking, flow lookup and the command
 * list, with no cluster at all. The admin context names two flows but holds no flow
 * objects: every request below must be answered (or refused) before a flow is touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mirror/admin.h"

typedef struct fixture {
    st_mflow_config configs[2];
    st_mflow *flows[2];
    st_mirror_admin admin;
    char err[1024];
    json_t *result;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->configs[0].name, sizeof f->configs[0].name, "dc1->dc2");
    snprintf(f->configs[1].name, sizeof f->configs[1].name, "dc2->dc1");
    f->admin = (st_mirror_admin){
        .configs = f->configs,
        .flows = f->flows,
        .nflows = 2,
        .started_ms = 0,
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    json_decref(f->result);
    free(f);
    return 0;
}

/* Runs cmd with args given as JSON text; returns the handler's return code. */
static int run(fixture *f, const char *cmd, const char *args_json)
{
    json_t *args = json_loads(args_json, 0, NULL);
    assert_non_null(args);
    json_decref(f->result);
    f->result = NULL;
    f->err[0] = '\0';
    int rc = st_mirror_admin_handle(&f->admin, cmd, args, &f->result, f->err, sizeof f->err);
    json_decref(args);
    return rc;
}

static void expect_error(fixture *f, const char *cmd, const char *args_json, const char *want)
{
    assert_int_equal(run(f, cmd, args_json), -1);
    assert_null(f->result);
    if (!strstr(f->err, want))
        fail_msg("%s %s: error \"%s\" does not contain \"%s\"", cmd, args_json, f->err, want);
}

static void test_help_lists_every_command(void **state)
{
    fixture *f = *state;
    assert_int_equal(run(f, "help", "{}"), 0);
    json_t *list = json_object_get(f->result, "commands");
    const char *want[] = {"help", "status", "pause", "resume", "failover", "failback", "reset"};
    assert_int_equal(json_array_size(list), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        json_t *c = json_array_get(list, i);
        assert_string_equal(json_string_value(json_object_get(c, "name")), want[i]);
        assert_true(json_string_length(json_object_get(c, "help")) > 0);
    }
}

static void test_unknown_command(void **state)
{
    fixture *f = *state;
    expect_error(f, "topics.list", "{}", "unknown command \"topics.list\"");
    expect_error(f, "topics.list", "{}",
                 "help, status, pause, resume, failover, failback and reset");
}

static void test_unknown_argument_names(void **state)
{
    fixture *f = *state;
    expect_error(f, "pause", "{\"flwo\":\"dc1->dc2\"}",
                 "pause: unknown argument \"flwo\" (takes {flow})");
    expect_error(f, "status", "{\"flow\":\"dc1->dc2\",\"verbose\":true}",
                 "status: unknown argument \"verbose\" (takes {flow?})");
    expect_error(f, "help", "{\"flow\":\"dc1->dc2\"}",
                 "help: unknown argument \"flow\" (takes none)");
    expect_error(f, "failover", "{\"flow\":\"dc1->dc2\",\"timeout\":5}",
                 "failover: unknown argument \"timeout\"");
}

static void test_flow_required(void **state)
{
    fixture *f = *state;
    const char *cmds[] = {"pause", "resume", "failover", "failback", "reset"};
    for (size_t i = 0; i < 4; i++) {
        expect_error(f, cmds[i], "{}", "\"flow\" is required: one of dc1->dc2, dc2->dc1");
        expect_error(f, cmds[i], "{\"flow\":null}", "\"flow\" is required");
    }
}

static void test_flow_must_be_a_string(void **state)
{
    fixture *f = *state;
    expect_error(f, "pause", "{\"flow\":42}", "\"flow\" must be a non-empty string");
    expect_error(f, "pause", "{\"flow\":42}", "got an integer");
    expect_error(f, "resume", "{\"flow\":\"\"}", "got a string");
    expect_error(f, "status", "{\"flow\":[\"dc1->dc2\"]}", "got an array");
}

static void test_unknown_flow_lists_the_flows(void **state)
{
    fixture *f = *state;
    expect_error(f, "failover", "{\"flow\":\"dc3->dc1\"}",
                 "no flow \"dc3->dc1\": this daemon runs dc1->dc2, dc2->dc1");
    expect_error(f, "status", "{\"flow\":\"dc1\"}", "no flow \"dc1\"");
    /* names match exactly: no prefix or case folding */
    expect_error(f, "pause", "{\"flow\":\"DC1->DC2\"}", "no flow \"DC1->DC2\"");
}

static void test_args_must_be_an_object(void **state)
{
    fixture *f = *state;
    expect_error(f, "status", "[1]", "\"args\" must be an object, got an array");
}

static void test_status_without_flows(void **state)
{
    fixture *f = *state;
    f->admin.nflows = 0;
    assert_int_equal(run(f, "status", "{}"), 0);
    assert_int_equal(json_array_size(json_object_get(f->result, "flows")), 0);
    assert_true(json_is_array(json_object_get(f->result, "flows")));
    /* started at wall-clock 0: the uptime is the current wall clock */
    assert_true(json_integer_value(json_object_get(f->result, "uptime_ms")) > 1700000000000LL);
    expect_error(f, "status", "{\"flow\":\"dc1->dc2\"}", "this daemon runs none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_help_lists_every_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_argument_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow_must_be_a_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_flow_lists_the_flows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_args_must_be_an_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_without_flows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
