/*
 * raw_heavy PORT inflate TOPIC
 * raw_heavy PORT alter-configs N
 * raw_heavy PORT describe-configs N
 *
 * Requests that are cheap to send and were expensive to answer on the broker's single
 * event loop, sent by hand over a plain socket (no client library builds them). While
 * the broker works on one, an ApiVersions on a second connection measures how long
 * everyone else waits; both times are printed.
 *
 *   inflate        a Produce v7 whose record set is 2 MiB of plain records and two zstd
 *                  batches of 150 MiB of zeros each (a few KB on the wire). The request's
 *                  decompression budget used to grow with its size (256 x 2 MiB + 32
 *                  MiB, which 300 MiB fits in): now it stops at 256 MiB, so the second
 *                  bomb is refused → INVALID_RECORD (87).
 *   alter-configs  an IncrementalAlterConfigs v0 on the cluster-wide BROKER resource
 *                  with N distinct config names (none a real config): one duplicate
 *                  check compared every name with every other (N^2/2 string compares,
 *                  about a minute for N = 200,000); → INVALID_REQUEST (42), unknown
 *                  config.
 *   describe-configs  a DescribeConfigs v1 (with synonyms) naming the BROKER resource "0"
 *                  N times, 8 bytes each. Each was answered in full, about 3 KB: 360
 *                  times the request (a 100 MiB request, 36 GB held in memory). Now the
 *                  first is answered and the repeats get INVALID_REQUEST (42); the
 *                  answer must stay under 16 bytes per request byte.
 *
 * Prints "<case>: error <code> in <ms> ms; ApiVersions meanwhile in <ms> ms". Exits 1
 * when the error is not the expected one or either answer takes longer than 10 s.
 */
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/compress.h"
#include "common/crc32c.h"
#include "tests/integration/raw_util.h"

#define LIMIT_MS 10000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t varint(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    for (; z >= 0x80; z >>= 7)
        p[n++] = (uint8_t)(z | 0x80);
    p[n++] = (uint8_t)z;
    return n;
}

static void header(st_buf *b, int16_t api, int16_t version, int32_t correlation_id)
{
    st_buf_put_i32(b, 0); /* size, patched */
    st_buf_put_i16(b, api);
    st_buf_put_i16(b, version);
    st_buf_put_i32(b, correlation_id);
    st_buf_put_i16(b, 9);
    st_buf_append(b, "raw_heavy", 9);
}

static void put_str(st_buf *b, const char *s)
{
    st_buf_put_i16(b, (int16_t)strlen(s));
    st_buf_append(b, s, strlen(s));
}

/* A batch of one record (value: value_len bytes, all `fill`), its records section
 * compressed with codec; appended to b. Streams the value: it is never held whole. */
static void put_batch(st_buf *b, int codec, size_t value_len, uint8_t fill)
{
    size_t at = b->len;
    int64_t ts = (int64_t)time(NULL) * 1000;
    st_buf_put_i64(b, 0);  /* baseOffset */
    st_buf_put_i32(b, 0);  /* batchLength, patched */
    st_buf_put_i32(b, -1); /* partitionLeaderEpoch */
    st_buf_put_i8(b, 2);   /* magic */
    st_buf_put_i32(b, 0);  /* crc, patched */
    st_buf_put_i16(b, (int16_t)codec);
    st_buf_put_i32(b, 0); /* lastOffsetDelta */
    st_buf_put_i64(b, ts);
    st_buf_put_i64(b, ts);
    st_buf_put_i64(b, -1); /* producerId */
    st_buf_put_i16(b, -1);
    st_buf_put_i32(b, -1);
    st_buf_put_i32(b, 1); /* records */
    uint8_t rec[32], len[10];
    size_t r = 0;
    rec[r++] = 0;             /* attributes */
    r += varint(rec + r, 0);  /* timestampDelta */
    r += varint(rec + r, 0);  /* offsetDelta */
    r += varint(rec + r, -1); /* key: null */
    r += varint(rec + r, (int64_t)value_len);
    size_t l = varint(len, (int64_t)(r + value_len + 1));
    static uint8_t chunk[1 << 20];
    memset(chunk, fill, sizeof chunk);
    st_cstream *cs = st_cstream_new();
    char err[200];
    if (!cs || st_cstream_start(cs, codec, b, SIZE_MAX, 0, err, sizeof err) ||
        st_cstream_write(cs, len, l, err, sizeof err) ||
        st_cstream_write(cs, rec, r, err, sizeof err))
        fail("compressing: %s", err);
    for (size_t n = 0; n < value_len; n += sizeof chunk) {
        size_t piece = value_len - n < sizeof chunk ? value_len - n : sizeof chunk;
        if (st_cstream_write(cs, chunk, piece, err, sizeof err))
            fail("compressing: %s", err);
    }
    if (st_cstream_write(cs, (const uint8_t *)"", 1, err, sizeof err) || /* no headers */
        st_cstream_end(cs, err, sizeof err))
        fail("compressing: %s", err);
    st_cstream_free(cs);
    size_t size = b->len - at;
    st_put_be32(b->data + at + 8, (uint32_t)(size - 12));
    st_put_be32(b->data + at + 17, st_crc32c(0, b->data + at + 21, size - 21));
}

