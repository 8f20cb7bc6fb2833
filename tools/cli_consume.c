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
          "Prints each record on its own line (stdout) until a stop condition,\n"
          "--max-messages or --timeout-ms is reached, or Ctrl-C; then \"consumed N\n"
          "records\" on stderr. Unprintable bytes in keys, values and headers are\n"
          "escaped (\\n \\t \\r \\0 \\\\ \\xHH), so one record is always one line.\n"
          "\n"
          "What to read:\n"
          "  -t, --topic T            topic to read (required)\n"
          "  -p, --partition N        read partition N (not with --group); repeat for\n"
          "                           several [all]\n"
          "  -g, --group G            join consumer group G and subscribe (committed\n"
          "                           offsets decide where to start) [no group: read\n"
          "                           partitions directly, commit nothing]\n"
          "Where to start (one of; not with --group, except --from-beginning):\n"
          "  -b, --from-beginning     the oldest record\n"
          "  -o, --offset O           \"beginning\", \"end\", an offset N, or -N: N records\n"
          "                           before the end of each partition [end: only new\n"
          "                           records]\n"
          "  -s, --from-time T        the first record at or after T: ISO 8601 such as\n"
          "                           2026-11-21T10:00:00Z (no zone means UTC), epoch\n"
          "                           milliseconds, or -DURATION before now (-15m, -2h)\n"
          "When to stop (any of; not with --group):\n"
          "  -e, --to-end             at the end of every partition read\n"
          "      --to-offset N        before offset N in every partition read\n"
          "      --to-time T          before the first record after T (as --from-time)\n"
          "  -n, --max-messages N     after N records [unlimited]\n"
          "  -w, --timeout-ms MS      after MS milliseconds without a record [never]\n"
          "How to print:\n"
          "  -f, --format FMT         a format string: %t topic, %p partition, %o offset,\n"
          "                           %k key, %K key length, %s value, %S value length,\n"
          "                           %h headers (k=v,...), %T timestamp (ms), %y its\n"
          "                           type, %% a percent sign; escapes \\n \\t \\0 \\xHH...\n"
          "                           (null keys and values print as nothing; %K/%S say\n"
          "                           -1) [\"%s\\n\", or \"%k<SEP>%s\\n\" with a key]\n"
          "      --print-key          print KEY<SEP>VALUE [values only]\n"
          "  -K, --key-sep SEP        the separator for keys; implies --print-key;\n"
          "                           escapes allowed, e.g. '\\t' [a tab]\n"
          "  -D, --record-sep SEP     written after each record instead of a newline\n"
          "                           (without --format) [\\n]\n"
          "      --raw                print bytes as they are, unescaped\n"
          "      --json               one JSON object per record: topic, partition,\n"
          "                           offset, timestamp, timestamp_type, key, key_length,\n"
          "                           value, value_length, headers (key_base64 /\n"
          "                           value_base64 instead for bytes that are not UTF-8)\n",
          out);
    cli_print_kafka_options(out);
    fputc('\n', out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait consume --topic events --from-beginning --to-end --print-key\n"
          "  strait consume --topic events --partition 2 --offset -10 --to-end\n"
          "  strait consume --topic events --from-time -1h --to-end \\\n"
          "      --format '%p:%o %T %h %k=%s\\n'\n"
          "  strait consume --topic events --from-beginning --to-end --json\n"
          "  strait consume --topic events --group audit\n",
          out);
}

typedef struct consume_opts {
    const char *topic;
    const char *group;
    const char *format;
    char key_sep[64];
    size_t key_sep_len;
    char record_sep[64];
    size_t record_sep_len;
    bool print_key, raw;
    int64_t partitions[256]; /* --partition, in order given */
    size_t npartitions;
    int64_t offset;        /* RD_KAFKA_OFFSET_END / _BEGINNING / TAIL(n) or an offset */
    const char *start_opt; /* the option that set the start, for messages */
    int64_t from_time;     /* -1: none */
    bool to_end;
    int64_t to_offset;    /* -1: none */
    int64_t to_time;      /* -1: none */
    int64_t max_messages; /* 0: unlimited */
    int64_t timeout_ms;   /* 0: wait forever */
    cli_list props;
} consume_opts;

enum { OPT_PRINT_KEY = 300, OPT_TO_OFFSET, OPT_TO_TIME, OPT_RAW };

/* A separator argument with its escapes resolved. */
static int sep_arg(cli_ctx *c, const char *opt, const char *arg, char *out, size_t cap, size_t *len)
{
    char why[128];
    if (cli_unescape(arg, out, cap, len, why, sizeof why) != 0)
        return cli_usage_error(c, "%s \"%s\": %s", opt, arg, why);
    if (*len == 0)
        return cli_usage_error(c, "%s must not be empty", opt);
    return CLI_OK;
}

