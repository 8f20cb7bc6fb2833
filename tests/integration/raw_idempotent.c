/*
 * raw_idempotent PORT TOPIC
 *
 * The idempotent-producer rules checked byte by byte over a plain socket, where no
 * client library hides the retries. TOPIC must exist with one partition and be empty.
 *
 *   1. InitProducerId v1 (transactional id null) → error 0, a producer id >= 0, epoch 0.
 *   2. Produce v7 of one batch (that pid, epoch 0, base sequence 0, 2 records) → error 0
 *      at base offset B.
 *   3. The exact same request bytes again → error 0 and base offset B again (a retried
 *      batch is acknowledged with its original offset, not appended twice).
 *   4. The next batch (sequence 2) → error 0 at B + 2.
 *   5. A batch with sequence 7 (a gap: 4 expected) → OUT_OF_ORDER_SEQUENCE_NUMBER (45).
 *   6. A batch with epoch 1 and sequence 0 (the producer's epoch moves on) → error 0 at
 *      B + 4, then a batch with the old epoch 0 (sequence 4) → INVALID_PRODUCER_EPOCH (47).
 *
 * Prints "ok: ..." per step and finally "records R" (the records the log must hold:
 * 2 + 2 + 2 = 6, so the test can count them with kcat). Exits 1 at the first surprise.
 *
 * raw_idempotent PORT TOPIC first
 *     InitProducerId, then batch (sequence 0, 2 records) sent twice: written once, the
 *     retry answered with the same offset. Prints "pid P base B".
 * raw_idempotent PORT TOPIC retry PID EXPECT
 *     The same batch of producer PID (epoch 0, sequence 0) again. EXPECT "dup:B": it must
 *     be recognised as a retry of the batch at B; "new:B": the partition must have
 *     forgotten the producer (expired), so it is written again, not answered with B.
 *     Prints "base B".
 * raw_idempotent PORT TOPIC unknown PID
 *     A producer id the partition has no state for sends sequence 5 first: accepted
 *     (KIP-360; UNKNOWN_PRODUCER_ID before Kafka 2.5, OUT_OF_ORDER_SEQUENCE_NUMBER here
 *     before); then its sequence is checked: 9 is a gap (45), 7 follows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "tests/integration/raw_util.h"

#define API_PRODUCE          0
#define API_INIT_PRODUCER_ID 22
#define ERR_OUT_OF_ORDER     45
#define ERR_INVALID_EPOCH    47

/* A response being read: bounds-checked big-endian getters. */
typedef struct rbuf {
    const uint8_t *p;
    size_t len, at;
    const char *what;
} rbuf;

static uint64_t get_n(rbuf *r, size_t n)
{
    uint64_t v = 0;
    if (r->at + n > r->len)
        fail("%s: response cut short at byte %zu", r->what, r->at);
    for (size_t i = 0; i < n; i++)
        v = v << 8 | r->p[r->at + i];
    r->at += n;
    return v;
}
static int16_t get_i16(rbuf *r)
{
    return (int16_t)get_n(r, 2);
}
static int32_t get_i32(rbuf *r)
{
    return (int32_t)get_n(r, 4);
}
static int64_t get_i64(rbuf *r)
{
    return (int64_t)get_n(r, 8);
}

static int broker_fd = -1;
static int correlation_id;

static void connect_broker(int port)
{
    broker_fd = connect_loopback(port, 10);
}

static void begin_request(wbuf *b, int16_t key, int16_t version)
{
    b->len = 0;
    put_i32(b, 0);
    put_i16(b, key);
    put_i16(b, version);
    put_i32(b, ++correlation_id);
    put_string(b, "raw_idempotent");
}

static void end_request(wbuf *b)
{
    patch_i32(b, 0, (int32_t)(b->len - 4));
}

/* Sends the frame in b and reads the response (after the correlation id) into resp. */
static rbuf round_trip(const wbuf *b, uint8_t *resp, size_t cap, const char *what)
{
    uint8_t size[4];
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(broker_fd, b->data + off, b->len - off);
        if (w <= 0)
            fail("%s: write: %s", what, strerror(errno));
        off += (size_t)w;
    }
    for (size_t got = 0; got < 4;) {
        ssize_t r = read(broker_fd, size + got, 4 - got);
        if (r <= 0)
            fail("%s: no response (%s)", what, r == 0 ? "connection closed" : strerror(errno));
        got += (size_t)r;
    }
    uint32_t n =
        (uint32_t)size[0] << 24 | (uint32_t)size[1] << 16 | (uint32_t)size[2] << 8 | size[3];
    if (n < 4 || n > cap)
        fail("%s: response size %u out of range", what, n);
    for (size_t got = 0; got < n;) {
        ssize_t r = read(broker_fd, resp + got, n - got);
        if (r <= 0)
            fail("%s: response cut short (%s)", what, r == 0 ? "closed" : strerror(errno));
        got += (size_t)r;
    }
    rbuf rb = {.p = resp, .len = n, .what = what};
    int32_t corr = get_i32(&rb);
    if (corr != correlation_id)
        fail("%s: correlation id %d, expected %d", what, corr, correlation_id);
    return rb;
}

