/*
 * strait produce: the console producer. Each stdin line becomes one record (without
 * its line ending); with --key-sep the text before the first separator is the key.
 * Delivery reports are counted as they arrive; at EOF we flush and exit non-zero if
 * any record was not acknowledged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

typedef struct produce_state {
    const char *topic;
    int64_t delivered;
    int64_t failed;
} produce_state;

static void usage_produce(FILE *out)
{
    fputs("Usage: strait produce --topic T [options] < lines\n"
          "\n"
          "Sends each line of stdin as one record and reports \"produced N records\" on\n"
          "stderr at the end. Exits 1 if any record was not delivered (each failure is\n"
          "reported on stderr with its line number).\n"
          "\n"
          "Options:\n"
          "  -t, --topic T            topic to produce to (required)\n"
          "  -k, --key-sep SEP        split each line at the first SEP into key and value;\n"
          "                           a line without SEP is reported and not sent\n"
          "                           [no key: the whole line is the value]\n"
          "  -p, --partition N        send every record to partition N [chosen by the\n"
          "                           partitioner: by key hash, or spread when keyless]\n"
          "  -a, --acks A             all (or -1), 1 or 0 [all]\n"
          "  -z, --compression C      none, gzip, snappy, lz4 or zstd [none]\n",
          out);
    cli_print_kafka_options(out);
    fputs("                           strait sets message.timeout.ms=30000 (give up on a\n"
          "                           record after 30 s); -X overrides it\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n"
          "  printf 'user1:login\\nuser2:logout\\n' | \\\n"
          "      strait produce --topic events --key-sep : --acks all --compression lz4\n",
          out);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    produce_state *st = opaque;
    if (m->err) {
        st->failed++;
        char where[32] = "";
        if (m->partition >= 0)
            snprintf(where, sizeof(where), " partition %d", (int)m->partition);
        cli_fail("line %ld: not delivered to %s%s: %s", (long)(intptr_t)m->_private, st->topic,
                 where, rd_kafka_err2str(m->err));
    } else {
        st->delivered++;
    }
}

/* Queues one record, waiting for room when librdkafka's queue is full. */
static rd_kafka_resp_err_t send_record(rd_kafka_t *rk, const char *topic, int32_t partition,
                                       const char *key, size_t keylen, const char *value,
                                       size_t len, long line)
{
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key ? keylen : 0),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_OPAQUE((void *)(intptr_t)line),
            RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return e;
        rd_kafka_poll(rk, 100); /* deliveries make room */
    }
}

int cli_produce_main(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"topic", required_argument, NULL, 't'},
        {"key-sep", required_argument, NULL, 'k'},
        {"partition", required_argument, NULL, 'p'},
        {"acks", required_argument, NULL, 'a'},
        {"compression", required_argument, NULL, 'z'},
        {"property", required_argument, NULL, 'X'},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const char *const codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    const char *topic = NULL, *key_sep = NULL, *acks = "all", *compression = "none";
    int64_t partition = RD_KAFKA_PARTITION_UA;
    cli_list props = {0};
    produce_state st = {0};
    rd_kafka_t *rk = NULL;
    char *line = NULL;
    size_t cap = 0;
    int rc = CLI_USAGE, opt;
    char errstr[512];

    c->prog = "strait produce";
    c->usage = usage_produce;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "t:k:p:a:z:X:", longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case CLI_GETOPT_HELP:
            rc = CLI_OK;
            goto out;
        case 't':
            topic = optarg;
            break;
        case 'k':
            key_sep = optarg;
            if (!*key_sep) {
                cli_usage_error(c, "--key-sep must not be empty");
                goto out;
            }
            break;
        case 'p':
            if (cli_parse_int(c, "--partition", optarg, 0, INT32_MAX, &partition))
                goto out;
            break;
        case 'a':
            if (strcmp(optarg, "all") && strcmp(optarg, "-1") && strcmp(optarg, "0") &&
                strcmp(optarg, "1")) {
                cli_usage_error(c, "--acks: \"%s\" is not one of all, -1, 0, 1", optarg);
                goto out;
            }
            acks = strcmp(optarg, "-1") == 0 ? "all" : optarg;
            break;
        case 'z': {
            bool known = false;
            for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
                known |= strcmp(optarg, codecs[i]) == 0;
            if (!known) {
                cli_usage_error(c,
                                "--compression: \"%s\" is not one of none, gzip, snappy, "
                                "lz4, zstd",
                                optarg);
                goto out;
            }
            compression = optarg;
            break;
        }
        case 'X':
            if (cli_kafka_prop_add(c, &props, optarg) != 0)
                goto out;
            break;
        default: /* CLI_GETOPT_ERROR: already reported */
            goto out;
        }
    }
    if (optind < argc) {
        cli_usage_error(c, "unexpected argument \"%s\" (records come from stdin)", argv[optind]);
        goto out;
    }
    if (!topic) {
        cli_usage_error(c, "--topic is required");
        goto out;
    }

    rc = CLI_FAIL;
    const char *defaults[] = {"acks",
                              strcmp(acks, "all") == 0 ? "-1" : acks,
                              "compression.codec",
                              compression,
                              "message.timeout.ms",
                              "30000",
                              NULL};
    rd_kafka_conf_t *conf = cli_kafka_conf(c, defaults, &props);
    if (!conf)
        goto out;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &st);
    st.topic = topic;
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        cli_fail("cannot create the producer: %s", errstr);
        goto out;
    }

    long lineno = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        line[len] = '\0';
        const char *key = NULL, *value = line;
        size_t keylen = 0;
        if (key_sep) {
            char *at = memmem(line, len, key_sep, strlen(key_sep));
            if (!at) {
                st.failed++;
                cli_fail("line %ld: no key separator \"%s\" in it: not sent", lineno, key_sep);
                continue;
            }
            key = line;
            keylen = (size_t)(at - line);
            value = at + strlen(key_sep);
            len -= keylen + strlen(key_sep);
        }
        rd_kafka_resp_err_t e =
            send_record(rk, topic, (int32_t)partition, key, keylen, value, len, lineno);
        if (e) {
            st.failed++;
            cli_fail("line %ld: cannot send to %s: %s", lineno, topic, rd_kafka_err2str(e));
        }
        rd_kafka_poll(rk, 0);
    }
    /* Every queued record ends in a delivery report (at worst after message.timeout.ms),
     * so this loop ends. */
    while (rd_kafka_flush(rk, 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT)
        ;
    if (st.failed)
        fprintf(stderr, "produced %lld records, %lld failed\n", (long long)st.delivered,
                (long long)st.failed);
    else
        fprintf(stderr, "produced %lld records\n", (long long)st.delivered);
    rc = st.failed ? CLI_FAIL : CLI_OK;
out:
    if (rk)
        rd_kafka_destroy(rk);
    free(line);
    cli_list_free(&props);
    return rc;
}
