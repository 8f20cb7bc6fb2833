/*
 * strait transactions list|describe: the transaction coordinators' view of transactional
 * ids (Kafka's ListTransactions and DescribeTransactions, KIP-664, as
 * kafka-transactions.sh list / describe).
 *
 * librdkafka 2.0.2 has neither call, so strait sends its own v0 requests (flexible) to
 * every broker over a plain socket, like strait logdirs: plaintext listeners only. list
 * merges what every broker answers; describe takes each id's answer from the broker that
 * coordinates it (the others answer NOT_COORDINATOR).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/cli.h"

#define DESCRIBE_TRANSACTIONS 65
#define LIST_TRANSACTIONS     66

static void usage_transactions(FILE *out)
{
    fputs("Usage: strait transactions SUBCOMMAND [options]\n"
          "\n"
          "Transactional ids as their transaction coordinators see them.\n"
          "\n"
          "Subcommands:\n"
          "  list                   transactional ids with their producer id and state\n"
          "  describe ID...         an id's open transaction: state, epoch, timeout,\n"
          "                         start time and partitions\n"
          "\n"
          "Run 'strait transactions SUBCOMMAND --help' for its options.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait transactions list --state Ongoing\n"
          "  strait transactions describe payments-app-1\n",
          out);
}

static void usage_list(FILE *out)
{
    fputs("Usage: strait transactions list [options]\n"
          "\n"
          "Lists transactional ids (those the caller may DESCRIBE) with their producer id\n"
          "and state. Plaintext listeners only.\n"
          "\n"
          "Options:\n"
          "  --state S         only ids in state S (Empty, Ongoing, PrepareCommit,\n"
          "                    PrepareAbort, CompleteCommit, CompleteAbort,\n"
          "                    PrepareEpochFence); repeat for several [every state]\n"
          "  --producer-id N   only ids with producer id N; repeat for several [every id]\n"
          "  --json            an array of {transactional_id, producer_id, state}\n\n",
          out);
    cli_print_global_options(out);
}

static void usage_describe(FILE *out)
{
    fputs("Usage: strait transactions describe ID... [options]\n"
          "\n"
          "Shows each transactional id's state, producer id and epoch, transaction timeout,\n"
          "when its open transaction began and the partitions in it. Needs DESCRIBE on the\n"
          "id. Plaintext listeners only.\n"
          "\n"
          "Options:\n"
          "  --json   an array of objects, one per id\n\n",
          out);
    cli_print_global_options(out);
}

/* ---- the wire: compact (flexible) forms ---- */

typedef struct req_buf {
    char *data;
    size_t len, cap;
} req_buf;

static void req_buf_add(req_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        char *g = realloc(b->data, cap);
        if (!g) {
            fputs("strait: out of memory\n", stderr);
            exit(CLI_FAIL);
        }
        b->data = g;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_uvarint(req_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        uint8_t c = (uint8_t)(v | 0x80);
        req_buf_add(b, &c, 1);
        v >>= 7;
    }
    uint8_t c = (uint8_t)v;
    req_buf_add(b, &c, 1);
}

static void put_cstr(req_buf *b, const char *s)
{
    put_uvarint(b, strlen(s) + 1);
    req_buf_add(b, s, strlen(s));
}

static void put_be(req_buf *b, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        uint8_t c = (uint8_t)(v >> (8 * i));
        req_buf_add(b, &c, 1);
    }
}

/* A bounds-checked reader over an answer. */
/* Sends body to every broker of the cluster; calls each(answer) for every answer.
 * CLI_OK, or CLI_FAIL (said) when no broker answered. */