/* Reads one whole answer (the frame size first) into a new buffer; returns its length. */
static size_t read_answer(int fd, uint8_t **out, const char *what)
{
    uint8_t size[4];
    raw_read_full(fd, size, 4, what);
    uint32_t n = st_be32(size);
    if (n < 4 || n > (64u << 20))
        fail("%s: answer size %u out of range", what, n);
    *out = malloc(n);
    if (!*out)
        fail("out of memory");
    raw_read_full(fd, *out, n, what);
    return n;
}

/* Sends `heavy` on one connection, then an ApiVersions on another; returns the heavy
 * answer (caller frees) and the two times. */
static size_t exchange(int port, st_buf *heavy, uint8_t **answer, double *heavy_ms,
                       double *other_ms)
{
    int fd = connect_loopback(port, 60), probe = connect_loopback(port, 60);
    st_buf_patch_i32(heavy, 0, (int32_t)(heavy->len - 4));
    st_buf av = ST_BUF_INIT;
    header(&av, 18, 0, 2);
    st_buf_patch_i32(&av, 0, (int32_t)(av.len - 4));
    double t0 = now_ms();
    send_all(fd, heavy->data, heavy->len, "the heavy request");
    send_all(probe, av.data, av.len, "ApiVersions");
    uint8_t *probe_answer;
    free((read_answer(probe, &probe_answer, "ApiVersions"), probe_answer));
    *other_ms = now_ms() - t0;
    size_t n = read_answer(fd, answer, "the heavy request");
    *heavy_ms = now_ms() - t0;
    st_buf_free(&av);
    close(fd);
    close(probe);
    return n;
}

static void report(const char *what, int code, int want, double heavy_ms, double other_ms)
{
    printf("%s: error %d in %.0f ms; ApiVersions meanwhile in %.0f ms\n", what, code, heavy_ms,
           other_ms);
    if (code != want)
        fail("%s: error %d, expected %d", what, code, want);
    if (heavy_ms > LIMIT_MS || other_ms > LIMIT_MS)
        fail("%s: an answer took more than %d ms: the event loop was held", what, LIMIT_MS);
}

static void inflate(int port, const char *topic)
{
    st_buf set = ST_BUF_INIT, req = ST_BUF_INIT;
    put_batch(&set, ST_CODEC_NONE, 1000 << 10, 'v'); /* 2 MiB of plain records... */
    put_batch(&set, ST_CODEC_NONE, 1000 << 10, 'w');
    put_batch(&set, ST_CODEC_NONE, 48 << 10, 'x');
    put_batch(&set, ST_CODEC_ZSTD, (size_t)150 << 20, 0); /* ...then 300 MiB of zeros */
    put_batch(&set, ST_CODEC_ZSTD, (size_t)150 << 20, 0);
    header(&req, 0, 7, 1);
    st_buf_put_i16(&req, -1); /* transactional_id */
    st_buf_put_i16(&req, -1); /* acks=all */
    st_buf_put_i32(&req, 30000);
    st_buf_put_i32(&req, 1);
    put_str(&req, topic);
    st_buf_put_i32(&req, 1);
    st_buf_put_i32(&req, 0);
    st_buf_put_i32(&req, (int32_t)set.len);
    st_buf_append(&req, set.data, set.len);
    uint8_t *answer;
    double heavy_ms, other_ms;
    size_t n = exchange(port, &req, &answer, &heavy_ms, &other_ms);
    /* correlation id, topics [1], name, partitions [1], index, error */
    size_t at = 4 + 4 + 2 + strlen(topic) + 4 + 4;
    if (n < at + 2)
        fail("inflate: answer of %zu bytes is too short", n);
    report("inflate", (int16_t)st_be16(answer + at), 87, heavy_ms, other_ms);
    free(answer);
    st_buf_free(&set);
    st_buf_free(&req);
}

