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

#include "common/mgmt.h"

#define TOKEN "s3cret-token"

typedef struct fixture {
    char url[128];
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
    struct pollfd pfd[2] = {{.fd = st_mgmt_server_fd(f->server), .events = POLLIN},
                            {.fd = f->stop_pipe[0], .events = POLLIN}};
    for (;;) {
        if (poll(pfd, 2, -1) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents)
            break;
        if (pfd[0].revents & POLLIN)
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_right_token_returns_result),
        cmocka_unit_test(test_wrong_token_is_refused),
        cmocka_unit_test(test_handler_errors_come_back_verbatim),
        cmocka_unit_test(test_malformed_requests_get_error_replies),
        cmocka_unit_test(test_no_server_times_out_with_hint),
        cmocka_unit_test(test_open_refuses_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
