/*
 * rk_mirror_check: the librdkafka side of the strait-mirror tests (test_mirror_*.sh) and
 * benchmark (tests/bench/mirror_bench.sh). Every record is derived from (tag, i) alone, so
 * a topic on either cluster can be checked byte for byte without keeping a copy:
 *
 *   key      "k-<tag>-<i>" (NULL when i % 1009 == 7)
 *   value    pseudo-random bytes seeded by (tag, i), 16..255 bytes, or exactly --size bytes
 *            (NULL, a tombstone, when i % 997 == 13 and no --size)
 *   headers  "h.id" = "<tag>-<i>", "h.ts" = the timestamp in decimal, "h.bin" = 8 binary
 *            bytes; "h.null" (a NULL value) when i % 3 == 0; "h.rep" twice ("1", "2") when
 *            i % 5 == 0 (order and repeated names must survive)
 *   time     CreateTime, the value of "h.ts"
 *   where    partition i % PARTITIONS
 *
 * Modes:
 *   produce BOOTSTRAP TOPIC TAG FIRST COUNT PARTITIONS [--size B] [--rate BYTES_PER_SEC]
 *           [--create]
 *       records FIRST..FIRST+COUNT-1 through an idempotent producer (acks=all), paced to
 *       --rate value bytes a second; --create makes the topic (PARTITIONS) if missing.
 *       Prints "produced N records (B value bytes) in MS ms: R records/s, X MB/s".
 *   verify BOOTSTRAP TOPIC --expect TAG:COUNT:PARTITIONS[:ORIGIN[:exact]]... [--wait-ms MS]
 *           [--max-dups N] [--size B]
 *       waits (up to --wait-ms) for the topic to hold as many records as expected, reads
 *       every partition to its end and checks, per partition and tag: records in order,
 *       none missing, none unexpected, each byte for byte (key, value, headers other than
 *       strait.*, timestamp). ORIGIN "-": no strait.* headers (produced here); an alias:
 *       "strait.origin" is that alias (once) and "strait.src" is "<alias>/<offset>", with
 *       :exact the offset must be i / PARTITIONS (the topic on the origin held only this
 *       tag, from offset 0); "<alias>?" also accepts records with no strait.* header at all
 *       (copied by another tool, e.g. MirrorMaker 2, before strait-mirror took over). A record seen
 * again later is a duplicate: counted, reported, and a failure beyond --max-dups [0]. Last line:
 * "records=N duplicates=D". group BOOTSTRAP GROUP TOPIC PARTITIONS OUT [--limit N | --limits
 * N0,N1,...]
 *           [--timeout-ms MS]
 *       one consumer-group member (subscribe): processes at most the limit from each
 *       partition (all when absent), appending "<partition> <offset> <h.id>" to OUT; once
 *       every partition reached its limit or its end, commits the next offset of each
 *       partition it processed, prints "committed P OFFSET" lines, and leaves.
 *   committed BOOTSTRAP GROUP TOPIC PARTITIONS   "P OFFSET" per partition (-1: none)
 *   count BOOTSTRAP TOPIC                        "<sum of end offsets> <partitions>" (0 0
 *                                                when the topic does not exist)
 *   topics BOOTSTRAP                             every topic name, one a line
 *   truncate BOOTSTRAP TOPIC PARTITION OFFSET    DeleteRecords: the partition then starts at
 *                                                OFFSET (its records before are gone)
 */
#include "rk_util.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_PARTS   256
#define MAX_EXPECT  8
#define MAX_REPORTS 20

/* ---- the deterministic records ---- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t record_seed(const char *tag, int64_t i)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the tag, then i mixed in */
    for (const char *c = tag; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ull;
    uint64_t s = h ^ ((uint64_t)i * 0x9E3779B97F4A7C15ull);
    return splitmix64(&s);
}

typedef struct record {
    char key[96];
    bool key_null;
    uint8_t value[65536];
    size_t value_len;
    bool value_null;
    char id[80];
    uint8_t bin[8];
    bool has_null_hdr, has_rep;
} record;

/* Fills r with record (tag, i); size > 0 fixes the value length. */
static void record_make(record *r, const char *tag, int64_t i, size_t size)
{
    uint64_t seed = record_seed(tag, i), s = seed;
    snprintf(r->key, sizeof(r->key), "k-%s-%" PRId64, tag, i);
    r->key_null = i % 1009 == 7;
    r->value_null = size == 0 && i % 997 == 13;
    r->value_len = size > 0 ? size : 16 + seed % 240;
    if (r->value_len > sizeof(r->value))
        r->value_len = sizeof(r->value);
    for (size_t k = 0; k < r->value_len; k += 8) {
        uint64_t w = splitmix64(&s);
        size_t n = r->value_len - k < 8 ? r->value_len - k : 8;
        memcpy(r->value + k, &w, n);
    }
    snprintf(r->id, sizeof(r->id), "%s-%" PRId64, tag, i);
    for (int k = 0; k < 8; k++)
        r->bin[k] = (uint8_t)(seed >> (56 - 8 * k));
    r->has_null_hdr = i % 3 == 0;
    r->has_rep = i % 5 == 0;
}

