/*
 * libFuzzer harness for the transaction API decoders (broker/txn/txn_codec.c). The
 * first byte picks one of the sixteen decoders (eight requests, eight responses), the
 * second the version (any int8, so unsupported ones are tried too); the rest is the
 * message body. Whatever decodes must encode again, and that encoding must decode and
 * re-encode to the very same bytes (decoder and encoder agree on every field of every
 * version). Hostile counts must fail before they allocate (ASan's allocator limit and
 * the rss limit catch a codec that trusts one).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "tests/fuzz/txn_samples.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int kind = data[0] % TXN_SAMPLE_KINDS;
    int16_t version = (int8_t)data[1];
    /* an exact-size copy, so a read one past the end is caught */
    uint8_t *body = malloc(size - 2 ? size - 2 : 1);
    if (!body)
        return 0;
    memcpy(body, data + 2, size - 2);
    st_buf first = ST_BUF_INIT, second = ST_BUF_INIT;
    int rc = txn_roundtrip(kind, version, body, size - 2, &first);
    if (rc != 0 && rc != ST_ERR__MALFORMED && rc != ST_ERR_UNSUPPORTED_VERSION) {
        fprintf(stderr, "fuzz_txn: kind %d v%d: decoder returned %d\n", kind, version, rc);
        abort();
    }
    if (rc == 0) {
        if (txn_roundtrip(kind, version, first.data, first.len, &second) != 0) {
            fprintf(stderr, "fuzz_txn: kind %d v%d: our own encoding does not decode\n", kind,
                    version);
            abort();
        }
        if (second.len != first.len || memcmp(first.data, second.data, first.len) != 0) {
            fprintf(stderr, "fuzz_txn: kind %d v%d: re-encoding changed the bytes\n", kind,
                    version);
            abort();
        }
    }
    st_buf_free(&first);
    st_buf_free(&second);
    free(body);
    return 0;
}
