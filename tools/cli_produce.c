/*
 * strait produce: the console producer. Records come from stdin (or --file), one per
 * line or per --record-sep; with --key-sep the text before the first separator is the
 * key. --header adds headers to every record. Delivery reports are counted as they
 * arrive; at the end we flush and exit non-zero if any record was not acknowledged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

#define SEP_MAX     64
#define HEADERS_MAX 64

typedef struct produce_state {
    const char *topic;
    int64_t delivered;
    int64_t failed;
} produce_state;

static void usage_produce(FILE *out)
{
    fputs("Usage: strait produce --topic T [options] < records\n"
          "\n"
          "Sends each line of stdin (or of --file) as one record and reports \"produced\n"
          "N records\" on stderr at the end. Exits 1 if any record was not delivered\n"
          "(each failure is reported on stderr with its record number).\n"
          "\n"
          "Options:\n"
          "  -t, --topic T            topic to produce to (required)\n"
          "  -K, --key-sep SEP        split each record at the first SEP into key and\n"
          "                           value; a record without SEP is reported and not sent\n"
          "                           [no key: the whole record is the value]\n"
          "  -D, --record-sep SEP     records are separated by SEP instead of newlines\n"
          "                           (a trailing \\r is then kept) [\\n]\n"
          "                           SEP may use the escapes \\t \\n \\r \\0 \\\\ \\xHH,\n"
          "                           e.g. --key-sep '\\t'\n"
          "  -H, --header K=V         a header on every record; repeat for several\n"
          "                           (V may use the same escapes) [none]\n"
          "  -p, --partition N        send every record to partition N [chosen by the\n"
          "                           partitioner: by key hash, or spread when keyless]\n"
          "      --file PATH          read records from PATH instead of stdin\n"
          "  -a, --acks A             all (or -1), 1 or 0 [all]\n"
          "  -z, --compression C      none, gzip, snappy, lz4 or zstd [none]\n"
          "      --json               print the summary as JSON on stdout:\n"
          "                           {\"produced\": N, \"failed\": M}\n",
          out);
    cli_print_kafka_options(out);
    fputs("                           strait sets message.timeout.ms=30000 (give up on a\n"
          "                           record after 30 s); -X overrides it\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  printf 'k1:hello\\nk2:world\\n' | strait produce --topic events --key-sep :\n"
          "  strait produce --topic events --key-sep '\\t' --header source=import \\\n"
          "      --file events.tsv --acks all --compression lz4\n",
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
        cli_fail("record %ld: not delivered to %s%s: %s", (long)(intptr_t)m->_private, st->topic,
                 where, rd_kafka_err2str(m->err));
    } else {
        st->delivered++;
    }
}

typedef struct header_arg {
    char *name;  /* owned */
    char *value; /* owned, may hold NULs */
    size_t value_len;
} header_arg;

/* Queues one record, waiting for room when librdkafka's queue is full. */
static rd_kafka_resp_err_t send_record(rd_kafka_t *rk, const char *topic, int32_t partition,
                                       const char *key, size_t keylen, const char *value,
                                       size_t len, const header_arg *headers, size_t nheaders,
                                       long recno)
{
    for (;;) {
        rd_kafka_headers_t *hdrs = NULL;
        if (nheaders) {
            hdrs = rd_kafka_headers_new(nheaders);
            for (size_t i = 0; i < nheaders; i++)
                rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value,
                                    (ssize_t)headers[i].value_len);
        }
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key ? keylen : 0),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_HEADERS(hdrs),
            RD_KAFKA_V_OPAQUE((void *)(intptr_t)recno), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return e; /* librdkafka owns hdrs now */
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return e;
        rd_kafka_poll(rk, 100); /* deliveries make room */
    }
}

/* A separator argument with its escapes resolved. */
static int sep_arg(cli_ctx *c, const char *opt, const char *arg, char *out, size_t *len)
{
    char why[128];
    if (cli_unescape(arg, out, SEP_MAX, len, why, sizeof why) != 0)
        return cli_usage_error(c, "%s \"%s\": %s", opt, arg, why);
    if (*len == 0)
        return cli_usage_error(c, "%s must not be empty", opt);
    return CLI_OK;
}

static int header_opt(cli_ctx *c, const char *arg, header_arg *h)
{
    const char *eq = strchr(arg, '=');
    char why[128];
    if (!eq || eq == arg)
        return cli_usage_error(c, "--header \"%s\": expected NAME=VALUE, e.g. --header source=web",
                               arg);
    h->name = strndup(arg, (size_t)(eq - arg));
    h->value = malloc(strlen(eq + 1) + 1);
    if (!h->name || !h->value ||
        cli_unescape(eq + 1, h->value, strlen(eq + 1) + 1, &h->value_len, why, sizeof why) != 0)
        return cli_usage_error(c, "--header \"%s\": %s", arg, h->name ? why : "out of memory");
    return CLI_OK;
}

/* Reads the next record (up to sep) into *buf. Returns its length, or -1 at the end. */
static ssize_t next_record(FILE *in, const char *sep, size_t seplen, char **buf, size_t *cap)
{
    if (seplen == 1) {
        ssize_t n = getdelim(buf, cap, (unsigned char)sep[0], in);
        if (n < 0)
            return -1;
        if (n > 0 && (*buf)[n - 1] == sep[0])
            n--;
        if (sep[0] == '\n' && n > 0 && (*buf)[n - 1] == '\r')
            n--; /* CRLF text */
        return n;
    }
    /* A longer separator: read byte by byte until it is complete. */
    size_t n = 0;
    int ch;
    bool any = false;
    while ((ch = getc(in)) != EOF) {
        any = true;
        if (n + 1 >= *cap) {
            size_t grown = *cap ? *cap * 2 : 256;
            char *p = realloc(*buf, grown);
            if (!p)
                return -1;
            *buf = p;
            *cap = grown;
        }
        (*buf)[n++] = (char)ch;
        if (n >= seplen && memcmp(*buf + n - seplen, sep, seplen) == 0)
            return (ssize_t)(n - seplen);
    }
    return any ? (ssize_t)n : -1;
}

