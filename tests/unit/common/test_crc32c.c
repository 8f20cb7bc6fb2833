/* CRC-32C: known vectors, and both hardware paths (the folding one, taken from 256 bytes
 * on, and the interleaved crc32 one) against the portable one at every length around
 * their block sizes (256 and 64; 3 × 256 and 3 × 8192) and every alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/crc32c.h"

static void test_vectors(void **state)
{
    /* RFC 3720 B.4 and the usual check value */
    assert_int_equal(st_crc32c(0, "123456789", 9), 0xe3069283);
    uint8_t zeros[32] = {0}, ones[32];
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(st_crc32c(0, zeros, 32), 0x8a9136aa);
    assert_int_equal(st_crc32c(0, ones, 32), 0x62a8ab43);
    assert_int_equal(st_crc32c(0, NULL, 0), 0);
}

static void test_hw_matches_sw(void **state)
{
    size_t cap = 3 * 8192 * 2 + 3 * 256 * 2 + 128;
    uint8_t *buf = malloc(cap);
    uint32_t seed = 12345;
    for (size_t i = 0; i < cap; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    for (size_t len = 0; len <= 4096; len++)
        for (size_t align = 0; align < 8; align += len < 1024 ? 1 : 7) {
            uint32_t want = st_crc32c_sw(0, buf + align, len);
            assert_int_equal(st_crc32c(0, buf + align, len), want);
            assert_int_equal(st_crc32c_sse42(0, buf + align, len), want);
            /* a caller's CRC enters both hardware paths as it enters the portable one */
            assert_int_equal(st_crc32c(0x12345678, buf + align, len),
                             st_crc32c_sw(0x12345678, buf + align, len));
        }
    size_t edges[] = {255,     256, 257, 319,   320,   511,         512,
                      767,     768, 769, 24575, 24576, 24576 + 768, 2 * 24576 + 1535,
                      cap - 64};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        for (size_t align = 0; align < 64; align += i < 7 ? 1 : 7) {
            uint32_t want = st_crc32c_sw(0, buf + align, edges[i]);
            assert_int_equal(st_crc32c(0, buf + align, edges[i]), want);
            assert_int_equal(st_crc32c_sse42(0, buf + align, edges[i]), want);
        }
    /* continuing a CRC across calls equals one call */
    uint32_t whole = st_crc32c(0, buf, 50000);
    uint32_t part = st_crc32c(st_crc32c(0, buf, 12345), buf + 12345, 50000 - 12345);
    assert_int_equal(whole, part);
    free(buf);
}

/* Not a benchmark (timings vary): a print of both paths' speed for the curious. */
static void test_speed_print(void **state)
{
    size_t n = 1 << 20;
    uint8_t *buf = calloc(1, n);
    uint32_t c = 0;
    int64_t t0 = st_mono_us();
    for (int i = 0; i < 64; i++)
        c ^= st_crc32c(0, buf, n);
    int64_t t1 = st_mono_us();
    for (int i = 0; i < 8; i++)
        c ^= st_crc32c_sw(0, buf, n);
    int64_t t2 = st_mono_us();
    for (int i = 0; i < 64; i++)
        c ^= st_crc32c_sse42(0, buf, n);
    int64_t t3 = st_mono_us();
    print_message("crc32c: %.0f MB/s (selected path), %.0f MB/s (crc32 instruction), %.0f MB/s "
                  "(portable) [%08x]\n",
                  64.0 * n / (double)(t1 - t0 + 1), 64.0 * n / (double)(t3 - t2 + 1),
                  8.0 * n / (double)(t2 - t1 + 1), c);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_hw_matches_sw),
        cmocka_unit_test(test_speed_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