/* ---- produce ---- */

typedef struct produce_state {
    int64_t acked, failed;
    char first_error[512];
} produce_state;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    produce_state *st = opaque;
    if (m->err) {
        if (st->failed++ == 0)
            snprintf(st->first_error, sizeof(st->first_error), "[%d]: %s", (int)m->partition,
                     rd_kafka_err2str(m->err));
    } else {
        st->acked++;
    }
}

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Creates topic with `partitions` partitions unless it exists, then waits for it. */
static void create_topic(rd_kafka_t *rk, const char *topic, int partitions)
{
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof(err));
    if (!nt)
        rk_fail("NewTopic %s: %s", topic, err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (!ev)
        rk_fail("CreateTopics %s: no answer within 30 s", topic);
    if (rd_kafka_event_error(ev))
        rk_fail("CreateTopics %s: %s", topic, rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t k = 0; k < n; k++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[k]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            rk_fail("CreateTopics %s: %s", topic, rd_kafka_topic_result_error_string(res[k]));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    int64_t deadline = rk_now_ms() + 30000;
    while (!rk_topic_in_metadata(rk, topic, partitions)) {
        if (rk_now_ms() > deadline)
            rk_fail("topic %s with %d partitions not in metadata 30 s after CreateTopics", topic,
                    partitions);
        usleep(100000);
    }
}

static rd_kafka_headers_t *record_headers(const record *r, int64_t ts)
{
    char tsbuf[32];
    rd_kafka_headers_t *h = rd_kafka_headers_new(5);
    snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, ts);
    rd_kafka_header_add(h, "h.id", -1, r->id, -1);
    rd_kafka_header_add(h, "h.ts", -1, tsbuf, -1);
    rd_kafka_header_add(h, "h.bin", -1, r->bin, sizeof(r->bin));
    if (r->has_null_hdr)
        rd_kafka_header_add(h, "h.null", -1, NULL, 0);
    if (r->has_rep) {
        rd_kafka_header_add(h, "h.rep", -1, "1", 1);
        rd_kafka_header_add(h, "h.rep", -1, "2", 1);
    }
    return h;
}

static int cmd_produce(int argc, char **argv)
{
    if (argc < 8)
        rk_fail("usage: produce BOOTSTRAP TOPIC TAG FIRST COUNT PARTITIONS [--size B] "
                "[--rate BYTES_PER_SEC] [--create]");
    const char *bootstrap = argv[2], *topic = argv[3], *tag = argv[4];
    int64_t first = atoll(argv[5]), count = atoll(argv[6]);
    int parts = atoi(argv[7]);
    size_t size = 0;
    double rate = 0;
    bool create = false;
    for (int k = 8; k < argc; k++) {
        if (strcmp(argv[k], "--size") == 0 && k + 1 < argc)
            size = (size_t)atoll(argv[++k]);
        else if (strcmp(argv[k], "--rate") == 0 && k + 1 < argc)
            rate = atof(argv[++k]);
        else if (strcmp(argv[k], "--create") == 0)
            create = true;
        else
            rk_fail("produce: unknown option %s", argv[k]);
    }
    if (parts <= 0 || parts > MAX_PARTS || count < 0 || first < 0)
        rk_fail("produce: PARTITIONS must be 1..%d and FIRST, COUNT non-negative", MAX_PARTS);
    if (size > sizeof(((record *)0)->value))
        rk_fail("produce: --size at most %zu", sizeof(((record *)0)->value));

    produce_state st = {0};
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    rk_set(conf, "enable.idempotence", "true");
    rk_set(conf, "acks", "all");
    rk_set(conf, "linger.ms", "5");
    rk_set(conf, "queue.buffering.max.kbytes", "65536");
    rk_set(conf, "message.timeout.ms", "120000");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);
    if (create)
        create_topic(rk, topic, parts);

    static record r;
    int64_t ts_base = wall_ms() - 600000, t0 = rk_now_ms(), bytes = 0;
    for (int64_t i = first; i < first + count; i++) {
        record_make(&r, tag, i, size);
        if (rate > 0) {
            /* pace on value bytes: the record may leave once its bytes fit the rate */
            for (;;) {
                double due = (double)bytes * 1000.0 / rate;
                if ((double)(rk_now_ms() - t0) >= due)
                    break;
                rd_kafka_poll(rk, 1);
            }
        }
        int64_t ts = ts_base + i;
        rd_kafka_headers_t *hdrs = record_headers(&r, ts);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)(i % parts)),
                RD_KAFKA_V_KEY(r.key_null ? NULL : r.key, r.key_null ? 0 : strlen(r.key)),
                RD_KAFKA_V_VALUE(r.value_null ? NULL : r.value, r.value_null ? 0 : r.value_len),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_TIMESTAMP(ts),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break; /* the headers now belong to the message */
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rk_fail("produce %s [%d] record %s: %s", topic, (int)(i % parts), r.id,
                        rd_kafka_err2str(e));
            rd_kafka_poll(rk, 10);
        }
        bytes += r.value_null ? 0 : (int64_t)r.value_len;
        rd_kafka_poll(rk, 0);
        if (st.failed)
            break;
    }
    rd_kafka_resp_err_t fe = rd_kafka_flush(rk, 180000);
    int64_t ms = rk_now_ms() - t0;
    if (ms <= 0)
        ms = 1;
    if (fe)
        rk_fail("flush: %s (%" PRId64 " of %" PRId64 " acknowledged)", rd_kafka_err2str(fe),
                st.acked, count);
    if (st.failed)
        rk_fail("%" PRId64 " records failed, first %s %s", st.failed, topic, st.first_error);
    printf("produced %" PRId64 " records (%" PRId64 " value bytes) in %" PRId64
           " ms: %.0f records/s, %.2f MB/s\n",
           st.acked, bytes, ms, (double)st.acked * 1000.0 / (double)ms,
           (double)bytes / 1048576.0 * 1000.0 / (double)ms);
    rd_kafka_destroy(rk);
    return 0;
}

