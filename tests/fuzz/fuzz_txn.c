/*
 * libFuzzer harness for the transaction API decoders (broker/txn/txn_codec.c) and the
 * decoders of what transactions leave in logs (broker/txn/txn_log.c, which read disk
 * and so what any producer to __transaction_state wrote). The first byte picks one of
 * the sixteen API decoders (eight requests, eight responses) or, past them, the
 * __transaction_state value and the marker key; the second the version (any int8, so
 * unsupported ones are tried too); the rest is the message body. Whatever decodes must encode
 * again, and that encoding must decode and re-encode to the very same bytes (decoder and encoder
 * agree on every field of every version). Hostile counts must fail before they allocate (ASan's
 * allocator limit and the rss limit catch a codec that trusts one).
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/txn/txn_log.h"
#include "common/errors.h"
#include "tests/fuzz/txn_samples.h"

/* A __transaction_state value: whatever decodes must load into a state, encode (as v0)
 * and decode again to the same fields. */
static void log_value(const uint8_t *body, size_t len)
{
    st_arena a = ST_ARENA_INIT;
    st_txn_log_value v;
    if (st_txn_log_value_decode((st_bytes){body, (int32_t)len}, &a, &v) == 0) {
        st_txn_meta *m = st_txn_meta_from_log((st_str){"id", 2}, &v);
        if (!m)
            abort();
        st_buf b = ST_BUF_INIT;
        st_txn_log_value_encode(&b, m);
        st_txn_log_value again;
        if (st_txn_log_value_decode((st_bytes){b.data, (int32_t)b.len}, &a, &again) != 0 ||
            again.producer_id != v.producer_id || again.status != v.status ||
            again.start_ms != v.start_ms) {
            fprintf(stderr, "fuzz_txn: a loaded __transaction_state value does not round-trip\n");
            abort();
        }
        st_buf_free(&b);
        st_txn_meta_free(m);
    }
    st_arena_free(&a);
    bool commit;
    st_txn_marker_key_decode((st_bytes){body, (int32_t)len}, &commit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > INT32_MAX)
        return 0;
    int kind = data[0] % (TXN_SAMPLE_KINDS + 1);
    int16_t version = (int8_t)data[1];
    /* an exact-size copy, so a read one past the end is caught */
    uint8_t *body = malloc(size - 2 ? size - 2 : 1);
    if (!body)
        return 0;
    memcpy(body, data + 2, size - 2);
    if (kind == TXN_SAMPLE_KINDS) {
        log_value(body, size - 2);
        free(body);
        return 0;
    }
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