typedef int answer_fn(cli_rd *r, const char *broker, void *arg);
static int ask_all(cli_ctx *c, int16_t key, const req_buf *body, answer_fn *each, void *arg)
{
    if (cli_kafka_secured(c, NULL))
        return cli_fail("strait transactions speaks plaintext only (librdkafka 2.0.2 has no "
                        "transaction admin calls, and strait's own requests do not do SASL or "
                        "TLS): point --bootstrap at a plaintext listener");
    cli_kadmin a = {0};
    const struct rd_kafka_metadata *md = NULL;
    int rc = CLI_FAIL, answered = 0;
    if (cli_kadmin_open(c, &a) != CLI_OK || !(md = cli_kadmin_metadata(&a, NULL)))
        goto out;
    rc = CLI_OK;
    for (int i = 0; i < md->broker_cnt; i++) {
        const struct rd_kafka_metadata_broker *br = &md->brokers[i];
        uint8_t *resp;
        size_t len;
        char err[512], name[300];
        snprintf(name, sizeof name, "broker %d (%s:%d)", (int)br->id, br->host, br->port);
        if (cli_raw_call_flex(br->host, br->port, key, 0, (const uint8_t *)body->data, body->len,
                              &resp, &len, err, sizeof err) != 0) {
            rc = cli_fail("%s: %s (does it serve %s?)", name, err,
                          key == LIST_TRANSACTIONS ? "ListTransactions" : "DescribeTransactions");
            continue;
        }
        cli_rd r = {resp, resp + len, false};
        if (each(&r, name, arg) != CLI_OK)
            rc = CLI_FAIL;
        else
            answered++;
        free(resp);
    }
    if (!answered)
        rc = CLI_FAIL;
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    cli_kadmin_close(&a);
    return rc;
}

/* ---- list ---- */

static int list_answer(cli_rd *r, const char *broker, void *arg)
{
    json_t *rows = arg;
    cli_rd_int(r, 4); /* throttle_time_ms */
    int16_t error = (int16_t)cli_rd_int(r, 2);
    int64_t nunknown = cli_rd_count(r);
    int rc = CLI_OK;
    for (int64_t i = 0; i < nunknown && !r->bad; i++) {
        char *s = cli_rd_cstr(r);
        rc = cli_fail("%s: \"%s\" is not a transaction state (Empty, Ongoing, PrepareCommit, "
                      "PrepareAbort, CompleteCommit, CompleteAbort, PrepareEpochFence)",
                      broker, s);
        free(s);
    }
    int64_t n = cli_rd_count(r);
    for (int64_t i = 0; i < n && !r->bad; i++) {
        char *id = cli_rd_cstr(r);
        int64_t pid = cli_rd_int(r, 8);
        char *state = cli_rd_cstr(r);
        cli_rd_skip_tags(r);
        if (!r->bad)
            json_array_append_new(rows, json_pack("{s:s,s:I,s:s}", "transactional_id", id,
                                                  "producer_id", (json_int_t)pid, "state", state));
        free(id);
        free(state);
    }
    cli_rd_skip_tags(r);
    if (r->bad || r->p != r->end)
        return cli_fail("%s: its ListTransactions answer does not parse", broker);
    if (error)
        return cli_fail("%s: %s", broker, rd_kafka_err2str(error));
    return rc;
}

static int cmp_ids(const void *x, const void *y)
{
    const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    return strcmp(json_string_value(json_object_get(a, "transactional_id")),
                  json_string_value(json_object_get(b, "transactional_id")));
}

static void sort_rows(json_t *rows)
{
    size_t n = json_array_size(rows);
    json_t **items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(rows, i));
    qsort(items, n, sizeof *items, cmp_ids);
    json_array_clear(rows);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, items[i]);
    free(items);
}

