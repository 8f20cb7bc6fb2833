/*
 * strait logdirs: each broker's log directories and the bytes every partition takes in
 * them (Kafka's DescribeLogDirs, as kafka-log-dirs.sh --describe).
 *
 * librdkafka 2.0.2 has no DescribeLogDirs call, so this asks every broker the metadata
 * lists with its own request (v1, which every Kafka since 1.1 and straitd serve) over a
 * plain socket: plaintext listeners only.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

#define DESCRIBE_LOG_DIRS 35

static void usage_logdirs(FILE *out)
{
    fputs("Usage: strait logdirs [--topic T]... [--broker ID]... [options]\n"
          "\n"
          "Prints one row per partition replica: BROKER DIR TOPIC PARTITION SIZE\n"
          "(bytes on disk), then a total per broker and directory. Needs DESCRIBE on\n"
          "the cluster. Plaintext listeners only.\n"
          "\n"
          "Options:\n"
          "  --topic T       only topic T; repeat for several [every topic]\n"
          "  --broker ID     only broker ID; repeat for several [every broker]\n"
          "  --json          every directory with its partitions, sizes in bytes\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait logdirs --topic orders\n", out);
}

/* A STRING into out (cut to cap; "" for null or past the end). */
static void get_str(cli_rd *r, char *out, size_t cap)
{
    char *s = cli_rd_str(r);
    snprintf(out, cap, "%s", s ? s : "");
    free(s);
}

static int cmp_rows(const void *x, const void *y)
{
    const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    int c = strcmp(json_string_value(json_object_get(a, "topic")),
                   json_string_value(json_object_get(b, "topic")));
    if (c)
        return c;
    return (int)(json_integer_value(json_object_get(a, "partition")) -
                 json_integer_value(json_object_get(b, "partition")));
}

/* The request body: topics null (every one) or each named topic with all its
 * partitions. */
static void build_request(const struct rd_kafka_metadata *md, const cli_list *topics,
                          uint8_t **body, size_t *len)
{
    size_t cap = 64;
    for (int i = 0; i < md->topic_cnt; i++)
        cap += strlen(md->topics[i].topic) + 8 + 4 * (size_t)md->topics[i].partition_cnt;
    uint8_t *b = malloc(cap), *p = b;
    uint32_t v;
    if (!topics->n) {
        v = htonl(UINT32_MAX); /* -1: null array */
        memcpy(p, &v, 4);
        p += 4;
    } else {
        uint8_t *count_at = p;
        p += 4;
        uint32_t count = 0;
        for (int i = 0; i < md->topic_cnt; i++) {
            const struct rd_kafka_metadata_topic *t = &md->topics[i];
            bool wanted = false;
            for (size_t k = 0; k < topics->n && !wanted; k++)
                wanted = strcmp(topics->v[k], t->topic) == 0;
            if (!wanted)
                continue;
            count++;
            uint16_t n16 = htons((uint16_t)strlen(t->topic));
            memcpy(p, &n16, 2);
            memcpy(p + 2, t->topic, strlen(t->topic));
            p += 2 + strlen(t->topic);
            v = htonl((uint32_t)t->partition_cnt);
            memcpy(p, &v, 4);
            p += 4;
            for (int k = 0; k < t->partition_cnt; k++) {
                v = htonl((uint32_t)t->partitions[k].id);
                memcpy(p, &v, 4);
                p += 4;
            }
        }
        v = htonl(count);
        memcpy(count_at, &v, 4);
    }
    *body = b;
    *len = (size_t)(p - b);
}

/* Asks one broker and appends its directories to dirs. CLI_OK or CLI_FAIL (reported
 * unless quiet). */
