/*
 * Test helper shared by the log unit tests: builds valid, uncompressed RecordBatch v2
 * bytes (as a producer sends them: baseOffset 0, CRC-32C over bytes 21..end).
 */
#ifndef ST_TEST_BUILD_BATCH_H
#define ST_TEST_BUILD_BATCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"

__attribute__((unused)) static size_t put_varlong(uint8_t *p, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (u >= 0x80) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

__attribute__((unused)) static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

__attribute__((unused)) static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

/* Recomputes the CRC after a test edits covered bytes. */
__attribute__((unused)) static void fix_crc(uint8_t *b, size_t size)
{
    put_be(b + 17, st_crc32c(0, b + 21, size - 21), 4);
}

/*
 * Writes a batch of n records into buf (cap bytes): record i has key "k<i>", a value of
 * value_len bytes and timestamp base_ts + i. Returns the batch size.
 */
__attribute__((unused)) static size_t build_batch(uint8_t *buf, size_t cap, int n, int64_t base_ts,
                                                  size_t value_len)
{
    size_t pos = 61;
    for (int i = 0; i < n; i++) {
        uint8_t body[4096];
        size_t b = 0;
        char key[16];
        int klen = snprintf(key, sizeof key, "k%d", i);
        body[b++] = 0;                 /* attributes */
        b += put_varlong(body + b, i); /* timestampDelta */
        b += put_varlong(body + b, i); /* offsetDelta */
        b += put_varlong(body + b, klen);
        memcpy(body + b, key, (size_t)klen);
        b += (size_t)klen;
        b += put_varlong(body + b, (int64_t)value_len);
        memset(body + b, 'a' + i % 26, value_len);
        b += value_len;
        b += put_varlong(body + b, 0); /* headers */
        if (pos + b + 10 > cap)
            abort(); /* the test's buffer is too small */
        pos += put_varlong(buf + pos, (int64_t)b);
        memcpy(buf + pos, body, b);
        pos += b;
    }
    put_be(buf, 0, 8);                      /* baseOffset */
    put_be(buf + 8, pos - 12, 4);           /* batchLength */
    put_be(buf + 12, (uint64_t)-1, 4);      /* partitionLeaderEpoch */
    buf[16] = 2;                            /* magic */
    put_be(buf + 21, 0, 2);                 /* attributes */
    put_be(buf + 23, (uint64_t)(n - 1), 4); /* lastOffsetDelta */
    put_be(buf + 27, (uint64_t)base_ts, 8);
    put_be(buf + 35, (uint64_t)(base_ts + n - 1), 8);
    put_be(buf + 43, (uint64_t)-1, 8); /* producerId */
    put_be(buf + 51, (uint64_t)-1, 2); /* producerEpoch */
    put_be(buf + 53, (uint64_t)-1, 4); /* baseSequence */
    put_be(buf + 57, (uint64_t)n, 4);
    fix_crc(buf, pos);
    return pos;
}

#endif
