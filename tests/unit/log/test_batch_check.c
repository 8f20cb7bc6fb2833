/* Unit tests for broker/log/batch_check.c: the records of compressed batches are checked
 * as Kafka checks them (count, offset deltas, sizes, varints, timestamps, keys), within
 * a decompression budget, and batches are recompressed for a topic's compression.type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "broker/log/batch.h"
#include "broker/log/records.h"
#include "common/compress.h"
#include "common/errors.h"
#include "tests/unit/compressors.h"
#include "tests/unit/log/build_batch.h"

#define MAX_MSG 1048588
#define TS      1700000000000LL

typedef size_t compress_fn(const uint8_t *in, size_t n, uint8_t *out, size_t cap);
static compress_fn *const compressors[] = {NULL, comp_gzip, comp_snappy, comp_lz4, comp_zstd};

/* Compresses the records of the uncompressed batch in (size bytes) with codec into out
 * (cap bytes), fixing length, attributes and CRC. Returns the new size. */
static size_t compress_batch_with(compress_fn *fn, const uint8_t *in, size_t size, int codec,
                                  uint8_t *out, size_t cap)
{
    memcpy(out, in, 61);
    size_t clen = fn(in + 61, size - 61, out + 61, cap - 61);
    put_be(out + 8, 61 + clen - 12, 4);
    put_be(out + 21, (uint64_t)codec, 2);
    fix_crc(out, 61 + clen);
    return 61 + clen;
}

static size_t compress_batch(const uint8_t *in, size_t size, int codec, uint8_t *out, size_t cap)
{
    return compress_batch_with(compressors[codec], in, size, codec, out, cap);
}

/* A batch of n records of value_len bytes each (any size: build_batch stops at 4 KiB),
 * written at out->len. Returns its size. */
static size_t big_batch(st_buf *out, int n, size_t value_len)
{
    uint8_t *value = malloc(value_len ? value_len : 1);
    assert_non_null(value);
    memset(value, 'v', value_len);
    st_batch_builder b;
    st_batch_builder_init(&b, out, 0, TS, -1, -1, -1, 0);
    for (int i = 0; i < n; i++)
        st_batch_builder_add(&b, i, TS + i, (st_bytes){(const uint8_t *)"key", 3},
                             (st_bytes){value, (int32_t)value_len}, 0, (st_bytes){NULL, 0});
    free(value);
    return st_batch_builder_finish(&b);
}

static int prepare(uint8_t *p, size_t len, const st_batch_policy *pol, st_batch_ws *ws,
                   st_batches_out *out, char *why, size_t whylen)
{
    int rc = st_batches_prepare(p, len, pol, ws, out, why, whylen);
    if (rc != ST_ERR_NONE && rc != ST_ERR_INVALID_RECORD && rc != ST_ERR_INVALID_TIMESTAMP &&
        rc != ST_ERR_MESSAGE_TOO_LARGE && rc != ST_ERR_CORRUPT_MESSAGE)
        fail_msg("unexpected code %d: %s", rc, why);
    return rc;
}

static void test_compressed_valid(void **state)
{
    static uint8_t comp[400000];
    char why[200] = "";
    /* small records, and records whose values span several 64 KiB windows */
    size_t sizes[] = {20, 150000};
    for (int codec = 1; codec <= 4; codec++) {
        for (size_t s = 0; s < 2; s++) {
            int n = s == 0 ? 50 : 2;
            st_buf plain = ST_BUF_INIT;
            size_t size = big_batch(&plain, n, sizes[s]);
            size_t csize = compress_batch(plain.data, size, codec, comp, sizeof comp);
            st_batch_info info;
            int rc = st_batch_validate(comp, csize, MAX_MSG, &info, why, sizeof why);
            if (rc != ST_ERR_NONE)
                fail_msg("%s, %d records: %s", st_codec_name(codec), n, why);
            assert_int_equal(info.records_count, n);
            st_buf_free(&plain);
        }
    }
}

