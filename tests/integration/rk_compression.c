/*
 * rk_compression BOOTSTRAP [COUNT]
 *
 * For each codec librdkafka offers (none, gzip, snappy, lz4, zstd) produces COUNT
 * records to topic "compression-<codec>" with that codec, then reads the topic back and
 * compares every record exactly: offset, key (some null), value (varying sizes, binary,
 * some null), headers (names, values, a null-valued one, order) and CreateTime
 * timestamp. The broker stores batches as produced, so the consumer must decompress
 * exactly what the producer compressed. Exits 1 with the first difference.
 */
#include "rk_util.h"

#include <inttypes.h>
#include <stdint.h>

#define MAX_VALUE 4000

static const char *const codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};

typedef struct produce_state {
    int delivered;
    int failed;
    char first_error[256];
} produce_state;

/* What record i carries. Key and value are null for some i, so nulls round-trip too. */
static int has_key(int i)
{
    return i % 13 != 0;
}
static int has_value(int i)
{
    return i % 17 != 0;
}
static size_t value_len(int i)
{
    return (size_t)((i * 97) % MAX_VALUE);
}
static void fill_value(uint8_t *v, int i, const char *codec)
{
    /* Repetitive text mixed with binary bytes: compressible, yet every byte matters. */
    size_t len = value_len(i), clen = strlen(codec);
    for (size_t j = 0; j < len; j++)
        v[j] = (j % 8 == 7) ? (uint8_t)((i * 31 + j) & 0xff) : (uint8_t)codec[j % clen];
}
static void make_key(char *key, size_t keylen, int i, const char *codec)
{
    snprintf(key, keylen, "key-%s-%d", codec, i);
}
static rd_kafka_headers_t *make_headers(int i)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    char num[32];
    uint8_t bin[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
    snprintf(num, sizeof(num), "%d", i);
    rd_kafka_header_add(h, "h", -1, num, -1);
    rd_kafka_header_add(h, "bin", -1, bin, sizeof(bin));
    if (i % 7 == 0)
        rd_kafka_header_add(h, "null", -1, NULL, 0);
    return h;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    produce_state *st = opaque;
    if (m->err) {
        if (st->failed++ == 0)
            snprintf(st->first_error, sizeof(st->first_error), "%s", rd_kafka_err2str(m->err));
    } else {
        st->delivered++;
    }
}

static void produce(const char *bootstrap, const char *codec, const char *topic, int count,
                    int64_t base_ts)
{
    produce_state st = {0};
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    rk_set(conf, "compression.codec", codec);
    rk_set(conf, "acks", "all");
    rk_set(conf, "linger.ms", "10");
    rk_set(conf, "batch.num.messages", "500"); /* several batches per topic */
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);
    uint8_t value[MAX_VALUE];
    char key[64];

    for (int i = 0; i < count; i++) {
        make_key(key, sizeof(key), i, codec);
        fill_value(value, i, codec);
        rd_kafka_headers_t *hdrs = make_headers(i);
        /* librdkafka's V_KEY/V_VALUE macros do not parenthesize their arguments. */
        const void *key_ptr = has_key(i) ? key : NULL;
        size_t key_len = has_key(i) ? strlen(key) : 0;
        void *value_ptr = has_value(i) ? value : NULL;
        size_t value_size = has_value(i) ? value_len(i) : 0;
        rd_kafka_resp_err_t err;
        int64_t deadline = rk_now_ms() + 30000;
        for (;;) {
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                    RD_KAFKA_V_KEY(key_ptr, key_len),
                                    RD_KAFKA_V_VALUE(value_ptr, value_size),
                                    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_TIMESTAMP(base_ts + i),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || rk_now_ms() > deadline)
                break;
            rd_kafka_poll(rk, 50);
        }
        if (err) {
            rd_kafka_headers_destroy(hdrs); /* not taken on failure */
            rk_fail("%s: produce of record %d failed: %s", codec, i, rd_kafka_err2str(err));
        }
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rk_fail("%s: %d records still undelivered after 60 s", codec, rd_kafka_outq_len(rk));
    rd_kafka_destroy(rk);
    if (st.failed)
        rk_fail("%s: %d of %d records failed, first error: %s", codec, st.failed, count,
                st.first_error);
    if (st.delivered != count)
        rk_fail("%s: %d delivery reports for %d records", codec, st.delivered, count);
}

