/*
 * The management bus: a server on an ipc url, served by its own thread the way the
 * broker's loop would (poll the receive fd, then process), and real clients.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <nanomsg/survey.h>

#include "common/mgmt.h"

#define TOKEN "s3cret-token"

typedef struct fixture {
    char url[128];
    char survey_url[160];
    st_mgmt_server *server;
    pthread_t thread;
    int stop_pipe[2];
    int handled; /* commands the handler ran (read after join) */
} fixture;

/* "echo" returns its args; "fail" fails with a message; anything else is unknown. */
static int handler(void *ctx, const char *cmd, json_t *args, json_t **result, char *err,
                   size_t errlen)
{
    fixture *f = ctx;
    f->handled++;
    if (strcmp(cmd, "echo") == 0) {
        *result = json_pack("{s:s, s:O}", "cmd", cmd, "args", args);
        return 0;
    }
    if (strcmp(cmd, "set") == 0) { /* a state-changing command: logged */
        *result = json_pack("{s:b}", "done", 1);
        return 0;
    }
    if (strcmp(cmd, "fail") == 0) {
        snprintf(err, errlen, "topic \"orders\" already exists");
        return -1;
    }
    snprintf(err, errlen, "unknown command \"%s\": try \"help\"", cmd);
    return -1;
}

static void *serve(void *arg)
{
    fixture *f = arg;
    struct pollfd pfd[3] = {{.fd = st_mgmt_server_fd(f->server), .events = POLLIN},
                            {.fd = f->stop_pipe[0], .events = POLLIN},
                            {.fd = st_mgmt_server_survey_fd(f->server), .events = POLLIN}};
    for (;;) {
        if (poll(pfd, 3, -1) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents)
            break;
        if ((pfd[0].revents | pfd[2].revents) & POLLIN)
            st_mgmt_server_process(f->server);
    }
    return NULL;
}