static void test_compressed_garbage(void **state)
{
    uint8_t plain[4096], b[4096];
    char why[200] = "";
    size_t size = build_batch(plain, sizeof plain, 3, TS, 10);
    /* the reported case: a valid CRC, the gzip attribute and 64 random bytes */
    memcpy(b, plain, 61);
    uint32_t x = 7;
    for (int i = 0; i < 64; i++) {
        x = x * 1103515245 + 12345;
        b[61 + i] = (uint8_t)(x >> 16);
    }
    for (int codec = 1; codec <= 4; codec++) {
        put_be(b + 8, 61 + 64 - 12, 4);
        put_be(b + 21, (uint64_t)codec, 2);
        fix_crc(b, 61 + 64);
        assert_int_equal(st_batch_validate(b, 61 + 64, MAX_MSG, NULL, why, sizeof why),
                         ST_ERR_INVALID_RECORD);
        assert_non_null(strstr(why, "do not decompress"));
    }
    /* an unknown codec */
    memcpy(b, plain, size);
    put_be(b + 21, 6, 2);
    fix_crc(b, size);
    assert_int_equal(st_batch_validate(b, size, MAX_MSG, NULL, why, sizeof why),
                     ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(why, "unknown compression codec 6"));
}

static void test_compressed_counts(void **state)
{
    uint8_t plain[4096], comp[8192];
    char why[200] = "";
    size_t size = build_batch(plain, sizeof plain, 3, TS, 10);
    for (int codec = 1; codec <= 4; codec++) {
        /* more records claimed than there are */
        put_be(plain + 23, 4, 4);
        put_be(plain + 57, 5, 4);
        size_t csize = compress_batch(plain, size, codec, comp, sizeof comp);
        assert_int_equal(st_batch_validate(comp, csize, MAX_MSG, NULL, why, sizeof why),
                         ST_ERR_INVALID_RECORD);
        assert_non_null(strstr(why, "record 3 of 5"));
        /* fewer: the third is left over */
        put_be(plain + 23, 1, 4);
        put_be(plain + 57, 2, 4);
        csize = compress_batch(plain, size, codec, comp, sizeof comp);
        assert_int_equal(st_batch_validate(comp, csize, MAX_MSG, NULL, why, sizeof why),
                         ST_ERR_INVALID_RECORD);
        assert_non_null(strstr(why, "more bytes follow"));
        put_be(plain + 23, 2, 4);
        put_be(plain + 57, 3, 4);
        /* a record whose offsetDelta is not its index */
        uint8_t bad[4096];
        memcpy(bad, plain, size);
        size_t at = 61 + 1 + (size_t)bad[61] / 2; /* record 1 starts after record 0 */
        assert_int_equal(bad[at + 3], 2);         /* its offsetDelta: zigzag 1 */
        bad[at + 3] = 4;                          /* offsetDelta 2 */
        csize = compress_batch(bad, size, codec, comp, sizeof comp);
        assert_int_equal(st_batch_validate(comp, csize, MAX_MSG, NULL, why, sizeof why),
                         ST_ERR_INVALID_RECORD);
        assert_non_null(strstr(why, "record 1 has offsetDelta 2"));
    }
    /* 16 bytes that claim 2,147,483,647 records */
    uint8_t b[128];
    memcpy(b, plain, 61);
    memset(b + 61, 0, 16);
    put_be(b + 8, 61 + 16 - 12, 4);
    put_be(b + 21, 1, 2);
    put_be(b + 23, 0x7ffffffe, 4);
    put_be(b + 57, 0x7fffffff, 4);
    fix_crc(b, 77);
    assert_int_equal(st_batch_validate(b, 77, MAX_MSG, NULL, why, sizeof why),
                     ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(why, "2147483647 records"));
}

/* Each field of a record, cut or lying, inside a compressed body. */
static void test_compressed_varints(void **state)
{
    uint8_t plain[4096], comp[8192];
    char why[200] = "";
    size_t size = build_batch(plain, sizeof plain, 1, TS, 10);
    /* record 0: len, attributes, tsDelta, offsetDelta, key len (2: "k0"), ... */
    struct {
        size_t at;
        uint8_t value;
        const char *want;
    } cases[] = {
        {61, 0x02, "length 1"},                  /* a length too small to hold a record */
        {61 + 4, 0x7f, "does not parse (key)"},  /* key length -64 */
        {61 + 4, 0x40, "does not parse (key)"},  /* key length 32: past the record */
        {61, 0x7e, "fields end 45 bytes"},       /* a length past the fields */
        {61 + 7, 0x02, "does not parse (value"}, /* value length 1: fields end early */
    };
    for (int codec = 1; codec <= 4; codec++) {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            uint8_t bad[4096];
            memcpy(bad, plain, size);
            bad[cases[c].at] = cases[c].value;
            size_t csize = compress_batch(bad, size, codec, comp, sizeof comp);
            int rc = st_batch_validate(comp, csize, MAX_MSG, NULL, why, sizeof why);
            if (rc != ST_ERR_INVALID_RECORD || !strstr(why, cases[c].want))
                fail_msg("%s case %zu: code %d, \"%s\"; wanted \"%s\"", st_codec_name(codec), c, rc,
                         why, cases[c].want);
        }
    }
}