/* Sets the start position; a second one is a usage error. */
static int set_start(cli_ctx *c, consume_opts *o, const char *opt)
{
    if (o->start_opt && strcmp(o->start_opt, opt) != 0)
        return cli_usage_error(c, "give one start: %s and %s contradict each other", o->start_opt,
                               opt);
    o->start_opt = opt;
    return CLI_OK;
}

static int time_arg(cli_ctx *c, const char *opt, const char *arg, int64_t *ms)
{
    if (cli_parse_time(arg, st_wall_ms(), ms) != 0)
        return cli_usage_error(c,
                               "%s \"%s\": expected ISO 8601 (2026-11-21T10:00:00Z), epoch "
                               "milliseconds, or -DURATION such as -15m",
                               opt, arg);
    return CLI_OK;
}

static int parse(cli_ctx *c, int argc, char **argv, consume_opts *o, bool *help)
{
    static const struct option longopts[] = {
        {"topic", required_argument, NULL, 't'},
        {"from-beginning", no_argument, NULL, 'b'},
        {"group", required_argument, NULL, 'g'},
        {"partition", required_argument, NULL, 'p'},
        {"offset", required_argument, NULL, 'o'},
        {"from-time", required_argument, NULL, 's'},
        {"to-end", no_argument, NULL, 'e'},
        {"to-offset", required_argument, NULL, OPT_TO_OFFSET},
        {"to-time", required_argument, NULL, OPT_TO_TIME},
        {"max-messages", required_argument, NULL, 'n'},
        {"timeout-ms", required_argument, NULL, 'w'},
        {"format", required_argument, NULL, 'f'},
        {"print-key", no_argument, NULL, OPT_PRINT_KEY},
        {"key-sep", required_argument, NULL, 'K'},
        {"record-sep", required_argument, NULL, 'D'},
        {"raw", no_argument, NULL, OPT_RAW},
        {"property", required_argument, NULL, 'X'},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {'p', 'X', 0};
    int opt;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "t:bg:p:o:s:en:w:f:K:D:X:", longopts)) !=
           CLI_GETOPT_END) {
        switch (opt) {
        case CLI_GETOPT_HELP:
            *help = true;
            return 0;
        case 't':
            o->topic = optarg;
            break;
        case 'b':
            if (set_start(c, o, "--from-beginning"))
                return CLI_USAGE;
            o->offset = RD_KAFKA_OFFSET_BEGINNING;
            break;
        case 'g':
            o->group = optarg;
            if (!*o->group)
                return cli_usage_error(c, "--group must not be empty");
            break;
        case 'p':
            if (o->npartitions == sizeof o->partitions / sizeof o->partitions[0])
                return cli_usage_error(c, "--partition: at most %zu partitions", o->npartitions);
            if (cli_parse_int(c, "--partition", optarg, 0, INT32_MAX,
                              &o->partitions[o->npartitions]))
                return CLI_USAGE;
            o->npartitions++;
            break;
        case 'o':
            if (set_start(c, o, "--offset"))
                return CLI_USAGE;
            if (strcmp(optarg, "beginning") == 0) {
                o->offset = RD_KAFKA_OFFSET_BEGINNING;
            } else if (strcmp(optarg, "end") == 0) {
                o->offset = RD_KAFKA_OFFSET_END;
            } else if (optarg[0] == '-') {
                int64_t n;
                if (cli_parse_int(c, "--offset", optarg + 1, 1, INT32_MAX, &n))
                    return CLI_USAGE;
                o->offset = RD_KAFKA_OFFSET_TAIL(n);
            } else if (cli_parse_int(c, "--offset", optarg, 0, INT64_MAX, &o->offset)) {
                return CLI_USAGE;
            }
            break;
        case 's':
            if (set_start(c, o, "--from-time") || time_arg(c, "--from-time", optarg, &o->from_time))
                return CLI_USAGE;
            break;
        case 'e':
            o->to_end = true;
            break;
        case OPT_TO_OFFSET:
            if (cli_parse_int(c, "--to-offset", optarg, 0, INT64_MAX, &o->to_offset))
                return CLI_USAGE;
            break;
        case OPT_TO_TIME:
            if (time_arg(c, "--to-time", optarg, &o->to_time))
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
        case 'f':
            o->format = optarg;
            break;
        case OPT_PRINT_KEY:
            o->print_key = true;
            break;
        case 'K':
            if (sep_arg(c, "--key-sep", optarg, o->key_sep, sizeof o->key_sep, &o->key_sep_len))
                return CLI_USAGE;
            o->print_key = true;
            break;
        case 'D':
            if (sep_arg(c, "--record-sep", optarg, o->record_sep, sizeof o->record_sep,
                        &o->record_sep_len))
                return CLI_USAGE;
            break;
        case OPT_RAW:
            o->raw = true;
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
    if (o->group && o->npartitions)
        return cli_usage_error(c, "--partition cannot be combined with --group (the group "
                                  "assigns partitions)");
    if (o->group && o->start_opt && strcmp(o->start_opt, "--from-beginning") != 0)
        return cli_usage_error(c,
                               "%s cannot be combined with --group (committed offsets decide; "
                               "use --from-beginning for a new group)",
                               o->start_opt);
    if (o->group && (o->to_end || o->to_offset >= 0 || o->to_time >= 0))
        return cli_usage_error(c, "--to-end, --to-offset and --to-time cannot be combined with "
                                  "--group (the group's partitions change under it): use "
                                  "--max-messages or --timeout-ms");
    if (c->json && (o->format || o->print_key || o->record_sep_len || o->raw))
        return cli_usage_error(c, "--json prints whole records: it cannot be combined with "
                                  "--format, --print-key, --key-sep, --record-sep or --raw");
    if (o->format && (o->print_key || o->record_sep_len))
        return cli_usage_error(c, "--format says what to print: use %%k in it rather than "
                                  "--print-key/--key-sep, and end it with the separator you "
                                  "want rather than --record-sep");
    return 0;
}

/* Where partition p starts: the --offset/--from-beginning position, or the first
 * offset at or after --from-time (the end when no record is that late). */
static int start_offsets(rd_kafka_t *rk, const consume_opts *o,
                         rd_kafka_topic_partition_list_t *list)
{
    if (o->from_time < 0) {
        for (int i = 0; i < list->cnt; i++)
            list->elems[i].offset = o->offset;
        return CLI_OK;
    }
    for (int i = 0; i < list->cnt; i++)
        list->elems[i].offset = o->from_time;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, list, 10000);
    if (e)
        return cli_fail("cannot look up offsets for --from-time in \"%s\": %s", o->topic,
                        rd_kafka_err2str(e));
    for (int i = 0; i < list->cnt; i++) {
        if (list->elems[i].err)
            return cli_fail("%s [%d]: cannot look up the offset for --from-time: %s", o->topic,
                            (int)list->elems[i].partition, rd_kafka_err2str(list->elems[i].err));
        if (list->elems[i].offset < 0)
            list->elems[i].offset = RD_KAFKA_OFFSET_END; /* no record that late yet */
    }
    return CLI_OK;
}