static int setup(void **state)
{
    static fixture f;
    char err[256];
    memset(&f, 0, sizeof(f));
    snprintf(f.url, sizeof(f.url), "ipc:///tmp/tools-test-%d.ipc", (int)getpid());
    f.server = st_mgmt_server_open(f.url, TOKEN, handler, &f, err, sizeof(err));
    if (!f.server) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    static const char *const readonly[] = {"echo", NULL};
    if (st_mgmt_survey_url_default(f.url, f.survey_url, sizeof f.survey_url, err, sizeof err) ||
        st_mgmt_server_survey(f.server, f.survey_url, readonly, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    if (pipe(f.stop_pipe) != 0 || pthread_create(&f.thread, NULL, serve, &f) != 0)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char c = 'x';
    if (write(f->stop_pipe[1], &c, 1) != 1)
        return -1;
    pthread_join(f->thread, NULL);
    st_mgmt_server_close(f->server);
    close(f->stop_pipe[0]);
    close(f->stop_pipe[1]);
    unlink(f->url + strlen("ipc://"));
    unlink(f->survey_url + strlen("ipc://"));
    return 0;
}

static void test_right_token_returns_result(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    json_t *args = json_pack("{s:s, s:i}", "name", "orders", "partitions", 3);
    json_t *res = st_mgmt_call(f->url, TOKEN, "echo", args, 5000, err, sizeof(err));
    assert_non_null(res);
    assert_string_equal(json_string_value(json_object_get(res, "cmd")), "echo");
    json_t *echoed = json_object_get(res, "args");
    assert_string_equal(json_string_value(json_object_get(echoed, "name")), "orders");
    assert_int_equal(json_integer_value(json_object_get(echoed, "partitions")), 3);
    json_decref(res);
    /* the caller keeps its reference */
    assert_int_equal(args->refcount, 1);
    json_decref(args);

    /* args NULL is sent as {} */
    res = st_mgmt_call(f->url, TOKEN, "echo", NULL, 5000, err, sizeof(err));
    assert_non_null(res);
    assert_true(json_is_object(json_object_get(res, "args")));
    assert_int_equal(json_object_size(json_object_get(res, "args")), 0);
    json_decref(res);
}

static void test_wrong_token_is_refused(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    int before = f->handled;
    json_t *res = st_mgmt_call(f->url, "s3cret-tokex", "echo", NULL, 5000, err, sizeof(err));
    assert_null(res);
    assert_string_equal(err, ST_MGMT_BAD_TOKEN);
    /* a prefix of the token and the token plus a byte are wrong too */
    res = st_mgmt_call(f->url, "s3cret", "echo", NULL, 5000, err, sizeof(err));
    assert_null(res);
    assert_string_equal(err, ST_MGMT_BAD_TOKEN);
    res = st_mgmt_call(f->url, TOKEN "x", "echo", NULL, 5000, err, sizeof(err));
    assert_null(res);
    assert_string_equal(err, ST_MGMT_BAD_TOKEN);
    res = st_mgmt_call(f->url, "", "echo", NULL, 5000, err, sizeof(err));
    assert_null(res);
    assert_string_equal(err, ST_MGMT_BAD_TOKEN);
    assert_int_equal(f->handled, before); /* the handler never saw them */
}

static void test_handler_errors_come_back_verbatim(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    json_t *res = st_mgmt_call(f->url, TOKEN, "no.such.command", NULL, 5000, err, sizeof(err));
    assert_null(res);
    assert_string_equal(err, "unknown command \"no.such.command\": try \"help\"");
    res = st_mgmt_call(f->url, TOKEN, "fail", NULL, 5000, err, sizeof(err));
    assert_null(res);
    assert_string_equal(err, "topic \"orders\" already exists");
}

/* Sends raw bytes on a REQ socket and returns the reply parsed (new reference). */
static json_t *raw_request(const char *url, const char *body)
{
    int sock = nn_socket(AF_SP, NN_REQ);
    int timeout = 5000;
    void *msg = NULL;
    assert_true(sock >= 0);
    nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout));
    assert_true(nn_connect(sock, url) >= 0);
    assert_int_equal(nn_send(sock, body, strlen(body), 0), (int)strlen(body));
    int n = nn_recv(sock, &msg, NN_MSG, 0);
    assert_true(n > 0);
    json_t *reply = json_loadb(msg, (size_t)n, 0, NULL);
    nn_freemsg(msg);
    nn_close(sock);
    assert_non_null(reply);
    return reply;
}

static void test_malformed_requests_get_error_replies(void **state)
{
    fixture *f = *state;
    const char *bad[] = {
        "{\"token\":\"" TOKEN "\",\"cmd\":", /* truncated JSON */
        "not json at all",
        "[1,2,3]",                                                 /* not an object */
        "{\"token\":\"" TOKEN "\"}",                               /* no cmd */
        "{\"token\":\"" TOKEN "\",\"cmd\":7}",                     /* cmd not a string */
        "{\"token\":\"" TOKEN "\",\"cmd\":\"echo\",\"args\":[1]}", /* args not an object */
        "{\"cmd\":\"echo\"}",                                      /* no token */
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *reply = raw_request(f->url, bad[i]);
        assert_true(json_is_false(json_object_get(reply, "ok")));
        const char *msg = json_string_value(json_object_get(reply, "error"));
        assert_non_null(msg);
        if (i < 6)
            assert_non_null(strstr(msg, "malformed request"));
        else if (i == 6)
            assert_string_equal(msg, ST_MGMT_BAD_TOKEN);
        json_decref(reply);
    }
    /* the server still answers good requests afterwards */
    json_t *reply = raw_request(f->url, "{\"token\":\"" TOKEN "\",\"cmd\":\"echo\"}");
    assert_true(json_is_true(json_object_get(reply, "ok")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(reply, "result"), "cmd")),
                        "echo");
    json_decref(reply);
}

static void test_no_server_times_out_with_hint(void **state)
{
    char err[256] = "";
    char url[128];
    snprintf(url, sizeof(url), "ipc:///tmp/tools-test-%d-nobody.ipc", (int)getpid());
    json_t *res = st_mgmt_call(url, TOKEN, "status", NULL, 200, err, sizeof(err));
    assert_null(res);
    char want[256];
    snprintf(want, sizeof(want), "no answer from %s within 200 ms: is straitd running?", url);
    assert_string_equal(err, want);
}