/* ---- reading helpers ---- */

/* Partition count of topic (0 when it does not exist), within timeout_ms. */
static int topic_partitions(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    int n = 0;
    if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0 && md->topics[i].err == 0)
            n = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Sum of the end offsets (and of the start offsets into *lo_sum); -1 on error. */
static int64_t end_offsets(rd_kafka_t *rk, const char *topic, int parts, int64_t *lo, int64_t *hi)
{
    int64_t sum = 0;
    for (int p = 0; p < parts; p++) {
        int64_t l, h;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &l, &h, 5000))
            return -1;
        if (lo)
            lo[p] = l;
        if (hi)
            hi[p] = h;
        sum += h - l;
    }
    return sum;
}

static rd_kafka_t *reader(const char *bootstrap, const char *group)
{
    char gid[128];
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    if (!group) {
        snprintf(gid, sizeof(gid), "rk_mirror_check-%d", (int)getpid());
        group = gid;
    }
    rk_set(conf, "group.id", group);
    rk_set(conf, "enable.auto.commit", "false");
    rk_set(conf, "auto.offset.reset", "earliest");
    rk_set(conf, "enable.partition.eof", "true");
    rk_set(conf, "session.timeout.ms", "6000");
    rk_set(conf, "fetch.max.bytes", "52428800");
    rk_set(conf, "max.partition.fetch.bytes", "4194304");
    rk_set(conf, "queued.max.messages.kbytes", "65536");
    rd_kafka_t *rk = rk_new(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static int cmd_count(int argc, char **argv)
{
    if (argc != 4)
        rk_fail("usage: count BOOTSTRAP TOPIC");
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, rk_conf(argv[2]));
    int parts = topic_partitions(rk, argv[3]);
    if (parts < 0)
        rk_fail("metadata from %s: no answer within 5 s", argv[2]);
    int64_t n = parts ? end_offsets(rk, argv[3], parts, NULL, NULL) : 0;
    if (n < 0)
        rk_fail("watermarks of %s from %s failed", argv[3], argv[2]);
    printf("%" PRId64 " %d\n", n, parts);
    rd_kafka_destroy(rk);
    return 0;
}

static int cmd_topics(int argc, char **argv)
{
    if (argc != 3)
        rk_fail("usage: topics BOOTSTRAP");
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, rk_conf(argv[2]));
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
    if (e)
        rk_fail("metadata from %s: %s", argv[2], rd_kafka_err2str(e));
    for (int i = 0; i < md->topic_cnt; i++)
        printf("%s\n", md->topics[i].topic);
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return 0;
}

/* ---- verify ---- */

typedef struct expect {
    char tag[32];
    int64_t count;
    int parts;
    char origin[64]; /* "" or "-": no strait.* headers */
    bool maybe;      /* ORIGIN "<alias>?": that origin, or no strait.* headers at all */
    bool exact_src;
    int64_t next[MAX_PARTS]; /* the next i expected in each partition */
    int64_t seen, dups;
} expect;