static int txn_list(cli_ctx *c, int argc, char **argv)
{
    enum { OPT_STATE = 1, OPT_PID };
    static const struct option longopts[] = {
        {"state", required_argument, NULL, OPT_STATE},
        {"producer-id", required_argument, NULL, OPT_PID},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {OPT_STATE, OPT_PID, 0};
    cli_list states = {0}, pids = {0};
    req_buf body = {0};
    json_t *rows = json_array();
    int rc = CLI_USAGE, opt;
    int64_t pid;

    c->prog = "strait transactions list";
    c->usage = usage_list;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP) {
            rc = CLI_OK;
            goto out;
        }
        if (opt == CLI_GETOPT_ERROR)
            goto out;
        if (opt == OPT_PID && cli_parse_int(c, "--producer-id", optarg, 0, INT64_MAX, &pid))
            goto out;
        cli_list_add(opt == OPT_STATE ? &states : &pids, optarg);
    }
    if (optind < argc) {
        cli_usage_error(c, "unexpected argument \"%s\" (filter with --state or --producer-id)",
                        argv[optind]);
        goto out;
    }
    put_uvarint(&body, states.n + 1);
    for (size_t i = 0; i < states.n; i++)
        put_cstr(&body, states.v[i]);
    put_uvarint(&body, pids.n + 1);
    for (size_t i = 0; i < pids.n; i++)
        put_be(&body, (uint64_t)strtoll(pids.v[i], NULL, 10), 8);
    put_uvarint(&body, 0); /* tagged fields */
    rc = ask_all(c, LIST_TRANSACTIONS, &body, list_answer, rows);
    if (rc != CLI_OK)
        goto out;
    sort_rows(rows);
    if (c->json) {
        cli_print_json(rows);
        goto out;
    }
    static const char *const head[] = {"TRANSACTIONAL_ID", "PRODUCER_ID", "STATE"};
    cli_table t;
    cli_table_init(&t, 3, head);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char pidtext[32];
        snprintf(pidtext, sizeof pidtext, "%" PRId64,
                 (int64_t)json_integer_value(json_object_get(row, "producer_id")));
        const char *cells[] = {json_string_value(json_object_get(row, "transactional_id")), pidtext,
                               json_string_value(json_object_get(row, "state"))};
        cli_table_row(&t, cells);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
out:
    json_decref(rows);
    free(body.data);
    cli_list_free(&states);
    cli_list_free(&pids);
    return rc;
}

/* ---- describe ---- */

typedef struct describe_ctx {
    json_t *found;  /* id -> object, from the coordinator's answer */
    json_t *errors; /* id -> the first other error code */
} describe_ctx;

static int describe_answer(cli_rd *r, const char *broker, void *arg)
{
    describe_ctx *d = arg;
    cli_rd_int(r, 4); /* throttle_time_ms */
    int64_t n = cli_rd_count(r);
    for (int64_t i = 0; i < n && !r->bad; i++) {
        int16_t error = (int16_t)cli_rd_int(r, 2);
        char *id = cli_rd_cstr(r), *state = cli_rd_cstr(r);
        int32_t timeout = (int32_t)cli_rd_int(r, 4);
        int64_t start = cli_rd_int(r, 8), pid = cli_rd_int(r, 8);
        int16_t epoch = (int16_t)cli_rd_int(r, 2);
        json_t *parts = json_array();
        int64_t ntopics = cli_rd_count(r);
        for (int64_t t = 0; t < ntopics && !r->bad; t++) {
            char *topic = cli_rd_cstr(r);
            int64_t np = cli_rd_count(r);
            for (int64_t p = 0; p < np && !r->bad; p++)
                json_array_append_new(parts, json_pack("{s:s,s:i}", "topic", topic, "partition",
                                                       (int)cli_rd_int(r, 4)));
            cli_rd_skip_tags(r);
            free(topic);
        }
        cli_rd_skip_tags(r);
        /* the coordinator's answer wins; others say NOT_COORDINATOR (16) or are not
         * ready (14, 15) */
        bool not_ours = error == 14 || error == 15 || error == 16;
        if (!r->bad && !error) {
            json_object_set_new(d->found, id,
                                json_pack("{s:s,s:s,s:I,s:i,s:i,s:I,s:o}", "transactional_id", id,
                                          "state", state, "producer_id", (json_int_t)pid,
                                          "producer_epoch", (int)epoch, "transaction_timeout_ms",
                                          (int)timeout, "transaction_start_time_ms",
                                          (json_int_t)start, "partitions", parts));
            json_object_del(d->errors, id);
        } else {
            json_decref(parts);
            if (!r->bad && !json_object_get(d->found, id) &&
                (!json_object_get(d->errors, id) || !not_ours))
                json_object_set_new(d->errors, id, json_integer(error));
        }
        free(id);
        free(state);
    }
    cli_rd_skip_tags(r);
    if (r->bad || r->p != r->end)
        return cli_fail("%s: its DescribeTransactions answer does not parse", broker);
    return CLI_OK;
}