/* One batch of `count` records with the given producer fields (records "idem-<seq+i>"). */
static void put_batch(wbuf *b, int64_t pid, int16_t epoch, int32_t seq, int32_t count)
{
    size_t start = b->len;
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    put_i64(b, 0);         /* baseOffset */
    put_i32(b, 0);         /* batchLength, patched */
    put_i32(b, -1);        /* partitionLeaderEpoch */
    put_i8(b, 2);          /* magic */
    put_i32(b, 0);         /* crc, patched */
    put_i16(b, 0);         /* attributes: no codec, not transactional */
    put_i32(b, count - 1); /* lastOffsetDelta */
    put_i64(b, now_ms);    /* baseTimestamp */
    put_i64(b, now_ms);    /* maxTimestamp */
    put_i64(b, pid);       /* producerId */
    put_i16(b, epoch);     /* producerEpoch */
    put_i32(b, seq);       /* baseSequence */
    put_i32(b, count);
    for (int32_t i = 0; i < count; i++) {
        char key[32], value[64];
        int klen = snprintf(key, sizeof(key), "idem-%d", seq + i);
        int vlen = snprintf(value, sizeof(value), "epoch %d sequence %d", epoch, seq + i);
        wbuf rec = {.len = 0};
        put_i8(&rec, 0);     /* attributes */
        put_varint(&rec, 0); /* timestampDelta */
        put_varint(&rec, i); /* offsetDelta */
        put_varint(&rec, klen);
        put(&rec, key, (size_t)klen);
        put_varint(&rec, vlen);
        put(&rec, value, (size_t)vlen);
        put_varint(&rec, 0); /* headers */
        put_varint(b, (int64_t)rec.len);
        put(b, rec.data, rec.len);
    }
    size_t size = b->len - start;
    patch_i32(b, start + 8, (int32_t)(size - 12));
    patch_i32(b, start + 17, (int32_t)st_crc32c(0, b->data + start + 21, size - 21));
}

static void build_produce(wbuf *b, const char *topic, int64_t pid, int16_t epoch, int32_t seq,
                          int32_t count)
{
    begin_request(b, API_PRODUCE, 7);
    put_i16(b, -1); /* transactional_id: null */
    put_i16(b, -1); /* acks: all */
    put_i32(b, 10000);
    put_i32(b, 1);
    put_string(b, topic);
    put_i32(b, 1);
    put_i32(b, 0); /* partition */
    size_t records_at = b->len;
    put_i32(b, 0);
    put_batch(b, pid, epoch, seq, count);
    patch_i32(b, records_at, (int32_t)(b->len - records_at - 4));
    end_request(b);
}

/* Sends a built Produce v7, byte for byte as built (a resend is the identical frame,
 * correlation id included); returns the partition's error code and its base offset. */
static int produce(wbuf *b, int64_t *base, const char *what)
{
    uint8_t resp[4096];
    rbuf r = round_trip(b, resp, sizeof(resp), what);
    if (get_i32(&r) != 1)
        fail("%s: expected one topic in the response", what);
    r.at += (size_t)get_i16(&r); /* name */
    if (get_i32(&r) != 1)
        fail("%s: expected one partition in the response", what);
    get_i32(&r); /* index */
    int err = get_i16(&r);
    *base = get_i64(&r);
    return err;
}

static void expect_ok(wbuf *b, int64_t want_base, const char *what)
{
    int64_t base;
    int err = produce(b, &base, what);
    if (err != 0)
        fail("%s: error code %d, expected 0", what, err);
    if (want_base >= 0 && base != want_base)
        fail("%s: base offset %lld, expected %lld", what, (long long)base, (long long)want_base);
    printf("ok: %s: base offset %lld\n", what, (long long)base);
}

static void expect_error(wbuf *b, int want, const char *what)
{
    int64_t base;
    int err = produce(b, &base, what);
    if (err != want)
        fail("%s: error code %d, expected %d", what, err, want);
    printf("ok: %s: error code %d\n", what, err);
}