/* A bomb is refused once it passes the request's budget, and memory use stays flat. */
static void test_budget(void **state)
{
    size_t value = 3 << 20; /* one 3 MiB record of one letter */
    st_buf plain = ST_BUF_INIT;
    size_t size = big_batch(&plain, 1, value);
    size_t cap = snappy_max_compressed_length(size) + 4096; /* snappy wants the worst case */
    uint8_t *comp = malloc(cap);
    assert_non_null(comp);
    st_batch_ws *ws = st_batch_ws_new();
    st_batch_policy pol;
    st_batch_policy_init(&pol, MAX_MSG);
    char why[200] = "";
    for (int codec = 1; codec <= 4; codec++) {
        size_t csize = compress_batch(plain.data, size, codec, comp, cap);
        assert_true(csize < MAX_MSG);
        st_batches_out out;
        st_batch_ws_begin(ws, 4 << 20);
        assert_int_equal(prepare(comp, csize, &pol, ws, &out, why, sizeof why), ST_ERR_NONE);
        assert_true(out.inflated >= (int64_t)value);
        /* what is left of the budget (1 MiB) does not cover a second one */
        assert_int_equal(prepare(comp, csize, &pol, ws, &out, why, sizeof why),
                         ST_ERR_INVALID_RECORD);
        assert_non_null(strstr(why, "decompresses to more than"));
    }
    st_batch_ws_free(ws);
    st_buf_free(&plain);
    free(comp);
}

/* One thread's workspace serves every producer in turn: a batch refused in the middle of
 * its records (here an lz4 frame declaring its content size, as kafka-python writes, cut
 * short by a timestamp outside the topic's window) must leave nothing that refuses the
 * next, valid lz4 batch (a frame without a content size, as the Java client writes).
 * lz4 1.9.4's context reset kept the unfinished frame's remaining content size, and the
 * valid batch was refused with "lz4: ERROR_frameSize_wrong" (found by fuzz_batch). */
static void test_ws_after_abandoned_lz4(void **state)
{
    static uint8_t comp[400000];
    uint8_t plain[4096], good[4096];
    char why[200] = "";
    st_buf big = ST_BUF_INIT;
    size_t big_size = big_batch(&big, 2, 150000); /* 300 KB: several 64 KiB windows */
    size_t bad =
        compress_batch_with(comp_lz4_sized, big.data, big_size, ST_CODEC_LZ4, comp, sizeof comp);
    size_t size = build_batch(plain, sizeof plain, 3, TS, 10);
    size_t good_size = compress_batch(plain, size, ST_CODEC_LZ4, good, sizeof good);
    st_batch_ws *ws = st_batch_ws_new();
    assert_non_null(ws);
    st_batch_policy window, plain_pol;
    st_batch_policy_init(&window, -1);
    window.timestamp_min = TS + 10; /* record 0 (at TS) is outside */
    st_batch_policy_init(&plain_pol, MAX_MSG);
    st_batches_out out;
    for (int round = 0; round < 3; round++) {
        st_batch_ws_begin(ws, st_batch_inflate_budget(bad));
        assert_int_equal(prepare(comp, bad, &window, ws, &out, why, sizeof why),
                         ST_ERR_INVALID_TIMESTAMP);
        st_batch_ws_begin(ws, st_batch_inflate_budget(good_size));
        if (prepare(good, good_size, &plain_pol, ws, &out, why, sizeof why) != ST_ERR_NONE)
            fail_msg("round %d: a valid lz4 batch after a refused one: %s", round, why);
        assert_int_equal(out.nrecords, 3);
    }
    st_batch_ws_free(ws);
    st_buf_free(&big);
}

/* A zstd batch of one record whose value is value_len zeros, appended to out; the zeros
 * are streamed into the compressor, never held whole. Returns its size. */