typedef struct verifier {
    const char *topic;
    expect ex[MAX_EXPECT];
    int nex;
    size_t size; /* the producer's --size (0: varied) */
    int64_t records, dups, errors;
    int64_t part_dups[MAX_PARTS];
} verifier;

static void __attribute__((format(printf, 2, 3))) problem(verifier *v, const char *fmt, ...)
{
    va_list ap;
    if (v->errors++ >= MAX_REPORTS)
        return;
    fprintf(stderr, "verify %s: ", v->topic);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static bool header_eq(rd_kafka_headers_t *h, size_t idx, const char *name, const void *val,
                      ssize_t len)
{
    const char *n;
    const void *v;
    size_t vl;
    if (rd_kafka_header_get_all(h, idx, &n, &v, &vl))
        return false;
    if (strcmp(n, name) != 0)
        return false;
    if (len < 0)
        return v == NULL;
    return v != NULL && vl == (size_t)len && memcmp(v, val, vl) == 0;
}

/* Checks one record against what (tag, i) must be. */
static void check_record(verifier *v, const rd_kafka_message_t *m, const expect *e, int64_t i,
                         int64_t ts)
{
    static record r;
    record_make(&r, e->tag, i, v->size);
    int p = (int)m->partition;
    int64_t off = m->offset;
    bool key_ok = r.key_null ? m->key == NULL
                             : (m->key && m->key_len == strlen(r.key) &&
                                memcmp(m->key, r.key, m->key_len) == 0);
    if (!key_ok)
        problem(v, "[%d]@%" PRId64 " %s: key differs (%zu bytes%s)", p, off, r.id, m->key_len,
                m->key ? "" : ", null");
    bool val_ok = r.value_null ? m->payload == NULL
                               : (m->payload && m->len == r.value_len &&
                                  memcmp(m->payload, r.value, m->len) == 0);
    if (!val_ok)
        problem(v, "[%d]@%" PRId64 " %s: value differs (%zu bytes%s, expected %zu%s)", p, off, r.id,
                m->len, m->payload ? "" : " null", r.value_null ? 0 : r.value_len,
                r.value_null ? " null" : "");
    rd_kafka_timestamp_type_t tst;
    int64_t got_ts = rd_kafka_message_timestamp(m, &tst);
    if (got_ts != ts || tst != RD_KAFKA_TIMESTAMP_CREATE_TIME)
        problem(v, "[%d]@%" PRId64 " %s: timestamp %" PRId64 " (%s), expected CreateTime %" PRId64,
                p, off, r.id, got_ts,
                tst == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "LogAppendTime" : "CreateTime", ts);

    /* headers: ours in order, strait.* apart */
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) || !h) {
        problem(v, "[%d]@%" PRId64 " %s: no headers", p, off, r.id);
        return;
    }
    rd_kafka_headers_t *own = rd_kafka_headers_new(8);
    const char *name, *origin = NULL, *src = NULL;
    const void *val;
    size_t vl, origin_len = 0, src_len = 0;
    int norigin = 0, nsrc = 0;
    for (size_t k = 0; rd_kafka_header_get_all(h, k, &name, &val, &vl) == 0; k++) {
        if (strcmp(name, "strait.origin") == 0) {
            norigin++, origin = val, origin_len = vl;
        } else if (strcmp(name, "strait.src") == 0) {
            nsrc++, src = val, src_len = vl;
        } else if (strncmp(name, "strait.", 7) != 0) {
            rd_kafka_header_add(own, name, -1, val, val ? (ssize_t)vl : 0);
        }
    }
    char tsbuf[32];
    snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, ts);
    size_t k = 0;
    bool hok = header_eq(own, k++, "h.id", r.id, (ssize_t)strlen(r.id)) &&
               header_eq(own, k++, "h.ts", tsbuf, (ssize_t)strlen(tsbuf)) &&
               header_eq(own, k++, "h.bin", r.bin, 8);
    if (hok && r.has_null_hdr)
        hok = header_eq(own, k++, "h.null", NULL, -1);
    if (hok && r.has_rep) {
        hok = header_eq(own, k, "h.rep", "1", 1) && header_eq(own, k + 1, "h.rep", "2", 1);
        k += 2;
    }
    if (hok && rd_kafka_header_get_all(own, k, &name, &val, &vl) == 0)
        hok = false;
    if (!hok)
        problem(v, "[%d]@%" PRId64 " %s: headers differ (%zu non-strait headers)", p, off, r.id,
                rd_kafka_header_cnt(own));
    rd_kafka_headers_destroy(own);

    bool local = e->origin[0] == '\0' || strcmp(e->origin, "-") == 0;
    if (e->maybe && norigin == 0 && nsrc == 0)
        return; /* copied by another tool before (MirrorMaker 2) */
    if (local) {
        if (norigin || nsrc)
            problem(v,
                    "[%d]@%" PRId64 " %s: produced on this cluster but carries %d strait.origin"
                    " and %d strait.src headers (mirrored back here?)",
                    p, off, r.id, norigin, nsrc);
        return;
    }
    if (norigin != 1 || origin_len != strlen(e->origin) || memcmp(origin, e->origin, origin_len))
        problem(v,
                "[%d]@%" PRId64 " %s: %d strait.origin headers, first \"%.*s\"; expected one, "
                "\"%s\"",
                p, off, r.id, norigin, norigin ? (int)origin_len : 0, norigin ? origin : "",
                e->origin);
    char want[128];
    int wl = snprintf(want, sizeof(want), "%s/", e->origin);
    if (nsrc != 1 || src_len <= (size_t)wl || memcmp(src, want, (size_t)wl) != 0) {
        problem(v,
                "[%d]@%" PRId64 " %s: %d strait.src headers, first \"%.*s\"; expected one, "
                "\"%s<offset>\"",
                p, off, r.id, nsrc, nsrc ? (int)src_len : 0, nsrc ? src : "", want);
    } else if (e->exact_src) {
        snprintf(want + wl, sizeof(want) - (size_t)wl, "%" PRId64, i / e->parts);
        if (src_len != strlen(want) || memcmp(src, want, src_len) != 0)
            problem(v,
                    "[%d]@%" PRId64 " %s: strait.src \"%.*s\", expected \"%s\" (its offset "
                    "on %s)",
                    p, off, r.id, (int)src_len, src, want, e->origin);
    }
}