static void test_open_refuses_bad_input(void **state)
{
    char err[256] = "";
    fixture *f = *state;
    assert_null(
        st_mgmt_server_open("ipc:///tmp/tools-test-x.ipc", "", handler, f, err, sizeof(err)));
    assert_non_null(strstr(err, "empty token"));
    assert_null(st_mgmt_server_open("bogus://nowhere", TOKEN, handler, f, err, sizeof(err)));
    assert_non_null(strstr(err, "bogus://nowhere"));
}

/* Sends one survey (raw bytes) and returns the one answer parsed (new reference). */
static json_t *raw_survey(const char *url, const char *body)
{
    int sock = nn_socket(AF_SP, NN_SURVEYOR);
    int deadline = 5000;
    void *msg = NULL;
    assert_true(sock >= 0);
    nn_setsockopt(sock, NN_SURVEYOR, NN_SURVEYOR_DEADLINE, &deadline, sizeof(deadline));
    assert_true(nn_connect(sock, url) >= 0);
    /* A surveyor sends to the respondents connected now: wait for the connection (the
     * first sends may go to nobody), bounded. */
    int n = -1;
    for (int attempt = 0; attempt < 50 && n < 0; attempt++) {
        int short_deadline = 100;
        nn_setsockopt(sock, NN_SURVEYOR, NN_SURVEYOR_DEADLINE, &short_deadline,
                      sizeof(short_deadline));
        assert_int_equal(nn_send(sock, body, strlen(body), 0), (int)strlen(body));
        n = nn_recv(sock, &msg, NN_MSG, 0);
    }
    assert_true(n > 0);
    json_t *reply = json_loadb(msg, (size_t)n, 0, NULL);
    nn_freemsg(msg);
    nn_close(sock);
    assert_non_null(reply);
    return reply;
}

static void test_survey_runs_readonly_commands_only(void **state)
{
    fixture *f = *state;
    int before = f->handled;
    json_t *reply = raw_survey(f->survey_url, "{\"token\":\"" TOKEN "\",\"cmds\":["
                                              "{\"cmd\":\"echo\",\"args\":{\"n\":7}},"
                                              "{\"cmd\":\"set\"},"
                                              "{\"cmd\":\"mgmt.log\"},"
                                              "{\"nocmd\":1}]}");
    assert_true(json_is_true(json_object_get(reply, "ok")));
    assert_int_equal(json_string_length(json_object_get(reply, "boot")), 16);
    json_t *results = json_object_get(reply, "results");
    assert_int_equal(json_array_size(results), 4);
    json_t *echo = json_array_get(results, 0);
    assert_true(json_is_true(json_object_get(echo, "ok")));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(echo, "result"), "args"), "n")),
                     7);
    json_t *set = json_array_get(results, 1);
    assert_true(json_is_false(json_object_get(set, "ok")));
    assert_non_null(
        strstr(json_string_value(json_object_get(set, "error")), "not served in a survey"));
    assert_true(json_is_true(json_object_get(json_array_get(results, 2), "ok")));
    assert_true(json_is_false(json_object_get(json_array_get(results, 3), "ok")));
    json_decref(reply);
    /* "set" never reached the handler; "echo" did */
    assert_int_equal(f->handled, before + 1);
}

static void test_survey_refuses_bad_token_and_shape(void **state)
{
    fixture *f = *state;
    json_t *reply = raw_survey(f->survey_url, "{\"token\":\"nope\",\"cmds\":[{\"cmd\":\"echo\"}]}");
    assert_true(json_is_false(json_object_get(reply, "ok")));
    assert_string_equal(json_string_value(json_object_get(reply, "error")), ST_MGMT_BAD_TOKEN);
    json_decref(reply);
    const char *bad[] = {
        "{\"token\":\"" TOKEN "\"}",
        "{\"token\":\"" TOKEN "\",\"cmds\":[]}",
        "{\"token\":\"" TOKEN "\",\"cmds\":{}}",
        "{\"token\":\"" TOKEN "\",\"cmds\":[{\"cmd\":\"echo\"}],\"who\":5}",
        "{\"token\":\"" TOKEN "\",\"cmds\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}",
        "not json",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        reply = raw_survey(f->survey_url, bad[i]);
        assert_true(json_is_false(json_object_get(reply, "ok")));
        assert_non_null(strstr(json_string_value(json_object_get(reply, "error")), "malformed"));
        json_decref(reply);
    }
}

