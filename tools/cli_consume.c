/*
 * strait consume: the console consumer. Without --group it reads partitions directly
 * (assign() on every partition the metadata lists, or on --partition), so it needs
 * nothing from the broker but Metadata, ListOffsets and Fetch. With --group it
 * subscribes; the broker must then serve the consumer group APIs, which we check up
 * front (see cli_kafka.c for why).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "tools/cli.h"

/* Set by SIGINT/SIGTERM. A signal handler can reach nothing else, so this is the one
 * file-scope variable of the tool. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = 1;
}

static void usage_consume(FILE *out)
{
    fputs("Usage: strait consume --topic T [options]\n"
          "\n"
          "Prints each record's value on its own line (stdout) until --max-messages or\n"
          "--timeout-ms is reached, or Ctrl-C; then \"consumed N records\" on stderr.\n"
          "\n"
          "Options:\n"
          "  -t, --topic T            topic to read (required)\n"
          "  -b, --from-beginning     start at the oldest record [start at the end: only\n"
          "                           new records]\n"
          "  -g, --group G            join consumer group G and subscribe (committed\n"
          "                           offsets decide where to start) [no group: read\n"
          "                           partitions directly, commit nothing]\n"
          "  -p, --partition N        read only partition N (not with --group) [all]\n"
          "  -o, --offset O           start at offset O in every partition read, or\n"
          "                           \"beginning\" / \"end\" (not with --group) [end]\n"
          "  -n, --max-messages N     exit 0 after N records [unlimited]\n"
          "  -w, --timeout-ms MS      exit 0 after MS milliseconds without a record\n"
          "                           [wait forever]\n"
          "  -K, --print-key          print KEY<SEP>VALUE (a missing key prints as null)\n"
          "                           [values only]\n"
          "  -k, --key-sep SEP        separator for --print-key [a tab]\n",
          out);
    cli_print_kafka_options(out);
    fputc('\n', out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait consume --topic events --from-beginning --max-messages 10 --print-key\n"
          "  strait consume --topic events --partition 2 --offset 1000 --timeout-ms 5000\n"
          "  strait consume --topic events --group audit\n",
          out);
}

typedef struct consume_opts {
    const char *topic;
    const char *group;
    const char *key_sep;
    bool from_beginning;
    bool print_key;
    int64_t partition; /* -1: all */
    int64_t offset;    /* RD_KAFKA_OFFSET_END / _BEGINNING or an offset */
    bool offset_given;
    int64_t max_messages; /* 0: unlimited */
    int64_t timeout_ms;   /* 0: wait forever */
    cli_list props;
} consume_opts;