static void alter_configs(int port, int n)
{
    st_buf req = ST_BUF_INIT;
    header(&req, 44, 0, 1);
    st_buf_put_i32(&req, 1);
    st_buf_put_i8(&req, 4); /* BROKER */
    put_str(&req, "");      /* cluster-wide */
    st_buf_put_i32(&req, n);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%07d", i);
        put_str(&req, name);
        st_buf_put_i8(&req, 0); /* SET */
        put_str(&req, "1");
    }
    st_buf_put_i8(&req, 0); /* validate_only */
    uint8_t *answer;
    double heavy_ms, other_ms;
    size_t len = exchange(port, &req, &answer, &heavy_ms, &other_ms);
    /* correlation id, throttle, resources [1], error */
    if (len < 14)
        fail("alter-configs: answer of %zu bytes is too short", len);
    report("alter-configs", (int16_t)st_be16(answer + 12), 42, heavy_ms, other_ms);
    free(answer);
    st_buf_free(&req);
}

static void skip_string(raw_rd *r)
{
    int16_t n = raw_i16(r);
    if (n > 0) {
        raw_need(r, (size_t)n);
        r->p += n;
    }
}

static void describe_configs(int port, int n)
{
    st_buf req = ST_BUF_INIT;
    header(&req, 32, 1, 1);
    st_buf_put_i32(&req, n);
    for (int i = 0; i < n; i++) {
        st_buf_put_i8(&req, 4); /* BROKER */
        put_str(&req, "0");
        st_buf_put_i32(&req, -1); /* every config */
    }
    st_buf_put_i8(&req, 1); /* include_synonyms */
    size_t req_len = req.len;
    uint8_t *answer;
    double heavy_ms, other_ms;
    size_t len = exchange(port, &req, &answer, &heavy_ms, &other_ms);
    raw_rd r = {answer, answer + len, "describe-configs"};
    raw_i32(&r); /* correlation id */
    raw_i32(&r); /* throttle */
    if (raw_i32(&r) != n)
        fail("describe-configs: expected %d resources in the answer", n);
    int answered = 0, repeats = 0, configs = 0;
    for (int i = 0; i < n; i++) {
        int16_t err = raw_i16(&r);
        skip_string(&r); /* error message */
        raw_i8(&r);
        skip_string(&r);
        int32_t nconfigs = raw_i32(&r);
        for (int32_t c = 0; c < nconfigs; c++) {
            skip_string(&r);
            skip_string(&r);
            raw_need(&r, 3); /* read_only, source, is_sensitive */
            r.p += 3;
            int32_t nsyn = raw_i32(&r);
            for (int32_t k = 0; k < nsyn; k++) {
                skip_string(&r);
                skip_string(&r);
                raw_i8(&r);
            }
        }
        if (err == 0 && i == 0)
            answered++, configs = nconfigs;
        else if (err == 42 && nconfigs == 0)
            repeats++;
        else
            fail("describe-configs: resource %d: error %d with %d configs", i, err, nconfigs);
    }
    printf("describe-configs: %zu-byte request, %zu-byte answer (%d configs, %d repeats "
           "refused) in %.0f ms; ApiVersions meanwhile in %.0f ms\n",
           req_len, len, configs, repeats, heavy_ms, other_ms);
    if (answered != 1 || configs < 10)
        fail("describe-configs: the first resource was not answered with the broker's configs");
    if (len > 16 * req_len)
        fail("describe-configs: a %zu-byte answer to %zu bytes", len, req_len);
    report("describe-configs", 0, 0, heavy_ms, other_ms);
    free(answer);
    st_buf_free(&req);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[2], "inflate") == 0)
        inflate(atoi(argv[1]), argv[3]);
    else if (argc == 4 && strcmp(argv[2], "alter-configs") == 0)
        alter_configs(atoi(argv[1]), atoi(argv[3]));
    else if (argc == 4 && strcmp(argv[2], "describe-configs") == 0)
        describe_configs(atoi(argv[1]), atoi(argv[3]));
    else {
        fprintf(stderr, "usage: raw_heavy PORT inflate TOPIC | raw_heavy PORT alter-configs N | "
                        "raw_heavy PORT describe-configs N\n");
        return 2;
    }
    return 0;
}