int cli_produce_main(cli_ctx *c, int argc, char **argv)
{
    enum { OPT_FILE = 300 };
    static const struct option longopts[] = {
        {"topic", required_argument, NULL, 't'},
        {"key-sep", required_argument, NULL, 'K'},
        {"record-sep", required_argument, NULL, 'D'},
        {"header", required_argument, NULL, 'H'},
        {"partition", required_argument, NULL, 'p'},
        {"file", required_argument, NULL, OPT_FILE},
        {"acks", required_argument, NULL, 'a'},
        {"compression", required_argument, NULL, 'z'},
        {"property", required_argument, NULL, 'X'},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {'H', 'X', 0};
    static const char *const codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    const char *topic = NULL, *acks = "all", *compression = "none", *path = NULL;
    char key_sep[SEP_MAX] = "", rec_sep[SEP_MAX] = "\n";
    size_t key_sep_len = 0, rec_sep_len = 1, nheaders = 0;
    header_arg headers[HEADERS_MAX] = {{0}};
    int64_t partition = RD_KAFKA_PARTITION_UA;
    cli_list props = {0};
    produce_state st = {0};
    rd_kafka_t *rk = NULL;
    FILE *in = stdin;
    char *rec = NULL;
    size_t cap = 0;
    int rc = CLI_USAGE, opt;
    char errstr[512];

    c->prog = "strait produce";
    c->usage = usage_produce;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "t:K:D:H:p:a:z:X:", longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case CLI_GETOPT_HELP:
            rc = CLI_OK;
            goto out;
        case 't':
            topic = optarg;
            break;
        case 'K':
            if (sep_arg(c, "--key-sep", optarg, key_sep, &key_sep_len))
                goto out;
            break;
        case 'D':
            if (sep_arg(c, "--record-sep", optarg, rec_sep, &rec_sep_len))
                goto out;
            break;
        case 'H':
            if (nheaders == HEADERS_MAX) {
                cli_usage_error(c, "--header: at most %d headers", HEADERS_MAX);
                goto out;
            }
            if (header_opt(c, optarg, &headers[nheaders++]))
                goto out;
            break;
        case 'p':
            if (cli_parse_int(c, "--partition", optarg, 0, INT32_MAX, &partition))
                goto out;
            break;
        case OPT_FILE:
            path = optarg;
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
        cli_usage_error(c, "unexpected argument \"%s\" (records come from stdin or --file)",
                        argv[optind]);
        goto out;
    }
    if (!topic) {
        cli_usage_error(c, "--topic is required");
        goto out;
    }
    if (key_sep_len && rec_sep_len == key_sep_len && memcmp(key_sep, rec_sep, key_sep_len) == 0) {
        cli_usage_error(c, "--key-sep and --record-sep are the same: a record could not hold "
                           "its key");
        goto out;
    }

    rc = CLI_FAIL;
    if (path && !(in = fopen(path, "rb"))) {
        cli_fail("cannot read --file %s: %s", path, strerror(errno));
        in = stdin;
        goto out;
    }
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

    long recno = 0;
    ssize_t n;
    while ((n = next_record(in, rec_sep, rec_sep_len, &rec, &cap)) >= 0) {
        recno++;
        size_t len = (size_t)n;
        const char *key = NULL, *value = rec ? rec : "";
        size_t keylen = 0;
        if (key_sep_len) {
            char *at = memmem(rec, len, key_sep, key_sep_len);
            if (!at) {
                st.failed++;
                fprintf(stderr, "strait: record %ld: no key separator \"", recno);
                cli_write_escaped(stderr, key_sep, key_sep_len);
                fputs("\" in it: not sent\n", stderr);
                continue;
            }
            key = rec;
            keylen = (size_t)(at - rec);
            value = at + key_sep_len;
            len -= keylen + key_sep_len;
        }
        rd_kafka_resp_err_t e = send_record(rk, topic, (int32_t)partition, key, keylen, value, len,
                                            headers, nheaders, recno);
        if (e) {
            st.failed++;
            cli_fail("record %ld: cannot send to %s: %s", recno, topic, rd_kafka_err2str(e));
        }
        rd_kafka_poll(rk, 0);
    }
    if (ferror(in))
        cli_fail("reading %s failed: %s", path ? path : "stdin", strerror(errno));
    /* Every queued record ends in a delivery report (at worst after message.timeout.ms),
     * so this loop ends. */
    while (rd_kafka_flush(rk, 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT)
        ;
    if (c->json)
        printf("{\"produced\": %lld, \"failed\": %lld}\n", (long long)st.delivered,
               (long long)st.failed);
    if (st.failed)
        fprintf(stderr, "produced %lld records, %lld failed\n", (long long)st.delivered,
                (long long)st.failed);
    else
        fprintf(stderr, "produced %lld records\n", (long long)st.delivered);
    rc = st.failed || ferror(in) ? CLI_FAIL : CLI_OK;
out:
    if (rk)
        rd_kafka_destroy(rk);
    if (in != stdin)
        fclose(in);
    for (size_t i = 0; i < nheaders; i++) {
        free(headers[i].name);
        free(headers[i].value);
    }
    free(rec);
    cli_list_free(&props);
    return rc;
}