static size_t zero_bomb(st_buf *out, size_t value_len)
{
    uint8_t header[4096], rec[32];
    size_t at = out->len, r = 0, n = 0;
    build_batch(header, sizeof header, 1, TS, 0); /* its first 61 bytes: one record at TS */
    rec[r++] = 0;                                 /* attributes */
    r += put_varlong(rec + r, 0);                 /* timestampDelta */
    r += put_varlong(rec + r, 0);                 /* offsetDelta */
    r += put_varlong(rec + r, -1);                /* key: null */
    r += put_varlong(rec + r, (int64_t)value_len);
    uint8_t len[10];
    size_t l = put_varlong(len, (int64_t)(r + value_len + 1));
    st_buf_append(out, header, 61);
    st_cstream *cs = st_cstream_new();
    uint8_t *zeros = calloc(1, 1 << 20);
    char err[200];
    assert_non_null(cs);
    assert_non_null(zeros);
    assert_int_equal(st_cstream_start(cs, ST_CODEC_ZSTD, out, SIZE_MAX, 0, err, sizeof err), 0);
    assert_int_equal(st_cstream_write(cs, len, l, err, sizeof err), 0);
    assert_int_equal(st_cstream_write(cs, rec, r, err, sizeof err), 0);
    for (; n < value_len; n += 1 << 20)
        assert_int_equal(st_cstream_write(cs, zeros,
                                          value_len - n < (1 << 20) ? value_len - n : 1 << 20, err,
                                          sizeof err),
                         0);
    assert_int_equal(st_cstream_write(cs, (const uint8_t *)"", 1, err, sizeof err),
                     0); /* headers */
    assert_int_equal(st_cstream_end(cs, err, sizeof err), 0);
    st_cstream_free(cs);
    free(zeros);
    size_t size = out->len - at;
    put_be(out->data + at + 8, size - 12, 4);
    put_be(out->data + at + 21, ST_CODEC_ZSTD, 2);
    fix_crc(out->data + at, size);
    return size;
}

/* The budget stops growing with the request at ST_BATCH_INFLATE_MAX: a record set of a
 * few MiB used to be allowed to inflate 256 times its size (a 100 MiB request of gzip
 * bombs held the loop thread for tens of seconds). */
static void test_budget_ceiling(void **state)
{
    assert_true(st_batch_inflate_budget(0) == ST_BATCH_INFLATE_FLOOR);
    assert_true(st_batch_inflate_budget(1000) == 1000 * 256 + ST_BATCH_INFLATE_FLOOR);
    assert_true(st_batch_inflate_budget((size_t)1 << 20) == ST_BATCH_INFLATE_MAX);
    assert_true(st_batch_inflate_budget((size_t)100 << 20) == ST_BATCH_INFLATE_MAX);
    assert_true(st_batch_inflate_budget(SIZE_MAX) == ST_BATCH_INFLATE_MAX);

    /* 2 MiB of plain records, then two bombs of 150 MiB each: 300 MiB in all, within
     * 256 x 2 MiB + 32 MiB but past the ceiling, so the second bomb is refused */
    st_buf set = ST_BUF_INIT;
    big_batch(&set, 2, (size_t)1 << 20);
    zero_bomb(&set, (size_t)150 << 20);
    zero_bomb(&set, (size_t)150 << 20);
    st_batch_policy pol;
    st_batch_policy_init(&pol, -1);
    st_batches_out out;
    char why[200] = "";
    assert_int_equal(prepare(set.data, set.len, &pol, NULL, &out, why, sizeof why),
                     ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(why, "batch 2: "));
    assert_non_null(strstr(why, "decompresses to more than"));
    st_buf_free(&set);
}