static void expect_bytes(const char *codec, int i, const char *what, const void *got, size_t gotlen,
                         const void *want, size_t wantlen)
{
    if ((got == NULL) != (want == NULL))
        rk_fail("%s: record %d: %s is %s, expected %s", codec, i, what, got ? "set" : "null",
                want ? "set" : "null");
    if (gotlen != wantlen)
        rk_fail("%s: record %d: %s is %zu bytes, expected %zu", codec, i, what, gotlen, wantlen);
    if (wantlen && memcmp(got, want, wantlen) != 0) {
        size_t at = 0;
        while (((const uint8_t *)got)[at] == ((const uint8_t *)want)[at])
            at++;
        rk_fail("%s: record %d: %s differs at byte %zu", codec, i, what, at);
    }
}

static void check_headers(const char *codec, int i, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *got = NULL;
    rd_kafka_headers_t *want = make_headers(i);
    if (rd_kafka_message_headers(m, &got) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rk_fail("%s: record %d: no headers, expected %zu", codec, i, rd_kafka_header_cnt(want));
    if (rd_kafka_header_cnt(got) != rd_kafka_header_cnt(want))
        rk_fail("%s: record %d: %zu headers, expected %zu", codec, i, rd_kafka_header_cnt(got),
                rd_kafka_header_cnt(want));
    for (size_t n = 0; n < rd_kafka_header_cnt(want); n++) {
        const char *gname, *wname;
        const void *gval, *wval;
        size_t glen, wlen;
        rd_kafka_header_get_all(got, n, &gname, &gval, &glen);
        rd_kafka_header_get_all(want, n, &wname, &wval, &wlen);
        if (strcmp(gname, wname) != 0)
            rk_fail("%s: record %d: header %zu is \"%s\", expected \"%s\"", codec, i, n, gname,
                    wname);
        expect_bytes(codec, i, wname, gval, glen, wval, wlen);
    }
    rd_kafka_headers_destroy(want);
}

static void consume_and_check(const char *bootstrap, const char *codec, const char *topic,
                              int count, int64_t base_ts)
{
    rd_kafka_t *rk = rk_new(RD_KAFKA_CONSUMER, rk_conf(bootstrap));
    rd_kafka_topic_t *rkt = rk_consume_start(rk, topic, 0, RD_KAFKA_OFFSET_BEGINNING, NULL);
    uint8_t value[MAX_VALUE];
    char key[64];
    int i = 0;
    int64_t deadline = rk_now_ms() + 60000;

    while (i < count) {
        if (rk_now_ms() > deadline)
            rk_fail("%s: read %d of %d records within 60 s", codec, i, count);
        rd_kafka_message_t *m = rd_kafka_consume(rkt, 0, 1000);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->err)
            rk_fail("%s: consume error after %d records: %s", codec, i, rd_kafka_message_errstr(m));
        if (m->offset != i)
            rk_fail("%s: record %d came at offset %" PRId64, codec, i, m->offset);
        make_key(key, sizeof(key), i, codec);
        fill_value(value, i, codec);
        expect_bytes(codec, i, "key", m->key, m->key_len, has_key(i) ? key : NULL,
                     has_key(i) ? strlen(key) : 0);
        expect_bytes(codec, i, "value", m->payload, m->len, has_value(i) ? value : NULL,
                     has_value(i) ? value_len(i) : 0);
        check_headers(codec, i, m);
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(m, &tstype);
        if (tstype != RD_KAFKA_TIMESTAMP_CREATE_TIME || ts != base_ts + i)
            rk_fail("%s: record %d: timestamp %" PRId64 " (type %d), expected CreateTime %" PRId64,
                    codec, i, ts, (int)tstype, base_ts + i);
        rd_kafka_message_destroy(m);
        i++;
    }
    rk_consume_stop(rkt, 0);
    rd_kafka_destroy(rk);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rk_compression BOOTSTRAP [COUNT]\n");
        return 2;
    }
    const char *bootstrap = argv[1];
    int count = argc > 2 ? atoi(argv[2]) : 2000;
    /* CreateTime in the past, whole seconds: the broker must keep it as sent. */
    int64_t base_ts = ((int64_t)time(NULL) - 3600) * 1000;

    for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
        char topic[64];
        snprintf(topic, sizeof(topic), "compression-%s", codecs[c]);
        produce(bootstrap, codecs[c], topic, count, base_ts);
        consume_and_check(bootstrap, codecs[c], topic, count, base_ts);
        printf("%s: %d records produced and read back exactly\n", codecs[c], count);
        fflush(stdout);
    }
    return 0;
}