static int ask_broker(const struct rd_kafka_metadata_broker *br, const uint8_t *body, size_t len,
                      bool quiet, json_t *dirs)
{
    uint8_t *resp;
    size_t resp_len;
    char err[512];
    if (cli_raw_call(br->host, br->port, DESCRIBE_LOG_DIRS, 1, body, len, &resp, &resp_len, err,
                     sizeof err) != 0)
        return quiet ? CLI_FAIL
                     : cli_fail("broker %d (%s:%d): %s (does it serve DescribeLogDirs?)",
                                (int)br->id, br->host, br->port, err);
    cli_rd r = {resp, resp + resp_len, false};
    cli_rd_int(&r, 4); /* throttle_time_ms */
    int64_t ndirs = cli_rd_int(&r, 4);
    int rc = CLI_OK;
    if (ndirs == 0 && quiet)
        rc = CLI_FAIL;
    else if (ndirs == 0)
        rc = cli_fail("broker %d lists no log directory: DESCRIBE on the cluster is needed",
                      (int)br->id);
    for (int64_t d = 0; d < ndirs && !r.bad; d++) {
        int16_t error = (int16_t)cli_rd_int(&r, 2);
        char dir[4096];
        get_str(&r, dir, sizeof dir);
        json_t *parts = json_array();
        int64_t ntopics = cli_rd_int(&r, 4), total = 0;
        for (int64_t t = 0; t < ntopics && !r.bad; t++) {
            char topic[256];
            get_str(&r, topic, sizeof topic);
            int64_t np = cli_rd_int(&r, 4);
            for (int64_t p = 0; p < np && !r.bad; p++) {
                int32_t partition = (int32_t)cli_rd_int(&r, 4);
                int64_t size = cli_rd_int(&r, 8), lag = cli_rd_int(&r, 8);
                bool future = cli_rd_int(&r, 1) != 0;
                total += size;
                json_array_append_new(parts, json_pack("{s:s,s:i,s:I,s:I,s:b}", "topic", topic,
                                                       "partition", partition, "size_bytes",
                                                       (json_int_t)size, "offset_lag",
                                                       (json_int_t)lag, "future", future));
            }
        }
        json_array_append_new(
            dirs, json_pack("{s:i,s:s,s:o,s:I,s:o}", "broker", (int)br->id, "dir", dir, "error",
                            error ? json_string(rd_kafka_err2str(error)) : json_null(),
                            "size_bytes", (json_int_t)total, "partitions", parts));
        if (error)
            rc = cli_fail("broker %d, %s: %s", (int)br->id, dir, rd_kafka_err2str(error));
    }
    if (r.bad)
        rc = cli_fail("broker %d: its DescribeLogDirs answer does not parse", (int)br->id);
    free(resp);
    return rc;
}

int cli_logdirs_collect(cli_kadmin *a, const struct rd_kafka_metadata *md, const cli_list *topics,
                        const cli_list *brokers, bool quiet, json_t *dirs)
{
    static const cli_list none = {0};
    uint8_t *body;
    size_t len;
    if (cli_kafka_secured(a->c, NULL))
        return quiet ? CLI_FAIL
                     : cli_fail("strait logdirs speaks plaintext only (librdkafka 2.0.2 has no "
                                "DescribeLogDirs call, and strait's own request does not do "
                                "SASL or TLS): point --bootstrap at a plaintext listener");
    /* A broker asked for that the cluster does not have is an error, not an empty list. */
    for (size_t k = 0; brokers && k < brokers->n; k++)
        if (cli_kadmin_check_broker(md, brokers->v[k], quiet) != CLI_OK)
            return CLI_FAIL;
    build_request(md, topics ? topics : &none, &body, &len);
    int rc = CLI_OK;
    for (int i = 0; i < md->broker_cnt; i++) {
        bool wanted = !brokers || brokers->n == 0;
        for (size_t k = 0; brokers && k < brokers->n && !wanted; k++)
            wanted = atoi(brokers->v[k]) == md->brokers[i].id;
        if (wanted && ask_broker(&md->brokers[i], body, len, quiet, dirs) != CLI_OK)
            rc = CLI_FAIL;
    }
    free(body);
    return rc;
}

/* Sorts a JSON array of partition objects by topic, then partition. */
static void sort_parts(json_t *parts)
{
    size_t n = json_array_size(parts);
    json_t **items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(parts, i));
    qsort(items, n, sizeof *items, cmp_rows);
    json_array_clear(parts);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(parts, items[i]);
    free(items);
}