static void verify_message(verifier *v, const rd_kafka_message_t *m)
{
    int p = (int)m->partition;
    rd_kafka_headers_t *h = NULL;
    const void *idv = NULL, *tsv = NULL;
    size_t idl = 0, tsl = 0;
    char id[96] = "", tsbuf[32] = "";
    if (rd_kafka_message_headers(m, &h) == 0 && h) {
        if (rd_kafka_header_get_last(h, "h.id", &idv, &idl) == 0 && idv && idl < sizeof(id))
            memcpy(id, idv, idl), id[idl] = '\0';
        if (rd_kafka_header_get_last(h, "h.ts", &tsv, &tsl) == 0 && tsv && tsl < sizeof(tsbuf))
            memcpy(tsbuf, tsv, tsl), tsbuf[tsl] = '\0';
    }
    v->records++;
    char *dash = strrchr(id, '-');
    if (!dash || !tsbuf[0]) {
        problem(v,
                "[%d]@%" PRId64 ": a record without h.id/h.ts headers (not produced by the "
                "test: %zu bytes)",
                p, m->offset, m->len);
        return;
    }
    *dash = '\0';
    int64_t i = atoll(dash + 1), ts = atoll(tsbuf);
    expect *e = NULL;
    for (int k = 0; k < v->nex; k++)
        if (strcmp(v->ex[k].tag, id) == 0)
            e = &v->ex[k];
    if (!e) {
        problem(v, "[%d]@%" PRId64 ": record %s-%" PRId64 " of an unexpected tag", p, m->offset, id,
                i);
        return;
    }
    if (i < 0 || i >= e->count || i % e->parts != p) {
        problem(v,
                "[%d]@%" PRId64 ": record %s-%" PRId64 " does not belong here (%" PRId64
                " records over %d partitions)",
                p, m->offset, id, i, e->count, e->parts);
        return;
    }
    if (i < e->next[p]) {
        e->dups++, v->dups++, v->part_dups[p]++;
        return;
    }
    if (i > e->next[p]) {
        problem(v,
                "[%d]@%" PRId64 ": GAP: record %s-%" PRId64 " follows %s-%" PRId64
                " (records %s-%" PRId64 "..%s-%" PRId64 " are not before it)",
                p, m->offset, id, i, id, e->next[p] - e->parts, id, e->next[p], id, i - e->parts);
    }
    e->next[p] = i + e->parts;
    e->seen++;
    check_record(v, m, e, i, ts);
}