/* InitProducerId v1 for an idempotent producer: its id (epoch 0). */
static int64_t init_producer_id(void)
{
    wbuf b;
    uint8_t resp[4096];
    begin_request(&b, API_INIT_PRODUCER_ID, 1);
    put_i16(&b, -1);    /* transactional_id: null */
    put_i32(&b, 60000); /* transaction_timeout_ms */
    end_request(&b);
    rbuf r = round_trip(&b, resp, sizeof(resp), "InitProducerId");
    get_i32(&r); /* throttle_time_ms */
    int err = get_i16(&r);
    int64_t pid = get_i64(&r);
    int16_t epoch = get_i16(&r);
    if (err != 0 || pid < 0 || epoch != 0)
        fail("InitProducerId: error %d, producer id %lld, epoch %d; expected 0, >= 0, 0", err,
             (long long)pid, epoch);
    printf("ok: InitProducerId: producer id %lld epoch %d\n", (long long)pid, epoch);
    return pid;
}

/* The modes for the expiry test (see the top). */
static int expiry_modes(int argc, char **argv)
{
    const char *topic = argv[2], *mode = argv[3];
    wbuf b;
    int64_t base;
    if (strcmp(mode, "first") == 0 && argc == 4) {
        int64_t pid = init_producer_id();
        build_produce(&b, topic, pid, 0, 0, 2);
        if (produce(&b, &base, "batch (sequence 0)") != 0)
            fail("batch (sequence 0) refused");
        expect_ok(&b, base, "the same batch again (a retry)");
        printf("pid %lld base %lld\n", (long long)pid, (long long)base);
        return 0;
    }
    if (strcmp(mode, "retry") == 0 && argc == 6) {
        int64_t pid = atoll(argv[4]);
        build_produce(&b, topic, pid, 0, 0, 2);
        int err = produce(&b, &base, "the producer's sequence-0 batch again");
        if (err != 0)
            fail("the producer's sequence-0 batch again: error %d, expected 0", err);
        if (strncmp(argv[5], "dup:", 4) == 0 && base != atoll(argv[5] + 4))
            fail("the retry was written at %lld: the partition forgot producer %lld, which "
                 "was expected to be known (its batch is at %s)",
                 (long long)base, (long long)pid, argv[5] + 4);
        if (strncmp(argv[5], "new:", 4) == 0 && base == atoll(argv[5] + 4))
            fail("the batch was answered as a retry of offset %lld: the partition still knows "
                 "producer %lld, which should have expired",
                 (long long)base, (long long)pid);
        printf("ok: the producer's sequence-0 batch again: base offset %lld\n", (long long)base);
        printf("base %lld\n", (long long)base);
        return 0;
    }
    if (strcmp(mode, "unknown") == 0 && argc == 5) {
        int64_t pid = atoll(argv[4]);
        build_produce(&b, topic, pid, 0, 5, 2);
        expect_ok(&b, -1, "an unknown producer's first batch at sequence 5 (KIP-360: accepted)");
        build_produce(&b, topic, pid, 0, 9, 1);
        expect_error(&b, ERR_OUT_OF_ORDER, "its next batch at sequence 9 where 7 is expected");
        build_produce(&b, topic, pid, 0, 7, 1);
        expect_ok(&b, -1, "its next batch at sequence 7");
        return 0;
    }
    fprintf(stderr,
            "usage: raw_idempotent PORT TOPIC [first | retry PID dup:B|new:B | unknown PID]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: raw_idempotent PORT TOPIC [first | retry PID dup:B|new:B | "
                        "unknown PID]\n");
        return 2;
    }
    const char *topic = argv[2];
    connect_broker(atoi(argv[1]));
    if (argc > 3)
        return expiry_modes(argc, argv);
    wbuf b;

    /* 1. InitProducerId v1 */
    int64_t pid = init_producer_id();
    int err;

    /* 2. and 3. the same batch twice */
    int64_t base;
    build_produce(&b, topic, pid, 0, 0, 2);
    err = produce(&b, &base, "first batch (sequence 0)");
    if (err != 0)
        fail("first batch (sequence 0): error code %d, expected 0", err);
    printf("ok: first batch (sequence 0): base offset %lld\n", (long long)base);
    expect_ok(&b, base, "the same batch again (a retry)");
    expect_ok(&b, base, "the same batch a third time");

    /* 4. the next sequence */
    build_produce(&b, topic, pid, 0, 2, 2);
    expect_ok(&b, base + 2, "next batch (sequence 2)");
    expect_ok(&b, base + 2, "next batch again (a retry)");

    /* 5. a gap */
    build_produce(&b, topic, pid, 0, 7, 2);
    expect_error(&b, ERR_OUT_OF_ORDER, "batch with sequence 7 where 4 is expected");

    /* 6. a new epoch, then the old one */
    build_produce(&b, topic, pid, 1, 0, 2);
    expect_ok(&b, base + 4, "epoch 1, sequence 0");
    build_produce(&b, topic, pid, 0, 4, 2);
    expect_error(&b, ERR_INVALID_EPOCH, "stale epoch 0 after epoch 1");

    close(broker_fd);
    printf("records %d\n", 6);
    return 0;
}
