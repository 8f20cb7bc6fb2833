/*
 * raw_batches PORT TOPIC
 * raw_batches PORT TOPIC one CODE
 *
 * The second form sends one valid record (Produce v7, acks=all) and checks that the
 * answer's error code is CODE (e.g. 56, KAFKA_STORAGE_ERROR, on a full disk).
 *
 * Sends Produce requests with record batches no client library would build, by hand
 * over a plain socket, and checks the error code the broker answers for each (issue 8,
 * item 3: "one producer can poison a partition"):
 *
 *   valid-gzip       a real gzip batch ("gz-0", "gz-1")                    → 0
 *   gzip-random      a valid CRC, the gzip attribute, 64 random bytes      → 87
 *   snappy/lz4/zstd-random   the same with each other codec                → 87
 *   huge-count       16 bytes claiming 2,147,483,647 records (gzip)         → 87
 *   huge-count-plain the same claim, uncompressed                          → 87
 *   count-mismatch   a gzip batch saying 3 records that holds 2            → 87
 *   zstd-v3          a valid zstd batch in Produce v3 (zstd needs v7)      → 76
 *   valid-after      an uncompressed record "after-poison"                 → 0
 *
 * and that the two valid batches got consecutive offsets (nothing was counted for
 * what was refused). Prints "ok: <case>: error <code>" per case and, last,
 * "offsets <first> <second>". Exits 1 at the first unexpected answer.
 */
#include <stdint.h>
#include <time.h>

#include "common/compress.h"
#include "common/crc32c.h"
#include "tests/integration/raw_util.h"

#define API_PRODUCE 0

static int port;
static int32_t correlation_id = 500;

/* The records section of n records with values "<prefix>-<i>", keys "k<i>". */
static void put_records(wbuf *b, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char value[64];
        int vlen = snprintf(value, sizeof value, "%s-%d", prefix, i);
        wbuf rec = {.len = 0};
        put_i8(&rec, 0);     /* attributes */
        put_varint(&rec, i); /* timestampDelta */
        put_varint(&rec, i); /* offsetDelta */
        put_varint(&rec, 2); /* key */
        put(&rec, "k", 1);
        put_i8(&rec, (int8_t)('0' + i % 10));
        put_varint(&rec, vlen);
        put(&rec, value, (size_t)vlen);
        put_varint(&rec, 0); /* headers */
        put_varint(b, (int64_t)rec.len);
        put(b, rec.data, rec.len);
    }
}

/* One batch: header with `count` records and `codec`, then `body` as given. */
static void put_batch(wbuf *b, int32_t count, int codec, const uint8_t *body, size_t body_len)
{
    size_t start = b->len;
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    put_i64(b, 0);  /* baseOffset */
    put_i32(b, 0);  /* batchLength, patched */
    put_i32(b, -1); /* partitionLeaderEpoch */
    put_i8(b, 2);   /* magic */
    put_i32(b, 0);  /* crc, patched */
    put_i16(b, (int16_t)codec);
    put_i32(b, count - 1); /* lastOffsetDelta */
    put_i64(b, now_ms);    /* baseTimestamp */
    put_i64(b, now_ms + (count > 1 ? 1 : 0));
    put_i64(b, -1); /* producerId */
    put_i16(b, -1); /* producerEpoch */
    put_i32(b, -1); /* baseSequence */
    put_i32(b, count);
    put(b, body, body_len);
    size_t size = b->len - start;
    patch_i32(b, start + 8, (int32_t)(size - 12));
    patch_i32(b, start + 17, (int32_t)st_crc32c(0, b->data + start + 21, size - 21));
}

/* `plain` compressed with codec into out (with common/compress.c's writer). */
static size_t compress(int codec, const wbuf *plain, uint8_t *out, size_t cap)
{
    st_buf buf = ST_BUF_INIT;
    st_cstream *cs = st_cstream_new();
    char err[200];
    if (!cs || st_cstream_start(cs, codec, &buf, cap, 0, err, sizeof err) ||
        st_cstream_write(cs, plain->data, plain->len, err, sizeof err) ||
        st_cstream_end(cs, err, sizeof err))
        fail("compressing with codec %d failed", codec);
    memcpy(out, buf.data, buf.len);
    size_t n = buf.len;
    st_buf_free(&buf);
    st_cstream_free(cs);
    return n;
}

/* Sends one Produce (version) of the record set `set` to partition 0; returns the
 * partition's error code and its base offset in *base_offset. */
