/*
 * libFuzzer harness for the inter-broker decoders (broker/cluster/interbroker_codec.c).
 * The first byte picks one of the twelve decoders (six requests, six responses); the
 * rest is the message body. Whatever decodes must encode again, and that encoding must
 * decode and re-encode to the very same bytes (the decoder and encoder agree on every
 * field). Hostile counts must fail before they allocate (ASan's allocator limit and the
 * rss limit catch a codec that trusts one).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/interbroker_codec.h"

/* Decodes body as message kind `kind` and re-encodes it into out. Returns the decoder's
 * result. */
static int roundtrip(int kind, const uint8_t *body, size_t len, st_buf *out)
{
    st_rd rd;
    st_rd_init(&rd, body, len);
    st_ib_arena a = {0};
    int rc;
    switch (kind) {
    case 0: {
        st_leader_and_isr_req m;
        if (!(rc = st_leader_and_isr_req_decode(&rd, &a, &m)))
            st_leader_and_isr_req_encode(out, &m);
        break;
    }
    case 1: {
        st_ib_partition_errors_resp m;
        if (!(rc = st_leader_and_isr_resp_decode(&rd, &a, &m)))
            st_leader_and_isr_resp_encode(out, &m);
        break;
    }
    case 2: {
        st_stop_replica_req m;
        if (!(rc = st_stop_replica_req_decode(&rd, &a, &m)))
            st_stop_replica_req_encode(out, &m);
        break;
    }
    case 3: {
        st_ib_partition_errors_resp m;
        if (!(rc = st_stop_replica_resp_decode(&rd, &a, &m)))
            st_stop_replica_resp_encode(out, &m);
        break;
    }
    case 4: {
        st_update_metadata_req m;
        if (!(rc = st_update_metadata_req_decode(&rd, &a, &m)))
            st_update_metadata_req_encode(out, &m);
        break;
    }
    case 5: {
        int16_t code;
        if (!(rc = st_update_metadata_resp_decode(&rd, &code)))
            st_update_metadata_resp_encode(out, code);
        break;
    }
    case 6: {
        st_controlled_shutdown_req m;
        if (!(rc = st_controlled_shutdown_req_decode(&rd, &m)))
            st_controlled_shutdown_req_encode(out, &m);
        break;
    }
    case 7: {
        st_controlled_shutdown_resp m;
        if (!(rc = st_controlled_shutdown_resp_decode(&rd, &a, &m)))
            st_controlled_shutdown_resp_encode(out, &m);
        break;
    }
    case 8: {
        st_offset_for_leader_epoch_req m;
        if (!(rc = st_offset_for_leader_epoch_req_decode(&rd, &a, &m)))
            st_offset_for_leader_epoch_req_encode(out, &m);
        break;
    }
    case 9: {
        st_offset_for_leader_epoch_resp m;
        if (!(rc = st_offset_for_leader_epoch_resp_decode(&rd, &a, &m)))
            st_offset_for_leader_epoch_resp_encode(out, &m);
        break;
    }
    case 10: {
        st_alter_partition_req m;
        if (!(rc = st_alter_partition_req_decode(&rd, &a, &m)))
            st_alter_partition_req_encode(out, &m);
        break;
    }
    default: {
        st_alter_partition_resp m;
        if (!(rc = st_alter_partition_resp_decode(&rd, &a, &m)))
            st_alter_partition_resp_encode(out, &m);
        break;
    }
    }
    st_ib_arena_free(&a);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % 12;
    /* an exact-size copy, so a read one past the end is caught */
    uint8_t *body = malloc(size - 1 ? size - 1 : 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    st_buf first = ST_BUF_INIT, second = ST_BUF_INIT;
    if (roundtrip(kind, body, size - 1, &first) == 0) {
        if (roundtrip(kind, first.data, first.len, &second) != 0) {
            fprintf(stderr, "fuzz_interbroker: kind %d: our own encoding does not decode\n", kind);
            abort();
        }
        if (second.len != first.len || memcmp(first.data, second.data, first.len) != 0) {
            fprintf(stderr, "fuzz_interbroker: kind %d: re-encoding changed the bytes\n", kind);
            abort();
        }
    }
    st_buf_free(&first);
    st_buf_free(&second);
    free(body);
    return 0;
}