static int cmd_verify(int argc, char **argv)
{
    if (argc < 5)
        rk_fail("usage: verify BOOTSTRAP TOPIC --expect TAG:COUNT:PARTITIONS[:ORIGIN[:exact]]... "
                "[--wait-ms MS] [--max-dups N] [--size B]");
    static verifier v;
    const char *bootstrap = argv[2];
    int64_t wait_ms = 30000, max_dups = 0, want_total = 0;
    v.topic = argv[3];
    for (int k = 4; k < argc; k++) {
        if (strcmp(argv[k], "--expect") == 0 && k + 1 < argc) {
            if (v.nex == MAX_EXPECT)
                rk_fail("at most %d --expect", MAX_EXPECT);
            expect *e = &v.ex[v.nex++];
            char buf[256], *save = NULL;
            snprintf(buf, sizeof(buf), "%s", argv[++k]);
            char *t = strtok_r(buf, ":", &save), *c = strtok_r(NULL, ":", &save),
                 *pp = strtok_r(NULL, ":", &save), *o = strtok_r(NULL, ":", &save),
                 *x = strtok_r(NULL, ":", &save);
            if (!t || !c || !pp)
                rk_fail("--expect %s: want TAG:COUNT:PARTITIONS[:ORIGIN[:exact]]", argv[k]);
            snprintf(e->tag, sizeof(e->tag), "%s", t);
            e->count = atoll(c);
            e->parts = atoi(pp);
            if (e->parts <= 0 || e->parts > MAX_PARTS)
                rk_fail("--expect %s: bad partition count", argv[k]);
            snprintf(e->origin, sizeof(e->origin), "%s", o ? o : "-");
            e->exact_src = x && strcmp(x, "exact") == 0;
            size_t olen = strlen(e->origin);
            if (olen > 1 && e->origin[olen - 1] == '?') {
                e->maybe = true;
                e->origin[olen - 1] = '\0';
            }
            for (int p = 0; p < e->parts; p++)
                e->next[p] = p;
            want_total += e->count;
        } else if (strcmp(argv[k], "--wait-ms") == 0 && k + 1 < argc) {
            wait_ms = atoll(argv[++k]);
        } else if (strcmp(argv[k], "--size") == 0 && k + 1 < argc) {
            v.size = (size_t)atoll(argv[++k]);
        } else if (strcmp(argv[k], "--max-dups") == 0 && k + 1 < argc) {
            max_dups = atoll(argv[++k]);
        } else {
            rk_fail("verify: unknown option %s", argv[k]);
        }
    }
    if (v.nex == 0)
        rk_fail("verify: no --expect");

    rd_kafka_t *rk = reader(bootstrap, NULL);
    int64_t deadline = rk_now_ms() + wait_ms, total = 0;
    int parts = 0;
    static int64_t lo[MAX_PARTS], hi[MAX_PARTS];
    for (;;) {
        parts = topic_partitions(rk, v.topic);
        if (parts > MAX_PARTS)
            rk_fail("%s has %d partitions, more than %d", v.topic, parts, MAX_PARTS);
        total = parts > 0 ? end_offsets(rk, v.topic, parts, lo, hi) : 0;
        if (total >= want_total || rk_now_ms() > deadline)
            break;
        usleep(200000);
    }
    if (parts <= 0)
        rk_fail("topic %s does not exist on %s (waited %" PRId64 " ms)", v.topic, bootstrap,
                wait_ms);
    for (int k = 0; k < v.nex; k++)
        if (v.ex[k].parts != parts)
            problem(&v, "has %d partitions, expected %d (tag %s)", parts, v.ex[k].parts,
                    v.ex[k].tag);
    for (int p = 0; p < parts; p++)
        if (lo[p] != 0)
            problem(&v, "[%d] starts at offset %" PRId64 ", not 0: records were deleted", p, lo[p]);
    if (total < want_total)
        fprintf(stderr,
                "verify %s: only %" PRId64 " of %" PRId64 " records after %" PRId64
                " ms; checking what is there\n",
                v.topic, total, want_total, wait_ms);

    rd_kafka_topic_partition_list_t *as = rd_kafka_topic_partition_list_new(parts);
    int pending = 0;
    static bool done[MAX_PARTS];
    for (int p = 0; p < parts; p++) {
        done[p] = hi[p] <= lo[p];
        if (!done[p]) {
            rd_kafka_topic_partition_list_add(as, v.topic, p)->offset = lo[p];
            pending++;
        }
    }
    rd_kafka_resp_err_t ae = rd_kafka_assign(rk, as);
    if (ae)
        rk_fail("assign: %s", rd_kafka_err2str(ae));
    rd_kafka_topic_partition_list_destroy(as);
    int64_t read_deadline = rk_now_ms() + 60000 + total / 20; /* 20 records/ms at the least */
    while (pending > 0) {
        if (rk_now_ms() > read_deadline)
            rk_fail("reading %s: %d partitions not read to their end in time", v.topic, pending);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m)
            continue;
        int p = m->partition;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (p >= 0 && p < parts && !done[p] && m->offset >= hi[p]) {
                done[p] = true; /* the end offset was not a record (e.g. a control batch) */
                pending--;
            }
        } else if (m->err) {
            rk_fail("reading %s [%d]: %s", v.topic, p, rd_kafka_message_errstr(m));
        } else if (p >= 0 && p < parts && !done[p] && m->offset < hi[p]) {
            verify_message(&v, m);
        }
        if (p >= 0 && p < parts && !done[p] && m->offset >= hi[p] - 1 && !m->err) {
            done[p] = true;
            pending--;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);

    int64_t missing = 0;
    for (int k = 0; k < v.nex; k++) {
        expect *e = &v.ex[k];
        for (int p = 0; p < e->parts && p < parts; p++) {
            if (e->next[p] < e->count) {
                int64_t n = (e->count - e->next[p] + e->parts - 1) / e->parts;
                missing += n;
                problem(&v,
                        "[%d]: MISSING %" PRId64 " records of tag %s from %s-%" PRId64
                        " on (the partition ends at offset %" PRId64 ")",
                        p, n, e->tag, e->tag, e->next[p], hi[p]);
            }
        }
        printf("tag %s: %" PRId64 " of %" PRId64 " records, %" PRId64 " duplicates\n", e->tag,
               e->seen, e->count, e->dups);
    }
    if (v.dups) {
        printf("duplicates per partition:");
        for (int p = 0; p < parts; p++)
            printf(" %d:%" PRId64, p, v.part_dups[p]);
        printf("\n");
    }
    if (v.errors > MAX_REPORTS)
        fprintf(stderr, "verify %s: ... %" PRId64 " problems in all\n", v.topic, v.errors);
    printf("records=%" PRId64 " duplicates=%" PRId64 " missing=%" PRId64 " problems=%" PRId64 "\n",
           v.records, v.dups, missing, v.errors);
    if (v.errors)
        rk_fail("%s on %s: %" PRId64 " problems (above)", v.topic, bootstrap, v.errors);
    if (v.dups > max_dups)
        rk_fail("%s on %s: %" PRId64 " duplicates, at most %" PRId64 " allowed", v.topic, bootstrap,
                v.dups, max_dups);
    return 0;
}