static int produce(int16_t version, const char *topic, const wbuf *set, int64_t *base_offset,
                   const char *what)
{
    wbuf b = {.len = 0};
    uint8_t resp[4096];
    int fd = connect_loopback(port, 10);
    put_i32(&b, 0); /* size, patched by raw_exchange */
    put_i16(&b, API_PRODUCE);
    put_i16(&b, version);
    put_i32(&b, ++correlation_id);
    put_string(&b, "raw_batches");
    put_i16(&b, -1); /* transactional_id */
    put_i16(&b, -1); /* acks=all */
    put_i32(&b, 5000);
    put_i32(&b, 1);
    put_string(&b, topic);
    put_i32(&b, 1);
    put_i32(&b, 0); /* partition */
    put_i32(&b, (int32_t)set->len);
    put(&b, set->data, set->len);
    raw_rd r = raw_exchange(fd, &b, correlation_id, resp, sizeof resp, what);
    close(fd);
    if (raw_i32(&r) != 1)
        fail("%s: expected one topic in the answer", what);
    char name[256];
    raw_string(&r, name, sizeof name);
    if (raw_i32(&r) != 1)
        fail("%s: expected one partition in the answer", what);
    raw_i32(&r); /* index */
    int16_t err = raw_i16(&r);
    *base_offset = raw_i64(&r); /* -1 when refused */
    return err;
}

static int64_t expect(int16_t version, const char *topic, const wbuf *set, int want,
                      const char *what)
{
    int64_t offset;
    int got = produce(version, topic, set, &offset, what);
    if (got != want)
        fail("%s: error %d, expected %d", what, got, want);
    printf("ok: %s: error %d\n", what, got);
    fflush(stdout);
    return offset;
}

int main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 5 && strcmp(argv[3], "one") == 0)) {
        fprintf(stderr, "usage: raw_batches PORT TOPIC [one CODE]\n");
        return 2;
    }
    port = atoi(argv[1]);
    const char *topic = argv[2];
    wbuf plain = {.len = 0}, set;
    uint8_t comp[2048];
    if (argc == 5) {
        put_records(&plain, "one", 1);
        set.len = 0;
        put_batch(&set, 1, ST_CODEC_NONE, plain.data, plain.len);
        expect(7, topic, &set, atoi(argv[4]), "one");
        return 0;
    }

    /* the positive control: a real gzip batch */
    put_records(&plain, "gz", 2);
    size_t clen = compress(ST_CODEC_GZIP, &plain, comp, sizeof comp);
    set.len = 0;
    put_batch(&set, 2, ST_CODEC_GZIP, comp, clen);
    int64_t first = expect(3, topic, &set, 0, "valid-gzip");

    /* 64 random bytes under each codec's attribute, with a valid CRC */
    uint8_t noise[64];
    srand(12345);
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t)rand();
    const char *names[] = {NULL, "gzip-random", "snappy-random", "lz4-random", "zstd-random"};
    for (int codec = 1; codec <= 4; codec++) {
        set.len = 0;
        put_batch(&set, 1, codec, noise, sizeof noise);
        expect(7, topic, &set, 87, names[codec]);
    }

    /* 16 bytes claiming 2,147,483,647 records */
    uint8_t sixteen[16] = {0};
    set.len = 0;
    put_batch(&set, INT32_MAX, ST_CODEC_GZIP, sixteen, sizeof sixteen);
    expect(3, topic, &set, 87, "huge-count");
    set.len = 0;
    put_batch(&set, INT32_MAX, ST_CODEC_NONE, sixteen, sizeof sixteen);
    expect(3, topic, &set, 87, "huge-count-plain");

    /* a gzip batch that says 3 records and holds 2 */
    set.len = 0;
    put_batch(&set, 3, ST_CODEC_GZIP, comp, clen);
    expect(3, topic, &set, 87, "count-mismatch");

    /* zstd in a Produce older than v7 */
    clen = compress(ST_CODEC_ZSTD, &plain, comp, sizeof comp);
    set.len = 0;
    put_batch(&set, 2, ST_CODEC_ZSTD, comp, clen);
    expect(3, topic, &set, 76, "zstd-v3");

    /* and the partition still takes a valid record, right after the first batch */
    plain.len = 0;
    put_records(&plain, "after-poison", 1);
    set.len = 0;
    put_batch(&set, 1, ST_CODEC_NONE, plain.data, plain.len);
    int64_t second = expect(3, topic, &set, 0, "valid-after");
    printf("offsets %lld %lld\n", (long long)first, (long long)second);
    if (second != first + 2)
        fail("the valid record after the refused batches got offset %lld, expected %lld",
             (long long)second, (long long)first + 2);
    printf("raw_batches: all cases behaved\n");
    return 0;
}
