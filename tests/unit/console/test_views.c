/*
 * The estate model and the views cut to a scope (admin-ui/model.c, views.c), fed with
 * survey rounds shaped as straitd answers them: rates from two rounds, per-second
 * history, and a tenant scope that sees only its own topics, groups, usage and series —
 * the server-side half of tenant isolation (the browser half is tests/ui).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin-ui/console.h"

/* One broker's answer: counters scaled by k, so two rounds give known rates. */
static json_t *broker_results(int k)
{
    return json_pack(
        "[{s:b, s:{s:I, s:I, s:{s:I, s:I, s:I, s:I}}}," /* status */
        " {s:b, s:{s:[{s:s, s:b, s:I, s:I, s:[{s:i, s:I, s:I, s:I}]},"
        "             {s:s, s:b, s:I, s:I, s:[{s:i, s:I, s:I, s:I}]}]}},"         /* topics.stats */
        " {s:b, s:{s:[{s:s, s:s, s:i, s:I, s:[]}, {s:s, s:s, s:i, s:I, s:[]}]}}," /* groups.lag */
        " {s:b, s:{s:[{s:s, s:s, s:[s], s:{}, s:{}, s:{s:I, s:[I,I,I], s:[I,I,I], s:[I,I,I], "
        "             s:[I,I,I], s:[I,I,I]}},"
        "             {s:s, s:s, s:[s], s:{}, s:{}, s:{s:I, s:[I,I,I], s:[I,I,I], s:[I,I,I], "
        "             s:[I,I,I], s:[I,I,I]}}], s:[]}}," /* quotas.usage */
        " {s:b, s:{s:[]}},"                             /* quotas.describe */
        " {s:b, s:{s:s, s:I, s:I, s:[]}}]",             /* mgmt.log */
        "ok", 1, "result", "uptime_s", (json_int_t)k, "connections", (json_int_t)3, "stats",
        "bytes_in", (json_int_t)(1000 * k), "bytes_out", (json_int_t)(500 * k), "requests",
        (json_int_t)(10 * k), "records_in", (json_int_t)(4 * k), "ok", 1, "result", "topics",
        "name", "acme.orders", "internal", 0, "bytes_in", (json_int_t)(800 * k), "bytes_out",
        (json_int_t)0, "partitions", "partition", 0, "start_offset", (json_int_t)0, "end_offset",
        (json_int_t)(4 * k), "size_bytes", (json_int_t)100, "name", "globex.orders", "internal", 0,
        "bytes_in", (json_int_t)(200 * k), "bytes_out", (json_int_t)0, "partitions", "partition", 0,
        "start_offset", (json_int_t)0, "end_offset", (json_int_t)0, "size_bytes", (json_int_t)5,
        "ok", 1, "result", "groups", "group", "acme.billing", "state", "Empty", "members", 0, "lag",
        (json_int_t)5, "offsets", "group", "globex.audit", "state", "Empty", "members", 0, "lag",
        (json_int_t)9, "offsets", "ok", 1, "result", "tenants", "tenant", "acme", "prefix", "acme.",
        "users", "alice", "limits", "quotas", "metrics", "end", (json_int_t)(2000 + k), "bytes_in",
        (json_int_t)1, (json_int_t)2, (json_int_t)3, "bytes_out", (json_int_t)0, (json_int_t)0,
        (json_int_t)0, "requests", (json_int_t)1, (json_int_t)1, (json_int_t)1, "throttle_ms",
        (json_int_t)0, (json_int_t)40, (json_int_t)0, "denials", (json_int_t)0, (json_int_t)0,
        (json_int_t)0, "tenant", "globex", "prefix", "globex.", "users", "gina", "limits", "quotas",
        "metrics", "end", (json_int_t)(2000 + k), "bytes_in", (json_int_t)7, (json_int_t)7,
        (json_int_t)7, "bytes_out", (json_int_t)0, (json_int_t)0, (json_int_t)0, "requests",
        (json_int_t)0, (json_int_t)0, (json_int_t)0, "throttle_ms", (json_int_t)0, (json_int_t)0,
        (json_int_t)0, "denials", (json_int_t)0, (json_int_t)0, (json_int_t)0, "sensors", "ok", 1,
        "result", "quotas", "ok", 1, "result", "boot", "0123456789abcdef", "next", (json_int_t)0,
        "lost", (json_int_t)0, "entries");
}

static st_bus_round *round_of(int64_t ms, json_t *results)
{
    st_bus_round *r = calloc(1, sizeof *r + sizeof r->answers[0]);
    r->n = 1;
    r->sent_ms = ms;
    r->answers[0].up = results != NULL;
    r->answers[0].results = results;
    snprintf(r->answers[0].boot, sizeof r->answers[0].boot, "0123456789abcdef");
    if (!results)
        snprintf(r->answers[0].why, sizeof r->answers[0].why, "no answer within 600 ms");
    return r;
}