static void print_describe(const json_t *o)
{
    char started[64] = "-";
    json_int_t start = json_integer_value(json_object_get(o, "transaction_start_time_ms"));
    if (start >= 0) {
        time_t secs = (time_t)(start / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    char *id = cli_safe(json_string_value(json_object_get(o, "transactional_id")));
    printf("transactional id   %s\n", id);
    free(id);
    printf("state              %s\n", json_string_value(json_object_get(o, "state")));
    printf("producer id        %" PRId64 "\n",
           (int64_t)json_integer_value(json_object_get(o, "producer_id")));
    printf("producer epoch     %d\n",
           (int)json_integer_value(json_object_get(o, "producer_epoch")));
    printf("timeout            %d ms\n",
           (int)json_integer_value(json_object_get(o, "transaction_timeout_ms")));
    printf("started            %s\n", started);
    printf("partitions        ");
    size_t i;
    json_t *p;
    const json_t *parts = json_object_get(o, "partitions");
    if (!json_array_size(parts))
        printf(" -");
    json_array_foreach(parts, i, p)
    {
        char *topic = cli_safe(json_string_value(json_object_get(p, "topic")));
        printf("%s %s-%d", i ? "," : "", topic,
               (int)json_integer_value(json_object_get(p, "partition")));
        free(topic);
    }
    printf("\n");
}

static int txn_describe(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    req_buf body = {0};
    describe_ctx d = {json_object(), json_object()};
    json_t *out = json_array();
    int rc = CLI_USAGE, opt;

    c->prog = "strait transactions describe";
    c->usage = usage_describe;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP) {
            rc = CLI_OK;
            goto done;
        }
        if (opt == CLI_GETOPT_ERROR)
            goto done;
    }
    if (optind >= argc) {
        cli_usage_error(c, "name at least one transactional id");
        goto done;
    }
    put_uvarint(&body, (uint64_t)(argc - optind) + 1);
    for (int i = optind; i < argc; i++)
        put_cstr(&body, argv[i]);
    put_uvarint(&body, 0);
    rc = ask_all(c, DESCRIBE_TRANSACTIONS, &body, describe_answer, &d);
    if (rc != CLI_OK)
        goto done;
    for (int i = optind; i < argc; i++) {
        json_t *o = json_object_get(d.found, argv[i]);
        if (o) {
            json_array_append(out, o);
            continue;
        }
        json_int_t code = json_integer_value(json_object_get(d.errors, argv[i]));
        rc = cli_fail("transactional id \"%s\": %s", argv[i],
                      code == 105  ? "not found (no producer has used it, or it expired)"
                      : code == 53 ? "DESCRIBE on it is not allowed"
                                   : rd_kafka_err2str((rd_kafka_resp_err_t)code));
    }
    if (c->json) {
        cli_print_json(out);
    } else {
        size_t i;
        json_t *o;
        json_array_foreach(out, i, o)
        {
            if (i)
                printf("\n");
            print_describe(o);
        }
    }
done:
    json_decref(out);
    json_decref(d.found);
    json_decref(d.errors);
    free(body.data);
    return rc;
}

static const cli_subcommand subcommands[] = {
    {"list", txn_list},
    {"describe", txn_describe},
};

int cli_transactions_main(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait transactions";
    c->usage = usage_transactions;
    return cli_dispatch(c, argc, argv, subcommands, sizeof subcommands / sizeof subcommands[0],
                        "list or describe");
}
