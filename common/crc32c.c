/*
 * CRC-32C. The software path is slicing-by-8 over tables built once (pthread_once) —
 * constant data after that, so not mutable global state.
 *
 * The hardware path uses SSE4.2's crc32 instruction. One instruction folds 8 bytes but
 * has a latency of 3 cycles, so a single chain runs at a third of the unit's speed.
 * Long inputs are therefore cut into three equal blocks whose CRCs are computed in one
 * interleaved loop, then combined: CRC is linear, so
 *     crc(A || B) = shift(crc(A), |B|) ^ crc(B started from 0),
 * where shift advances a CRC register over |B| zero bytes. For the two fixed block sizes
 * used here that shift is a precomputed table lookup (4 × 256 entries each). This is
 * the method of Intel's white paper on crc32 and of Mark Adler's crc32c.c.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82f63b78u /* reflected Castagnoli polynomial */

/* Block sizes of the interleaved loop: three LONG blocks, then three SHORT ones. */
#define LONG  8192
#define SHORT 256

static uint32_t table[8][256];
static uint32_t shift_long[4][256];  /* advances a register over LONG zero bytes */
static uint32_t shift_short[4][256]; /* ... over SHORT zero bytes */
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int have_sse42;

/* Advances a raw CRC register over n zero bytes, a byte at a time (init only). */
__attribute__((unused)) static uint32_t zeros_slow(uint32_t crc, size_t n)
{
    for (size_t i = 0; i < n; i++)
        crc = table[0][crc & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
/* The same with the crc32 instruction, 8 zero bytes at a time (n a multiple of 8). */
__attribute__((target("sse4.2"))) static uint32_t zeros_hw(uint32_t crc, size_t n)
{
    uint64_t c = crc;
    for (size_t i = 0; i < n; i += 8)
        c = __builtin_ia32_crc32di(c, 0);
    return (uint32_t)c;
}
#endif

static void build_shift(uint32_t shift[4][256], size_t n)
{
    /* The shift is linear over GF(2): tabulate it for every byte in every position.
     * Only built when the CPU has SSE4.2, so zeros_hw is there (about 1 ms at start;
     * zeros_slow, kept as its reference, would take 20). */
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
#if defined(__x86_64__)
            shift[k][b] = zeros_hw(b << (8 * k), n);
#else
            shift[k][b] = zeros_slow(b << (8 * k), n);
#endif
}

static void build(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++)
            table[k][n] = (table[k - 1][n] >> 8) ^ table[0][table[k - 1][n] & 0xff];
#if defined(__x86_64__)
    __builtin_cpu_init();
    have_sse42 = __builtin_cpu_supports("sse4.2");
    if (have_sse42) {
        build_shift(shift_long, LONG);
        build_shift(shift_short, SHORT);
    }
#endif
}

static inline uint32_t shift(uint32_t t[4][256], uint32_t crc)
{
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

static uint32_t sw(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc;
        crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
              table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
              table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
/* Three blocks of `block` bytes at p, interleaved; returns the combined register. */
__attribute__((target("sse4.2"))) static inline uint64_t three_way(uint64_t crc0, const uint8_t *p,
                                                                   size_t block, uint32_t t[4][256])
{
    uint64_t crc1 = 0, crc2 = 0;
    const uint8_t *end = p + block;
    while (p < end) {
        uint64_t w0, w1, w2;
        memcpy(&w0, p, 8);
        memcpy(&w1, p + block, 8);
        memcpy(&w2, p + 2 * block, 8);
        crc0 = __builtin_ia32_crc32di(crc0, w0);
        crc1 = __builtin_ia32_crc32di(crc1, w1);
        crc2 = __builtin_ia32_crc32di(crc2, w2);
        p += 8;
    }
    crc0 = shift(t, (uint32_t)crc0) ^ crc1;
    return shift(t, (uint32_t)crc0) ^ crc2;
}

__attribute__((target("sse4.2"))) static uint32_t hw(uint32_t crc, const uint8_t *p, size_t n)
{
    uint64_t c = crc;
    while (n >= 3 * LONG) {
        c = three_way(c, p, LONG, shift_long);
        p += 3 * LONG;
        n -= 3 * LONG;
    }
    while (n >= 3 * SHORT) {
        c = three_way(c, p, SHORT, shift_short);
        p += 3 * SHORT;
        n -= 3 * SHORT;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t st_crc32c(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&table_once, build);
    crc = ~crc;
#if defined(__x86_64__)
    if (have_sse42)
        return ~hw(crc, data, n);
#endif
    return ~sw(crc, data, n);
}

uint32_t st_crc32c_sw(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&table_once, build);
    return ~sw(~crc, data, n);
}
