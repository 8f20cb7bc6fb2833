/*
 * CRC-32C (Castagnoli), the checksum of Kafka record batches. Uses the SSE4.2 crc32
 * instruction when the CPU has it, slicing-by-8 tables otherwise.
 */
#ifndef ST_CRC32C_H
#define ST_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues `crc` (0 to start) over n bytes. Thread-safe. */
uint32_t st_crc32c(uint32_t crc, const void *data, size_t n);
/* The portable table-driven path only, whatever the CPU: for tests and benchmarks. */
uint32_t st_crc32c_sw(uint32_t crc, const void *data, size_t n);

#endif