/* Assigns the partitions to read; *npartitions is the topic's partition count. Returns
 * CLI_OK or CLI_FAIL (reported). */
static int assign_partitions(rd_kafka_t *rk, cli_ctx *c, const consume_opts *o, int *npartitions)
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
    *npartitions = t->partition_cnt;
    for (size_t i = 0; i < o->npartitions; i++)
        if (o->partitions[i] >= t->partition_cnt) {
            cli_fail("topic \"%s\" has %d partition%s (0..%d): there is no partition %lld",
                     o->topic, t->partition_cnt, t->partition_cnt == 1 ? "" : "s",
                     t->partition_cnt - 1, (long long)o->partitions[i]);
            goto out;
        }
    list = rd_kafka_topic_partition_list_new(t->partition_cnt);
    for (int i = 0; i < t->partition_cnt; i++) {
        int32_t id = t->partitions[i].id;
        bool wanted = o->npartitions == 0;
        for (size_t k = 0; k < o->npartitions && !wanted; k++)
            wanted = o->partitions[k] == id;
        if (wanted)
            rd_kafka_topic_partition_list_add(list, o->topic, id);
    }
    if (start_offsets(rk, o, list) != CLI_OK)
        goto out;
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
static int check_group_support(cli_ctx *c, const consume_opts *o)
{
    /* OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup,
     * SyncGroup */
    static const int16_t keys[] = {8, 9, 10, 11, 12, 13, 14};
    static const char *const names[] = {
        [8] = "OffsetCommit", [9] = "OffsetFetch", [10] = "FindCoordinator", [11] = "JoinGroup",
        [12] = "Heartbeat",   [13] = "LeaveGroup", [14] = "SyncGroup"};
    char err[512];
    int16_t missing = -1;
    if (cli_kafka_secured(c, &o->props))
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

/* Which assigned partitions have met a stop condition (--to-*), when one is set. */
typedef struct stops {
    bool *done; /* by partition id */
    int npartitions;
    int remaining; /* assigned and not done */
} stops;

static void stop_partition(stops *st, int32_t p)
{
    if (p >= 0 && p < st->npartitions && !st->done[p]) {
        st->done[p] = true;
        st->remaining--;
    }
}

static bool past_stop(const consume_opts *o, const rd_kafka_message_t *m)
{
    if (o->to_offset >= 0 && m->offset >= o->to_offset)
        return true;
    rd_kafka_timestamp_type_t type;
    int64_t ts = rd_kafka_message_timestamp(m, &type);
    return o->to_time >= 0 && ts > o->to_time;
}

int cli_consume_main(cli_ctx *c, int argc, char **argv)
{
    consume_opts o = {.key_sep = "\t",
                      .key_sep_len = 1,
                      .offset = RD_KAFKA_OFFSET_END,
                      .from_time = -1,
                      .to_offset = -1,
                      .to_time = -1};
    rd_kafka_t *rk = NULL;
    cli_format *fmt = NULL;
    stops st = {0};
    bool help = false;
    int64_t consumed = 0;
    char errstr[512];

    c->prog = "strait consume";
    c->usage = usage_consume;
    int rc = parse(c, argc, argv, &o, &help);
    if (rc || help)
        goto out;
    if (!o.record_sep_len) {
        o.record_sep[0] = '\n';
        o.record_sep_len = 1;
    }
    if (!c->json) {
        /* Without --format: "%s" or "%k<SEP>%s", then the record separator. Separators are
         * already unescaped, so a '%' or '\' in them is escaped again for the parser. */
        char spec[512], why[256];
        size_t at = 0;
        if (!o.format) {
            if (o.print_key) {
                at += (size_t)snprintf(spec + at, sizeof spec - at, "%%k");
                for (size_t i = 0; i < o.key_sep_len; i++)
                    at += (size_t)snprintf(spec + at, sizeof spec - at, "\\x%02x",
                                           (unsigned char)o.key_sep[i]);
            }
            at += (size_t)snprintf(spec + at, sizeof spec - at, "%%s");
            for (size_t i = 0; i < o.record_sep_len; i++)
                at += (size_t)snprintf(spec + at, sizeof spec - at, "\\x%02x",
                                       (unsigned char)o.record_sep[i]);
        }
        fmt = cli_format_new(o.format ? o.format : spec, o.raw, why, sizeof why);
        if (!fmt) {
            rc = cli_usage_error(c, "--format \"%s\": %s", o.format ? o.format : spec, why);
            goto out;
        }
    }
    rc = CLI_FAIL;
    if (o.group && check_group_support(c, &o) != CLI_OK)
        goto out;

    /* Numbered offsets outside the log are an error to report, not a silent jump. */
    const char *reset = o.offset >= 0                           ? "error"
                        : o.offset == RD_KAFKA_OFFSET_BEGINNING ? "earliest"
                                                                : "latest";
    const char *eof = o.to_end ? "true" : "false";
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
                                     "enable.partition.eof",
                                     eof,
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
    } else {
        int n = 0;
        if (assign_partitions(rk, c, &o, &n) != CLI_OK)
            goto out;
        st.npartitions = n;
        st.done = calloc(n > 0 ? (size_t)n : 1, sizeof *st.done);
        st.remaining = o.npartitions ? (int)o.npartitions : n;
        for (size_t i = 0; i < o.npartitions; i++) /* a partition named twice counts once */
            for (size_t k = 0; k < i; k++)
                if (o.partitions[k] == o.partitions[i]) {
                    st.remaining--;
                    break;
                }
    }
    bool stopping = o.to_end || o.to_offset >= 0 || o.to_time >= 0;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int64_t idle_since = st_mono_ms();
    rc = CLI_OK;
    while (!stop_requested && (o.max_messages == 0 || consumed < o.max_messages) &&
           !(stopping && st.remaining <= 0)) {
        if (o.timeout_ms > 0 && st_mono_ms() - idle_since >= o.timeout_ms)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (o.to_end)
                stop_partition(&st, m->partition);
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
        } else if (stopping &&
                   (m->partition < 0 || m->partition >= st.npartitions || st.done[m->partition])) {
            /* a partition already stopped: what it still had in flight is dropped */
        } else if (stopping && past_stop(&o, m)) {
            stop_partition(&st, m->partition);
            /* Nothing further of it is wanted: stop fetching it. */
            rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(one, o.topic, m->partition);
            rd_kafka_pause_partitions(rk, one);
            rd_kafka_topic_partition_list_destroy(one);
        } else {
            if (c->json)
                cli_record_json(stdout, m);
            else
                cli_format_print(fmt, stdout, m);
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
    free(st.done);
    cli_format_free(fmt);
    cli_list_free(&o.props);
    return help ? CLI_OK : rc;
}