static int parse(cli_ctx *c, int argc, char **argv, consume_opts *o, bool *help)
{
    static const struct option longopts[] = {
        {"topic", required_argument, NULL, 't'},
        {"from-beginning", no_argument, NULL, 'b'},
        {"group", required_argument, NULL, 'g'},
        {"partition", required_argument, NULL, 'p'},
        {"offset", required_argument, NULL, 'o'},
        {"max-messages", required_argument, NULL, 'n'},
        {"timeout-ms", required_argument, NULL, 'w'},
        {"print-key", no_argument, NULL, 'K'},
        {"key-sep", required_argument, NULL, 'k'},
        {"property", required_argument, NULL, 'X'},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    int opt;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "t:bg:p:o:n:w:Kk:X:", longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case CLI_GETOPT_HELP:
            *help = true;
            return 0;
        case 't':
            o->topic = optarg;
            break;
        case 'b':
            o->from_beginning = true;
            break;
        case 'g':
            o->group = optarg;
            if (!*o->group)
                return cli_usage_error(c, "--group must not be empty");
            break;
        case 'p':
            if (cli_parse_int(c, "--partition", optarg, 0, INT32_MAX, &o->partition))
                return CLI_USAGE;
            break;
        case 'o':
            o->offset_given = true;
            if (strcmp(optarg, "beginning") == 0)
                o->offset = RD_KAFKA_OFFSET_BEGINNING;
            else if (strcmp(optarg, "end") == 0)
                o->offset = RD_KAFKA_OFFSET_END;
            else if (cli_parse_int(c, "--offset", optarg, 0, INT64_MAX, &o->offset))
                return CLI_USAGE;
            break;
        case 'n':
            if (cli_parse_int(c, "--max-messages", optarg, 1, INT64_MAX, &o->max_messages))
                return CLI_USAGE;
            break;
        case 'w':
            if (cli_parse_int(c, "--timeout-ms", optarg, 1, INT32_MAX, &o->timeout_ms))
                return CLI_USAGE;
            break;
        case 'K':
            o->print_key = true;
            break;
        case 'k':
            o->key_sep = optarg;
            break;
        case 'X':
            if (cli_kafka_prop_add(c, &o->props, optarg) != 0)
                return CLI_USAGE;
            break;
        default: /* CLI_GETOPT_ERROR: already reported */
            return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    if (!o->topic)
        return cli_usage_error(c, "--topic is required");
    if (o->group && o->partition >= 0)
        return cli_usage_error(c, "--partition cannot be combined with --group (the group "
                                  "assigns partitions)");
    if (o->group && o->offset_given)
        return cli_usage_error(c, "--offset cannot be combined with --group (committed offsets "
                                  "decide; use --from-beginning for a new group)");
    if (o->from_beginning && o->offset_given)
        return cli_usage_error(c, "give --from-beginning or --offset, not both");
    if (o->from_beginning)
        o->offset = RD_KAFKA_OFFSET_BEGINNING;
    return 0;
}

/* Assigns the partitions to read. Returns CLI_OK or CLI_FAIL (reported). */
static int assign_partitions(rd_kafka_t *rk, const cli_ctx *c, const consume_opts *o)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);
    rd_kafka_topic_partition_list_t *list = NULL;
    int rc = CLI_FAIL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (e) {
        cli_fail("cannot get metadata for topic \"%s\" from %s: %s", o->topic, c->bootstrap,
                 rd_kafka_err2str(e));
        goto out;
    }
    const struct rd_kafka_metadata_topic *t = md->topic_cnt == 1 ? &md->topics[0] : NULL;
    if (!t || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        cli_fail("topic \"%s\" does not exist (create it with: strait topics create %s)", o->topic,
                 o->topic);
        goto out;
    }
    if (t->err) {
        cli_fail("topic \"%s\": %s", o->topic, rd_kafka_err2str(t->err));
        goto out;
    }
    if (o->partition >= t->partition_cnt) {
        cli_fail("topic \"%s\" has %d partition%s (0..%d): there is no partition %lld", o->topic,
                 t->partition_cnt, t->partition_cnt == 1 ? "" : "s", t->partition_cnt - 1,
                 (long long)o->partition);
        goto out;
    }
    list = rd_kafka_topic_partition_list_new(t->partition_cnt);
    for (int i = 0; i < t->partition_cnt; i++) {
        int32_t id = t->partitions[i].id;
        if (o->partition >= 0 && id != o->partition)
            continue;
        rd_kafka_topic_partition_list_add(list, o->topic, id)->offset = o->offset;
    }
    e = rd_kafka_assign(rk, list);
    if (e) {
        cli_fail("cannot assign partitions of \"%s\": %s", o->topic, rd_kafka_err2str(e));
        goto out;
    }
    rc = CLI_OK;
out:
    if (list)
        rd_kafka_topic_partition_list_destroy(list);
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

/* Checks that the broker serves what a group member needs. CLI_OK or CLI_FAIL. */
static int check_group_support(const cli_ctx *c, const consume_opts *o)
{
    /* OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup,
     * SyncGroup */
    static const int16_t keys[] = {8, 9, 10, 11, 12, 13, 14};
    static const char *const names[] = {
        [8] = "OffsetCommit", [9] = "OffsetFetch", [10] = "FindCoordinator", [11] = "JoinGroup",
        [12] = "Heartbeat",   [13] = "LeaveGroup", [14] = "SyncGroup"};
    char err[512];
    int16_t missing = -1;
    if (cli_kafka_secured(&o->props))
        return CLI_OK; /* the probe speaks plaintext only: let librdkafka find out */
    int r = cli_broker_supports(c->bootstrap, keys, sizeof(keys) / sizeof(keys[0]), &missing, err,
                                sizeof(err));
    if (r < 0)
        return cli_fail("cannot reach the broker: %s", err);
    if (r == 0)
        return cli_fail("the broker at %s does not support consumer groups (it does not serve "
                        "%s): run without --group to read partitions directly",
                        c->bootstrap, names[missing]);
    return CLI_OK;
}