int cli_logdirs_main(cli_ctx *c, int argc, char **argv)
{
    enum { OPT_TOPIC = 1, OPT_BROKER };
    static const struct option longopts[] = {
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"broker", required_argument, NULL, OPT_BROKER},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {OPT_TOPIC, OPT_BROKER, 0};
    cli_list topics = {0}, brokers = {0};
    cli_kadmin a = {0};
    const struct rd_kafka_metadata *md = NULL;
    json_t *dirs = json_array();
    int rc = CLI_USAGE, opt;
    int64_t id;

    c->prog = "strait logdirs";
    c->usage = usage_logdirs;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP) {
            rc = CLI_OK;
            goto out;
        }
        if (opt == CLI_GETOPT_ERROR)
            goto out;
        if (opt == OPT_BROKER && cli_parse_int(c, "--broker", optarg, 0, INT32_MAX, &id))
            goto out;
        cli_list_add(opt == OPT_TOPIC ? &topics : &brokers, optarg);
    }
    if (optind < argc) {
        cli_usage_error(c, "unexpected argument \"%s\" (name topics with --topic)", argv[optind]);
        goto out;
    }
    rc = CLI_FAIL;
    if (cli_kadmin_open(c, &a) != CLI_OK || !(md = cli_kadmin_metadata(&a, NULL)))
        goto out;
    for (size_t k = 0; k < topics.n; k++) {
        bool found = false;
        for (int i = 0; i < md->topic_cnt && !found; i++)
            found = strcmp(md->topics[i].topic, topics.v[k]) == 0 && !md->topics[i].err;
        if (!found) {
            cli_kadmin_topic_error(topics.v[k], RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
            goto out;
        }
    }
    rc = cli_logdirs_collect(&a, md, &topics, &brokers, false, dirs);
    if (rc != CLI_OK && json_array_size(dirs) == 0)
        goto out; /* the reason is said; an empty table would only add noise */
    size_t i;
    json_t *d;
    json_array_foreach(dirs, i, d) sort_parts(json_object_get(d, "partitions"));
    if (c->json) {
        cli_print_json(dirs);
        goto out;
    }
    static const char *const head[] = {"BROKER", "DIR", "TOPIC", "PARTITION", "SIZE"};
    cli_table t;
    cli_table_init(&t, 5, head);
    json_array_foreach(dirs, i, d)
    {
        size_t k;
        json_t *p;
        char broker[16], part[16], size[32];
        snprintf(broker, sizeof broker, "%d",
                 (int)json_integer_value(json_object_get(d, "broker")));
        json_array_foreach(json_object_get(d, "partitions"), k, p)
        {
            snprintf(part, sizeof part, "%d",
                     (int)json_integer_value(json_object_get(p, "partition")));
            cli_human_bytes(json_integer_value(json_object_get(p, "size_bytes")), size,
                            sizeof size);
            const char *row[] = {broker, json_string_value(json_object_get(d, "dir")),
                                 json_string_value(json_object_get(p, "topic")), part, size};
            cli_table_row(&t, row);
        }
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
    json_array_foreach(dirs, i, d)
    {
        char size[32];
        cli_human_bytes(json_integer_value(json_object_get(d, "size_bytes")), size, sizeof size);
        char *dir = cli_safe(json_string_value(json_object_get(d, "dir")));
        printf("\nbroker %d, %s: %zu partition%s, %s\n",
               (int)json_integer_value(json_object_get(d, "broker")), dir,
               json_array_size(json_object_get(d, "partitions")),
               json_array_size(json_object_get(d, "partitions")) == 1 ? "" : "s", size);
        free(dir);
    }
out:
    json_decref(dirs);
    if (md)
        rd_kafka_metadata_destroy(md);
    cli_list_free(&topics);
    cli_list_free(&brokers);
    cli_kadmin_close(&a);
    return rc;
}
