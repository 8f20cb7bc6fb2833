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
 *
 * That loop is bound by the crc32 unit, one instruction (8 bytes) a cycle. CPUs with
 * VPCLMULQDQ (carry-less multiply on 512-bit registers, AVX-512) fold 256 bytes per
 * round instead — 16 multiplies in 4 instructions — so inputs of 256 bytes and more
 * take that path when the CPU has it (checked at run time):
 *
 *   A 128-bit lane holds 16 message bytes, i.e. a polynomial a of degree < 128 in the
 *   reflected order (bit 0 of byte 0 is the highest power). Moving it D bits further
 *   along the message multiplies it by x^D; modulo P that is
 *       a·x^D = a_hi·x^(D+64) + a_lo·x^D ≡ a_hi·(x^(D+64) mod P) + a_lo·(x^D mod P),
 *   two 64 × 32-bit carry-less multiplies whose sum has degree < 128 and can be XORed
 *   into the lane D bits ahead. In the reflected order a carry-less product comes out
 *   multiplied by x once more, so the constants are x^(D+63) and x^(D-1) mod P. They
 *   are computed at start-up by advancing a CRC register bit by bit (no table copied
 *   from anywhere). What is left at the end, 16 bytes, goes through the crc32
 *   instruction from a zero register, which yields a·x^32 mod P — the CRC register.
 *   The caller's CRC enters by XOR into the first 4 bytes, as a register does.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define POLY 0x82f63b78u /* reflected Castagnoli polynomial */

/* Block sizes of the interleaved loop: three LONG blocks, then three SHORT ones. */
#define LONG  8192
#define SHORT 256

static uint32_t table[8][256];
static uint32_t shift_long[4][256];  /* advances a register over LONG zero bytes */
static uint32_t shift_short[4][256]; /* ... over SHORT zero bytes */
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int have_sse42;
static int have_vpclmul;
/* Folding constants, {x^(D+63) mod P, x^(D-1) mod P} as 64-bit reflected values, for
 * the distances D (bits) the VPCLMULQDQ path folds over. */
static uint64_t fold_2048[2], fold_512[2], fold_128[2];

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

/* x^n mod P in the reflected order, shifted to the top half of a 64-bit word (the
 * form a 64-bit lane of the carry-less multiply wants). */
static uint64_t xpow_mod(unsigned n)
{
    uint32_t r = 0x80000000u; /* x^0 */
    for (unsigned i = 0; i < n; i++)
        r = (r & 1) ? (r >> 1) ^ POLY : r >> 1; /* times x */
    return (uint64_t)r << 32;
}

static void fold_constants(uint64_t k[2], unsigned distance)
{
    k[0] = xpow_mod(distance + 63);
    k[1] = xpow_mod(distance - 1);
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
    have_vpclmul = have_sse42 && __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("pclmul");
    if (have_vpclmul) {
        fold_constants(fold_2048, 2048);
        fold_constants(fold_512, 512);
        fold_constants(fold_128, 128);
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

#define FOLD_TARGET __attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2")))

/* Each 128-bit lane of x moved D bits on (k: that distance's constants), XOR data. */
FOLD_TARGET static inline __m512i fold512(__m512i x, __m512i k, __m512i data)
{
    __m512i hi = _mm512_clmulepi64_epi128(x, k, 0x00);    /* a_hi · x^(D+63) */
    __m512i lo = _mm512_clmulepi64_epi128(x, k, 0x11);    /* a_lo · x^(D-1) */
    return _mm512_ternarylogic_epi64(hi, lo, data, 0x96); /* three-way XOR */
}

FOLD_TARGET static inline __m128i fold128(__m128i x, __m128i k, __m128i data)
{
    __m128i hi = _mm_clmulepi64_si128(x, k, 0x00);
    __m128i lo = _mm_clmulepi64_si128(x, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(hi, lo), data);
}

/* The raw register (no inversion) over n >= 256 bytes at p. */
FOLD_TARGET static uint32_t folded(uint32_t crc, const uint8_t *p, size_t n)
{
    __m512i k2048 = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)fold_2048));
    __m512i k512 = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)fold_512));
    __m128i k128 = _mm_loadu_si128((const __m128i *)fold_128);
    __m512i x0 = _mm512_loadu_si512(p), x1 = _mm512_loadu_si512(p + 64);
    __m512i x2 = _mm512_loadu_si512(p + 128), x3 = _mm512_loadu_si512(p + 192);
    x0 = _mm512_xor_si512(x0, _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)crc)));
    p += 256;
    n -= 256;
    while (n >= 256) {
        x0 = fold512(x0, k2048, _mm512_loadu_si512(p));
        x1 = fold512(x1, k2048, _mm512_loadu_si512(p + 64));
        x2 = fold512(x2, k2048, _mm512_loadu_si512(p + 128));
        x3 = fold512(x3, k2048, _mm512_loadu_si512(p + 192));
        p += 256;
        n -= 256;
    }
    /* four registers into one, each 64 bytes behind the next */
    x1 = fold512(x0, k512, x1);
    x2 = fold512(x1, k512, x2);
    x3 = fold512(x2, k512, x3);
    while (n >= 64) {
        x3 = fold512(x3, k512, _mm512_loadu_si512(p));
        p += 64;
        n -= 64;
    }
    /* four lanes into one, each 16 bytes behind the next */
    __m128i a = _mm512_extracti32x4_epi32(x3, 0);
    a = fold128(a, k128, _mm512_extracti32x4_epi32(x3, 1));
    a = fold128(a, k128, _mm512_extracti32x4_epi32(x3, 2));
    a = fold128(a, k128, _mm512_extracti32x4_epi32(x3, 3));
    while (n >= 16) {
        a = fold128(a, k128, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    uint64_t c = __builtin_ia32_crc32di(0, (uint64_t)_mm_cvtsi128_si64(a));
    c = __builtin_ia32_crc32di(c, (uint64_t)_mm_extract_epi64(a, 1));
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
    if (have_vpclmul && n >= 256)
        return ~folded(crc, data, n);
    if (have_sse42)
        return ~hw(crc, data, n);
#endif
    return ~sw(crc, data, n);
}

uint32_t st_crc32c_sse42(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&table_once, build);
#if defined(__x86_64__)
    if (have_sse42)
        return ~hw(~crc, data, n);
#endif
    return ~sw(~crc, data, n);
}

uint32_t st_crc32c_sw(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&table_once, build);
    return ~sw(~crc, data, n);
}