static void test_keys_and_timestamps(void **state)
{
    uint8_t b[4096], comp[8192];
    char why[200] = "";
    st_batch_policy pol;
    st_batches_out out;
    for (int codec = 0; codec <= 4; codec++) {
        /* a record without a key, on a compacted topic */
        size_t size = build_batch(b, sizeof b, 2, TS, 10);
        size_t at = 61 + (size_t)b[61] / 2 + 1; /* record 1 */
        uint8_t rec1[64];
        size_t rec1_len = size - at;
        memcpy(rec1, b + at, rec1_len);
        /* record 1 = len, attr, ts, off, key len 2 "k1", value...: make the key null by
         * replacing "len 2 'k' '1'" with "len -1" and shortening the record by 2 */
        assert_int_equal(rec1[4], 4);
        uint8_t nokey[64];
        size_t n = 0;
        nokey[n++] = (uint8_t)(rec1[0] - 4); /* body two bytes shorter (zigzag) */
        memcpy(nokey + n, rec1 + 1, 3);
        n += 3;
        nokey[n++] = 1; /* -1 */
        memcpy(nokey + n, rec1 + 7, rec1_len - 7);
        n += rec1_len - 7;
        memcpy(b + at, nokey, n);
        size = at + n;
        put_be(b + 8, size - 12, 4);
        fix_crc(b, size);
        uint8_t *p = b;
        size_t len = size;
        if (codec) {
            len = compress_batch(b, size, codec, comp, sizeof comp);
            p = comp;
        }
        st_batch_policy_init(&pol, MAX_MSG);
        uint8_t copy[8192];
        memcpy(copy, p, len);
        assert_int_equal(prepare(copy, len, &pol, NULL, &out, why, sizeof why), ST_ERR_NONE);
        pol.keys_required = true;
        memcpy(copy, p, len);
        assert_int_equal(prepare(copy, len, &pol, NULL, &out, why, sizeof why),
                         ST_ERR_INVALID_RECORD);
        assert_non_null(strstr(why, "record 1 has no key"));

        /* record timestamps, not only the header's: record 1 is 1 ms past the window */
        pol.keys_required = false;
        pol.timestamp_min = TS - 1000;
        pol.timestamp_max = TS;
        memcpy(copy, p, len);
        assert_int_equal(prepare(copy, len, &pol, NULL, &out, why, sizeof why),
                         ST_ERR_INVALID_TIMESTAMP);
        assert_non_null(strstr(why, "record 1: timestamp 1700000000001"));
        pol.timestamp_max = TS + 1;
        memcpy(copy, p, len);
        assert_int_equal(prepare(copy, len, &pol, NULL, &out, why, sizeof why), ST_ERR_NONE);
        pol.log_append_time = true; /* not checked: the broker stamps the batch */
        pol.timestamp_max = TS;
        memcpy(copy, p, len);
        assert_int_equal(prepare(copy, len, &pol, NULL, &out, why, sizeof why), ST_ERR_NONE);
    }
}

/* maxTimestamp is set to the records' largest, as Kafka does, with a CRC to match. */
static void test_max_timestamp_fixed(void **state)
{
    uint8_t b[4096], comp[8192];
    char why[200] = "";
    st_batch_policy pol;
    st_batch_policy_init(&pol, MAX_MSG);
    for (int codec = 0; codec <= 4; codec++) {
        size_t size = build_batch(b, sizeof b, 4, TS, 10);
        put_be(b + 35, (uint64_t)TS, 8); /* claims TS; the records go to TS + 3 */
        fix_crc(b, size);
        uint8_t *p = b;
        if (codec) {
            size = compress_batch(b, size, codec, comp, sizeof comp);
            p = comp;
        }
        st_batches_out out;
        assert_int_equal(prepare(p, size, &pol, NULL, &out, why, sizeof why), ST_ERR_NONE);
        assert_ptr_equal(out.data, p);
        assert_int_equal((int64_t)get_be(p + 35, 8), TS + 3);
        assert_true(st_batch_intact(p, size));
    }
}

/* The records of batch `got` equal those of the uncompressed batch `want`, and the
 * header fields other than codec, length and CRC are unchanged. */
static void same_records(const uint8_t *want, size_t want_size, const uint8_t *got, size_t got_size,
                         int codec)
{
    assert_true(st_batch_intact(got, got_size));
    assert_int_equal(get_be(got + 21, 2) & 7, (uint64_t)codec);
    assert_memory_equal(want + 23, got + 23, 61 - 23);
    assert_memory_equal(want, got, 8);
    uint8_t *records = NULL;
    size_t n = got_size - 61;
    const uint8_t *body = got + 61;
    char err[200] = "";
    if (codec) {
        assert_int_equal(
            st_decompress(codec, got + 61, got_size - 61, 1 << 24, &records, &n, err, sizeof err),
            0);
        body = records;
    }
    assert_int_equal(n, want_size - 61);
    assert_memory_equal(body, want + 61, n);
    free(records);
}