static void test_command_log_keeps_changes_with_who(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    json_t *log = st_mgmt_call(f->url, TOKEN, "mgmt.log", NULL, 5000, err, sizeof(err));
    assert_non_null(log);
    json_int_t next = json_integer_value(json_object_get(log, "next"));
    json_decref(log);

    json_t *args = json_pack("{s:s, s:s}", "user", "alice", "password", "hunter2");
    json_t *res =
        st_mgmt_call_as(f->url, TOKEN, "console:admin", "set", args, 5000, err, sizeof(err));
    json_decref(args);
    assert_non_null(res);
    json_decref(res);
    assert_null(
        st_mgmt_call_as(f->url, TOKEN, "console:admin", "fail", NULL, 5000, err, sizeof(err)));
    res = st_mgmt_call(f->url, TOKEN, "echo", NULL, 5000, err, sizeof(err)); /* read-only */
    json_decref(res);

    args = json_pack("{s:I}", "since", next);
    log = st_mgmt_call(f->url, TOKEN, "mgmt.log", args, 5000, err, sizeof(err));
    json_decref(args);
    assert_non_null(log);
    json_t *entries = json_object_get(log, "entries");
    assert_int_equal(json_array_size(entries), 2);
    json_t *e0 = json_array_get(entries, 0), *e1 = json_array_get(entries, 1);
    assert_int_equal(json_integer_value(json_object_get(e0, "seq")), next);
    assert_string_equal(json_string_value(json_object_get(e0, "who")), "console:admin");
    assert_string_equal(json_string_value(json_object_get(e0, "cmd")), "set");
    assert_true(json_is_true(json_object_get(e0, "ok")));
    json_t *logged = json_object_get(e0, "args");
    assert_string_equal(json_string_value(json_object_get(logged, "user")), "alice");
    assert_string_equal(json_string_value(json_object_get(logged, "password")), "***");
    assert_string_equal(json_string_value(json_object_get(e1, "cmd")), "fail");
    assert_true(json_is_false(json_object_get(e1, "ok")));
    assert_string_equal(json_string_value(json_object_get(e1, "error")),
                        "topic \"orders\" already exists");
    assert_int_equal(json_integer_value(json_object_get(log, "next")), next + 2);
    json_decref(log);
}

static void test_survey_url_default(void **state)
{
    char out[128], err[256];
    assert_int_equal(
        st_mgmt_survey_url_default("tcp://127.0.0.1:9192", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "tcp://127.0.0.1:9292");
    assert_int_equal(
        st_mgmt_survey_url_default("ipc:///tmp/m.ipc", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "ipc:///tmp/m.ipc.survey");
    assert_int_equal(
        st_mgmt_survey_url_default("tcp://127.0.0.1:", out, sizeof out, err, sizeof err), -1);
    assert_int_equal(
        st_mgmt_survey_url_default("tcp://127.0.0.1:65500", out, sizeof out, err, sizeof err), -1);
    assert_int_equal(st_mgmt_survey_url_default("inproc://x", out, sizeof out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "mgmt.survey_url"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_right_token_returns_result),
        cmocka_unit_test(test_wrong_token_is_refused),
        cmocka_unit_test(test_handler_errors_come_back_verbatim),
        cmocka_unit_test(test_malformed_requests_get_error_replies),
        cmocka_unit_test(test_no_server_times_out_with_hint),
        cmocka_unit_test(test_open_refuses_bad_input),
        cmocka_unit_test(test_survey_runs_readonly_commands_only),
        cmocka_unit_test(test_survey_refuses_bad_token_and_shape),
        cmocka_unit_test(test_command_log_keeps_changes_with_who),
        cmocka_unit_test(test_survey_url_default),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