/* ---- group ---- */

static int cmd_group(int argc, char **argv)
{
    if (argc < 7)
        rk_fail("usage: group BOOTSTRAP GROUP TOPIC PARTITIONS OUT [--limit N | --limits "
                "N0,N1,...] [--timeout-ms MS]");
    const char *bootstrap = argv[2], *group = argv[3], *topic = argv[4], *out = argv[6];
    int parts = atoi(argv[5]);
    static int64_t limit[MAX_PARTS], processed[MAX_PARTS], next_off[MAX_PARTS];
    static bool finished[MAX_PARTS];
    int64_t timeout_ms = 60000;
    if (parts <= 0 || parts > MAX_PARTS)
        rk_fail("group: PARTITIONS must be 1..%d", MAX_PARTS);
    for (int p = 0; p < parts; p++)
        limit[p] = -1, next_off[p] = -1;
    for (int k = 7; k < argc; k++) {
        if (strcmp(argv[k], "--limit") == 0 && k + 1 < argc) {
            int64_t n = atoll(argv[++k]);
            for (int p = 0; p < parts; p++)
                limit[p] = n;
        } else if (strcmp(argv[k], "--limits") == 0 && k + 1 < argc) {
            char *s = argv[++k];
            for (int p = 0; p < parts && s && *s; p++) {
                limit[p] = strtoll(s, &s, 10);
                if (*s == ',')
                    s++;
            }
        } else if (strcmp(argv[k], "--timeout-ms") == 0 && k + 1 < argc) {
            timeout_ms = atoll(argv[++k]);
        } else {
            rk_fail("group: unknown option %s", argv[k]);
        }
    }
    FILE *f = fopen(out, "a");
    if (!f)
        rk_fail("%s: %s", out, strerror(errno));
    rd_kafka_t *rk = reader(bootstrap, group);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, sub);
    if (e)
        rk_fail("subscribe %s: %s", topic, rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(sub);

    int64_t deadline = rk_now_ms() + timeout_ms, total = 0;
    int nfinished = 0;
    for (int p = 0; p < parts; p++)
        if (limit[p] == 0)
            finished[p] = true, nfinished++;
    while (nfinished < parts) {
        if (rk_now_ms() > deadline) {
            fprintf(stderr, "group %s: partitions not finished after %" PRId64 " ms:", group,
                    timeout_ms);
            for (int p = 0; p < parts; p++)
                if (!finished[p])
                    fprintf(stderr, " %d (processed %" PRId64 ")", p, processed[p]);
            fputc('\n', stderr);
            rk_fail("group %s on %s did not finish", group, bootstrap);
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        int p = m->partition;
        if (p < 0 || p >= parts) {
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                rk_fail("group %s: %s", group, rd_kafka_message_errstr(m));
        } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (!finished[p])
                finished[p] = true, nfinished++;
        } else if (m->err) {
            rk_fail("group %s [%d]: %s", group, p, rd_kafka_message_errstr(m));
        } else if (limit[p] < 0 || processed[p] < limit[p]) {
            rd_kafka_headers_t *h = NULL;
            const void *idv = NULL;
            size_t idl = 0;
            if (rd_kafka_message_headers(m, &h) || !h ||
                rd_kafka_header_get_last(h, "h.id", &idv, &idl) || !idv)
                idv = "?", idl = 1;
            fprintf(f, "%d %" PRId64 " %.*s\n", p, m->offset, (int)idl, (const char *)idv);
            processed[p]++, total++;
            next_off[p] = m->offset + 1;
            if (limit[p] >= 0 && processed[p] == limit[p] && !finished[p]) {
                finished[p] = true, nfinished++;
                rd_kafka_topic_partition_list_t *pl = rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(pl, topic, p);
                rd_kafka_pause_partitions(rk, pl);
                rd_kafka_topic_partition_list_destroy(pl);
            }
        }
        rd_kafka_message_destroy(m);
    }
    fclose(f);
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(parts);
    for (int p = 0; p < parts; p++)
        if (next_off[p] >= 0)
            rd_kafka_topic_partition_list_add(offs, topic, p)->offset = next_off[p];
    if (offs->cnt > 0) {
        e = rd_kafka_commit(rk, offs, 0);
        if (e)
            rk_fail("group %s: commit: %s", group, rd_kafka_err2str(e));
    }
    for (int i = 0; i < offs->cnt; i++)
        printf("committed %d %" PRId64 "\n", (int)offs->elems[i].partition, offs->elems[i].offset);
    printf("read %" PRId64 " records\n", total);
    rd_kafka_topic_partition_list_destroy(offs);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

static int cmd_committed(int argc, char **argv)
{
    if (argc != 6)
        rk_fail("usage: committed BOOTSTRAP GROUP TOPIC PARTITIONS");
    int parts = atoi(argv[5]);
    rd_kafka_t *rk = reader(argv[2], argv[3]);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
    for (int p = 0; p < parts; p++)
        rd_kafka_topic_partition_list_add(l, argv[4], p);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, 10000);
    if (e)
        rk_fail("committed offsets of %s on %s: %s", argv[3], argv[2], rd_kafka_err2str(e));
    for (int i = 0; i < l->cnt; i++)
        printf("%d %" PRId64 "\n", (int)l->elems[i].partition,
               l->elems[i].offset < 0 ? (int64_t)-1 : l->elems[i].offset);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return 0;
}