/* Errors that will not go away by waiting. */
static bool is_fatal(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        return true;
    default:
        return false;
    }
}

static void print_record(const rd_kafka_message_t *m, const consume_opts *o)
{
    if (o->print_key) {
        if (m->key)
            fwrite(m->key, 1, m->key_len, stdout);
        else
            fputs("null", stdout);
        fputs(o->key_sep, stdout);
    }
    if (m->payload)
        fwrite(m->payload, 1, m->len, stdout);
    fputc('\n', stdout);
}

int cli_consume_main(cli_ctx *c, int argc, char **argv)
{
    consume_opts o = {.key_sep = "\t", .partition = -1, .offset = RD_KAFKA_OFFSET_END};
    rd_kafka_t *rk = NULL;
    bool help = false;
    int64_t consumed = 0;
    char errstr[512];

    c->prog = "strait consume";
    c->usage = usage_consume;
    int rc = parse(c, argc, argv, &o, &help);
    if (rc || help)
        goto out;
    rc = CLI_FAIL;
    if (o.group && check_group_support(c, &o) != CLI_OK)
        goto out;

    /* Numbered offsets outside the log are an error to report, not a silent jump. */
    const char *reset = o.offset_given && o.offset >= 0         ? "error"
                        : o.offset == RD_KAFKA_OFFSET_BEGINNING ? "earliest"
                                                                : "latest";
    const char *group_defaults[] = {"group.id", o.group, "auto.offset.reset", reset, NULL};
    /* librdkafka's assign() needs a group.id even though nothing is joined or committed
     * (the group is never used: every partition gets an explicit start offset). */
    const char *direct_defaults[] = {"group.id",
                                     "strait-console",
                                     "enable.auto.commit",
                                     "false",
                                     "enable.auto.offset.store",
                                     "false",
                                     "auto.offset.reset",
                                     reset,
                                     NULL};
    rd_kafka_conf_t *conf = cli_kafka_conf(c, o.group ? group_defaults : direct_defaults, &o.props);
    if (!conf)
        goto out;
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        cli_fail("cannot create the consumer: %s", errstr);
        goto out;
    }
    rd_kafka_poll_set_consumer(rk);

    if (o.group) {
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, o.topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, sub);
        rd_kafka_topic_partition_list_destroy(sub);
        if (e) {
            cli_fail("cannot subscribe to \"%s\": %s", o.topic, rd_kafka_err2str(e));
            goto out;
        }
    } else if (assign_partitions(rk, c, &o) != CLI_OK) {
        goto out;
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int64_t idle_since = st_mono_ms();
    rc = CLI_OK;
    while (!stop_requested && (o.max_messages == 0 || consumed < o.max_messages)) {
        if (o.timeout_ms > 0 && st_mono_ms() - idle_since >= o.timeout_ms)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* not an error: caught up */
        } else if (m->err) {
            if (m->rkt)
                cli_fail("%s [%d]: %s", rd_kafka_topic_name(m->rkt), (int)m->partition,
                         rd_kafka_message_errstr(m));
            else
                cli_fail("%s", rd_kafka_message_errstr(m));
            if (is_fatal(m->err)) {
                rc = CLI_FAIL;
                stop_requested = 1;
            }
        } else {
            print_record(m, &o);
            consumed++;
            idle_since = st_mono_ms();
        }
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    fprintf(stderr, "consumed %lld records\n", (long long)consumed);
out:
    if (rk) {
        rd_kafka_consumer_close(rk); /* leaves the group, commits what auto-commit owes */
        rd_kafka_destroy(rk);
    }
    cli_list_free(&o.props);
    return help ? CLI_OK : rc;
}