static void test_recompress(void **state)
{
    static uint8_t plain[200000], comp[300000], copy[300000];
    char why[200] = "";
    st_batch_ws *ws = st_batch_ws_new();
    st_batch_policy pol;
    st_batch_policy_init(&pol, MAX_MSG);
    size_t size = build_batch(plain, sizeof plain, 40, TS, 3000);
    put_be(plain + 43, 77, 8); /* producer id, epoch and sequence survive */
    put_be(plain + 51, 3, 2);
    put_be(plain + 53, 5, 4);
    fix_crc(plain, size);
    for (int from = 0; from <= 4; from++) {
        size_t len = size;
        const uint8_t *src = plain;
        if (from) {
            len = compress_batch(plain, size, from, comp, sizeof comp);
            src = comp;
        }
        for (int to = 0; to <= 4; to++) {
            memcpy(copy, src, len);
            pol.target_codec = to;
            st_batches_out out;
            st_batch_ws_begin(ws, st_batch_inflate_budget(len));
            int rc = prepare(copy, len, &pol, ws, &out, why, sizeof why);
            if (rc != ST_ERR_NONE)
                fail_msg("%s → %s: %s", st_codec_name(from), st_codec_name(to), why);
            assert_int_equal(out.nrecords, 40);
            assert_true(from == to ? out.data == copy : out.data != copy);
            same_records(plain, size, out.data, out.len, to);
            /* what was written passes the checks again */
            st_batch_info info;
            assert_int_equal(st_batch_validate(out.data, out.len, MAX_MSG, &info, why, sizeof why),
                             ST_ERR_NONE);
        }
    }
    /* a set of two batches is refused when recompressing (Kafka takes one per request);
     * kept as it is when the topic keeps the producer's codec */
    size_t a = compress_batch(plain, size, ST_CODEC_ZSTD, comp, sizeof comp);
    memcpy(comp + a, plain, size);
    pol.target_codec = ST_CODEC_ZSTD;
    st_batches_out out;
    st_batch_ws_begin(ws, st_batch_inflate_budget(a + size));
    assert_int_equal(prepare(comp, a + size, &pol, ws, &out, why, sizeof why),
                     ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(why, "2 batches in one record set"));
    pol.target_codec = ST_BATCH_CODEC_PRODUCER;
    assert_int_equal(prepare(comp, a + size, &pol, ws, &out, why, sizeof why), ST_ERR_NONE);
    assert_int_equal(out.nbatches, 2);
    assert_ptr_equal(out.data, comp);
    st_batch_ws_free(ws);
}

/* Recompressing into "uncompressed" (or a codec that does worse) may pass
 * max.message.bytes: MESSAGE_TOO_LARGE, as Kafka answers. */
static void test_recompress_too_large(void **state)
{
    static uint8_t comp[300000];
    char why[200] = "";
    st_buf plain = ST_BUF_INIT;
    size_t size = big_batch(&plain, 20, 5000);
    size_t len = compress_batch(plain.data, size, ST_CODEC_ZSTD, comp, sizeof comp);
    st_buf_free(&plain);
    st_batch_policy pol;
    st_batch_policy_init(&pol, (int32_t)len + 100);
    pol.target_codec = ST_CODEC_NONE;
    st_batches_out out;
    assert_int_equal(prepare(comp, len, &pol, NULL, &out, why, sizeof why),
                     ST_ERR_MESSAGE_TOO_LARGE);
    assert_non_null(strstr(why, "max.message.bytes"));
    assert_non_null(strstr(why, "none"));
}

static void test_use_codec(void **state)
{
    uint8_t plain[4096], set[8192];
    size_t size = build_batch(plain, sizeof plain, 2, TS, 10);
    memcpy(set, plain, size);
    size_t b = compress_batch(plain, size, ST_CODEC_ZSTD, set + size, sizeof set - size);
    assert_false(st_batches_use_codec(set, size, ST_CODEC_ZSTD));
    assert_true(st_batches_use_codec(set, size + b, ST_CODEC_ZSTD));
    assert_false(st_batches_use_codec(set, size + b, ST_CODEC_LZ4));
    assert_false(st_batches_use_codec(set, 30, ST_CODEC_NONE)); /* bad framing: stops */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compressed_valid),
        cmocka_unit_test(test_compressed_garbage),
        cmocka_unit_test(test_compressed_counts),
        cmocka_unit_test(test_compressed_varints),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_ws_after_abandoned_lz4),
        cmocka_unit_test(test_budget_ceiling),
        cmocka_unit_test(test_keys_and_timestamps),
        cmocka_unit_test(test_max_timestamp_fixed),
        cmocka_unit_test(test_recompress),
        cmocka_unit_test(test_recompress_too_large),
        cmocka_unit_test(test_use_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