static int cmd_truncate(int argc, char **argv)
{
    if (argc != 6)
        rk_fail("usage: truncate BOOTSTRAP TOPIC PARTITION OFFSET");
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, rk_conf(argv[2]));
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, argv[3], atoi(argv[4]))->offset = atoll(argv[5]);
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(l);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteRecords(rk, &dr, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (!ev)
        rk_fail("DeleteRecords %s [%s]: no answer within 30 s", argv[3], argv[4]);
    if (rd_kafka_event_error(ev))
        rk_fail("DeleteRecords %s [%s]: %s", argv[3], argv[4], rd_kafka_event_error_string(ev));
    const rd_kafka_topic_partition_list_t *res =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    for (int i = 0; res && i < res->cnt; i++) {
        if (res->elems[i].err)
            rk_fail("DeleteRecords %s [%d]: %s", res->elems[i].topic, (int)res->elems[i].partition,
                    rd_kafka_err2str(res->elems[i].err));
        printf("%s [%d] starts at %" PRId64 "\n", res->elems[i].topic, (int)res->elems[i].partition,
               res->elems[i].offset);
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteRecords_destroy(dr);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        rk_fail("usage: rk_mirror_check produce|verify|group|committed|count|topics|truncate ...");
    if (strcmp(argv[1], "produce") == 0)
        return cmd_produce(argc, argv);
    if (strcmp(argv[1], "verify") == 0)
        return cmd_verify(argc, argv);
    if (strcmp(argv[1], "group") == 0)
        return cmd_group(argc, argv);
    if (strcmp(argv[1], "committed") == 0)
        return cmd_committed(argc, argv);
    if (strcmp(argv[1], "count") == 0)
        return cmd_count(argc, argv);
    if (strcmp(argv[1], "topics") == 0)
        return cmd_topics(argc, argv);
    if (strcmp(argv[1], "truncate") == 0)
        return cmd_truncate(argc, argv);
    rk_fail("unknown mode %s", argv[1]);
}