static void no_log(void *ctx, size_t d, const char *boot, json_t *e) {}

typedef struct fixture {
    st_con_config cfg;
    st_console c;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    st_con_config_defaults(&f->cfg);
    snprintf(f->cfg.clusters[0], sizeof f->cfg.clusters[0], "dc1");
    f->cfg.nclusters = 1;
    st_con_daemon *d = &f->cfg.daemons[0];
    d->kind = ST_DAEMON_BROKER;
    snprintf(d->cluster, sizeof d->cluster, "dc1");
    snprintf(d->name, sizeof d->name, "b0");
    snprintf(d->id, sizeof d->id, "dc1/b0");
    f->cfg.ndaemons = 1;
    f->c.cfg = &f->cfg;
    f->c.model = st_model_new(&f->cfg);
    /* two rounds a second apart: counters doubled */
    st_bus_round *r = round_of(5000000, broker_results(1));
    st_model_apply(f->c.model, r, no_log, NULL);
    st_bus_round_free(r);
    r = round_of(5001000, broker_results(2));
    st_model_apply(f->c.model, r, no_log, NULL);
    st_bus_round_free(r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->c.metrics_text);
    st_model_free(f->c.model);
    free(f);
    return 0;
}

static json_t *first_broker(json_t *view)
{
    return json_array_get(json_object_get(view, "brokers"), 0);
}

static void test_rates_and_history(void **state)
{
    fixture *f = *state;
    const st_dstate *d = &f->c.model->d[0];
    assert_true(d->up);
    assert_true(d->bytes_in_rate == 1000);
    assert_true(d->bytes_out_rate == 500);
    json_t *r = json_object_get(d->topic_rates, "acme.orders");
    assert_true(json_number_value(json_object_get(r, "bytes_in")) == 800);
    assert_true(json_number_value(json_object_get(r, "records")) == 4);
    json_t *h = st_hist_get(f->c.model->hist, "broker|dc1/b0|-|bytes_in", 5001);
    assert_true(json_real_value(json_array_get(h, ST_HIST_SECONDS - 1)) == 1000);
    json_decref(h);
    /* the tenant series takes the last complete second (end - 1): 2 bytes in */
    h = st_hist_get(f->c.model->hist, "tenant|dc1/b0|acme|bytes_in", 2001);
    assert_true(json_real_value(json_array_get(h, ST_HIST_SECONDS - 1)) == 2);
    json_decref(h);
    h = st_hist_get(f->c.model->hist, "tenant|dc1/b0|acme|throttle_ms", 2001);
    assert_true(json_real_value(json_array_get(h, ST_HIST_SECONDS - 1)) == 40);
    json_decref(h);
}

static void test_admin_sees_everything(void **state)
{
    fixture *f = *state;
    st_scope admin = {ST_ROLE_ADMIN, NULL, "admin"};
    json_t *v = st_view_build(&f->c, ST_VIEW_TOPICS, &admin);
    assert_int_equal(json_array_size(json_object_get(first_broker(v), "topics")), 2);
    json_decref(v);
    v = st_view_build(&f->c, ST_VIEW_TENANTS, &admin);
    assert_int_equal(json_array_size(json_object_get(first_broker(v), "tenants")), 2);
    json_decref(v);
    assert_true(st_view_series_allowed(&f->c, "tenant|dc1/b0|globex|bytes_in", &admin));
}

static void test_tenant_sees_only_its_own(void **state)
{
    fixture *f = *state;
    st_scope acme = {ST_ROLE_TENANT, "acme", "acme-viewer"};
    for (int v = 0; v < ST_VIEW_COUNT; v++) {
        json_t *view = st_view_build(&f->c, (st_view)v, &acme);
        char *text = json_dumps(view, 0);
        /* no other tenant's name in any view it may or may not open */
        assert_null(strstr(text, "globex"));
        assert_null(strstr(text, "gina"));
        free(text);
        json_decref(view);
        assert_int_equal(st_view_allowed((st_view)v, ST_ROLE_TENANT),
                         v == ST_VIEW_TOPICS || v == ST_VIEW_GROUPS || v == ST_VIEW_TENANTS);
    }
    json_t *v = st_view_build(&f->c, ST_VIEW_TOPICS, &acme);
    json_t *topics = json_object_get(first_broker(v), "topics");
    assert_int_equal(json_array_size(topics), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(topics, 0), "name")),
                        "acme.orders");
    json_decref(v);
    v = st_view_build(&f->c, ST_VIEW_GROUPS, &acme);
    assert_int_equal(json_array_size(json_object_get(first_broker(v), "groups")), 1);
    json_decref(v);
    assert_true(st_view_series_allowed(&f->c, "topic|dc1/b0|acme.orders|bytes_in", &acme));
    assert_true(st_view_series_allowed(&f->c, "tenant|dc1/b0|acme|throttle_ms", &acme));
    assert_true(st_view_series_allowed(&f->c, "group|dc1/b0|acme.billing|lag", &acme));
    const char *refused[] = {"topic|dc1/b0|globex.orders|bytes_in",
                             "tenant|dc1/b0|globex|bytes_in",
                             "group|dc1/b0|globex.audit|lag",
                             "broker|dc1/b0|-|bytes_in",
                             "flow|dc1/m0|dc1->dc2|records",
                             "topic|dc9/b0|acme.orders|bytes_in",
                             "topic|dc1/b0|acme",
                             "",
                             "|||",
                             "tenant|dc1/b0|acmex|bytes_in"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_false(st_view_series_allowed(&f->c, refused[i], &acme));
    /* a tenant the broker does not know sees nothing */
    st_scope ghost = {ST_ROLE_TENANT, "ghost", "g"};
    v = st_view_build(&f->c, ST_VIEW_TOPICS, &ghost);
    assert_int_equal(json_array_size(json_object_get(first_broker(v), "topics")), 0);
    json_decref(v);
}

