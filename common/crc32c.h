/*
 * CRC-32C (Castagnoli), the checksum of Kafka record batches. Uses carry-less multiply
 * folding on 512-bit registers (VPCLMULQDQ) for inputs of 256 bytes and more when the
 * CPU has it, the SSE4.2 crc32 instruction otherwise, slicing-by-8 tables without
 * either; chosen at run time.
 */
#ifndef ST_CRC32C_H
#define ST_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues `crc` (0 to start) over n bytes. Thread-safe. */
uint32_t st_crc32c(uint32_t crc, const void *data, size_t n);
/* The crc32-instruction path only (the portable one without SSE4.2), whatever else the
 * CPU has: for tests and benchmarks. */
uint32_t st_crc32c_sse42(uint32_t crc, const void *data, size_t n);
/* The portable table-driven path only, whatever the CPU: for tests and benchmarks. */
uint32_t st_crc32c_sw(uint32_t crc, const void *data, size_t n);

#endif
