/*
 * The request pipeline with a table of its own: what it does with each handler result,
 * a result that is really a Kafka error code, a row's hooks, and a woken request resumed
 * on a later turn of the loop. No connection (as the fuzz harness): answers are built
 * and dropped, and st_pipeline_on_request's return says what the connection would do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/net/conn.h"
#include "broker/request/pipeline.h"
#include "common/errors.h"
#include "common/logging.h"

static st_req_result next_result;
static int handled, resumed, unsupported_answers;
static st_req *parked;

static st_req_result echo(st_req *req)
{
    handled++;
    return next_result;
}

static st_req_result park(st_req *req)
{
    handled++;
    parked = req;
    return ST_REQ_DEFERRED;
}

static st_req_result on_resume(st_req *req)
{
    resumed++;
    return ST_REQ_DONE;
}

static void on_unsupported(st_resp *r)
{
    unsupported_answers++;
    st_buf_put_i16(st_resp_buf(r), ST_ERR_UNSUPPORTED_VERSION);
}

static const st_api_hooks park_hooks = {.resume = on_resume};
static const st_api_hooks version_hooks = {.unsupported_version = on_unsupported};

static const st_api table[] = {
    {5, "Echo", 0, 2, INT16_MAX, echo, ST_ACL_OP_UNKNOWN, ST_ACL_RESOURCE_UNKNOWN, 0, 0, NULL},
    {6, "Park", 0, 0, INT16_MAX, park, ST_ACL_OP_UNKNOWN, ST_ACL_RESOURCE_UNKNOWN, 0, 0,
     &park_hooks},
    {7, "Versions", 0, 1, INT16_MAX, echo, ST_ACL_OP_UNKNOWN, ST_ACL_RESOURCE_UNKNOWN, 0, 0,
     &version_hooks},
};

typedef struct fixture {
    st_loop *loop;
    st_pipeline *p;
} fixture;

static int setup(void **state)
{
    st_logging_setup(ST_LOG_ERROR, stderr);
    fixture *f = calloc(1, sizeof *f);
    char err[128];
    f->loop = st_loop_new(err, sizeof err);
    assert_non_null(f->loop);
    st_pipeline_config cfg = {.table = table, .nrows = 3, .loop = f->loop};
    f->p = st_pipeline_new(&cfg);
    handled = resumed = unsupported_answers = 0;
    parked = NULL;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    st_pipeline_free(f->p);
    st_loop_free(f->loop);
    free(f);
    return 0;
}

/* A request frame: header v1 (key, version, correlation id, client id "t"), no body. */
static int send_frame(fixture *f, int16_t key, int16_t version)
{
    st_buf b = {0};
    st_buf_put_i16(&b, key);
    st_buf_put_i16(&b, version);
    st_buf_put_i32(&b, 42);
    st_buf_put_i16(&b, 1);
    st_buf_put_i8(&b, 't');
    return st_pipeline_on_request(f->p, NULL, b.data, b.len); /* takes the frame */
}

static void test_results(void **state)
{
    fixture *f = *state;
    next_result = ST_REQ_DONE;
    assert_int_equal(send_frame(f, 5, 1), ST_CONN_NEXT);
    next_result = ST_REQ_SILENT;
    assert_int_equal(send_frame(f, 5, 1), ST_CONN_NEXT);
    next_result = ST_REQ_CLOSE;
    assert_int_equal(send_frame(f, 5, 1), ST_CONN_CLOSE);
    next_result = ST_REQ_MALFORMED;
    assert_int_equal(send_frame(f, 5, 1), ST_CONN_CLOSE);
    assert_int_equal(handled, 4);
    const st_pipeline_stats *st = st_pipeline_stats_get(f->p);
    assert_int_equal(st->requests, 4);
    assert_int_equal(st->requests_by_key[5], 4);
    assert_int_equal(st->bad_frames, 1); /* the malformed one */
}

/* A handler that returns a Kafka error code instead of a result: it is no action, so the
 * connection closes and the frame counts as bad. (When ST_REQ_SILENT was 1, this very
 * OFFSET_OUT_OF_RANGE read as "no answer is due" and the connection went on.) */
static void test_error_code_is_no_result(void **state)
{
    fixture *f = *state;
    int codes[] = {ST_ERR_NONE,
                   ST_ERR_OFFSET_OUT_OF_RANGE,
                   ST_ERR_CORRUPT_MESSAGE,
                   ST_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                   ST_ERR__MALFORMED,
                   ST_ERR__DEFERRED};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        next_result = (st_req_result)codes[i];
        assert_int_equal(send_frame(f, 5, 0), ST_CONN_CLOSE);
    }
    assert_int_equal(st_pipeline_stats_get(f->p)->bad_frames, sizeof codes / sizeof codes[0]);
}

static void test_unknown_key_and_version(void **state)
{
    fixture *f = *state;
    assert_int_equal(send_frame(f, 4, 0), ST_CONN_CLOSE); /* no row */
    assert_int_equal(send_frame(f, 5, 3), ST_CONN_CLOSE); /* above max, no hook */
    assert_int_equal(handled, 0);
    /* the row's hook answers a version it does not serve, and the connection goes on */
    assert_int_equal(send_frame(f, 7, 9), ST_CONN_NEXT);
    assert_int_equal(unsupported_answers, 1);
    assert_int_equal(handled, 0);
}

static void stop_soon(st_loop *loop, st_timer *t)
{
    st_loop_stop(loop);
}

/* A woken request is resumed by its row's hook after the waker returned, on a turn of
 * its own. */
static void test_wake_resumes_later(void **state)
{
    fixture *f = *state;
    assert_int_equal(send_frame(f, 6, 0), ST_CONN_WAIT);
    assert_non_null(parked);
    st_req_wake(parked);
    st_req_wake(parked); /* twice before its turn is once */
    assert_int_equal(resumed, 0);
    st_timer t = {.cb = stop_soon};
    st_timer_start(f->loop, &t, 200);
    st_loop_run(f->loop);
    assert_int_equal(resumed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_code_is_no_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wake_resumes_later, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