static void test_down_broker(void **state)
{
    fixture *f = *state;
    st_bus_round *r = round_of(5002000, NULL);
    st_model_apply(f->c.model, r, no_log, NULL);
    st_bus_round_free(r);
    st_scope admin = {ST_ROLE_ADMIN, NULL, "admin"};
    json_t *v = st_view_build(&f->c, ST_VIEW_ESTATE, &admin);
    json_t *b = json_array_get(
        json_object_get(json_array_get(json_object_get(v, "clusters"), 0), "brokers"), 0);
    assert_true(json_is_false(json_object_get(b, "up")));
    assert_string_equal(json_string_value(json_object_get(b, "why")), "no answer within 600 ms");
    assert_int_equal(json_integer_value(json_object_get(b, "bytes_in_rate")), 0);
    json_decref(v);
}

static void test_metrics_text(void **state)
{
    fixture *f = *state;
    size_t len;
    const char *text = st_metrics_text(&f->c, &len);
    assert_int_equal(strlen(text), len);
    const char *want[] = {
        "# TYPE strait_up gauge\n",
        "strait_up{cluster=\"dc1\",broker=\"b0\",kind=\"broker\"} 1\n",
        "# TYPE strait_broker_received_bytes_total counter\n",
        "strait_broker_received_bytes_total{cluster=\"dc1\",broker=\"b0\"} 2000\n",
        "strait_topic_received_bytes_total{cluster=\"dc1\",broker=\"b0\",topic=\"acme.orders\"} "
        "1600\n",
        "strait_partition_end_offset{cluster=\"dc1\",broker=\"b0\",topic=\"acme.orders\",partition="
        "\"0\"} 8\n",
        "strait_group_lag_records{cluster=\"dc1\",broker=\"b0\",group=\"globex.audit\"} 9\n",
        /* summed from the per-second record: seconds 2000 (2) and 2001 (3)... as seen */
        "# TYPE strait_tenant_throttle_seconds_total counter\n",
        "strait_console_survey_rounds_total 2\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i]))
            fail_msg("metrics lack \"%s\" in:\n%s", want[i], text);
    /* every sample line belongs to a family announced before it */
    char *copy = strdup(text), *save = NULL;
    char family[128] = "";
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# TYPE ", 7) == 0) {
            sscanf(line + 7, "%127s", family);
            continue;
        }
        if (line[0] == '#')
            continue;
        assert_true(strncmp(line, family, strlen(family)) == 0);
    }
    free(copy);
    /* rendered once per round: the same buffer until the next */
    size_t len2;
    assert_ptr_equal(st_metrics_text(&f->c, &len2), text);
}

static void test_metrics_label_escaping(void **state)
{
    fixture *f = *state;
    /* a group id with a quote, a backslash and a newline (client-chosen) */
    json_array_append_new(f->c.model->d[0].groups,
                          json_pack("{s:s, s:s, s:i, s:I}", "group", "we\"ird\\\nid", "state",
                                    "Empty", "members", 0, "lag", (json_int_t)1));
    f->c.model->rounds++; /* a new round: rendered again */
    size_t len;
    const char *text = st_metrics_text(&f->c, &len);
    assert_non_null(strstr(text, "group=\"we\\\"ird\\\\\\nid\"} 1\n"));
    f->c.model->rounds--;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates_and_history),
        cmocka_unit_test(test_admin_sees_everything),
        cmocka_unit_test(test_tenant_sees_only_its_own),
        cmocka_unit_test(test_metrics_text),
        cmocka_unit_test(test_metrics_label_escaping),
        cmocka_unit_test(test_down_broker),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
