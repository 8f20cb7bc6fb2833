/*
 * ApiVersions (key 18), v0..v3: the versions we serve, generated from the API table.
 *
 * Request v3 (flexible): client_software_name, client_software_version (compact
 * strings), tags. v0..v2 have an empty body.
 * Response: error_code, api_keys [api_key, min_version, max_version (+ tags in v3)],
 * throttle_time_ms (v1+), tags (v3). Its row asks the pipeline for response header v0
 * at every version (KIP-511), and its hook answers a version above 3
 * (UNSUPPORTED_VERSION in the v0 layout), so a client that does not know our versions
 * can always parse the answer and retry lower.
 *
 * MinVersion is advertised as 0 for every key although we serve less for some:
 * librdkafka enables features only when the advertised range contains an old version
 * it names (KAFKA-NOTES "advertise MinVersion 0"); clients then send their highest
 * common version, which is one we serve.
 */
#include "broker/api/handlers.h"

#include "common/errors.h"

st_req_result st_handle_api_versions(st_req *req)
{
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    if (req->api_version >= 3) {
        /* Who the client is: only useful for logs, which the connection already has. */
        st_rd_str(rd, true);
        st_rd_str(rd, true);
        st_rd_tags(rd, true);
    }
    if (rd->err)
        return ST_REQ_MALFORMED;

    size_t n;
    const st_api *table = st_api_rows(&n);
    st_buf *out = st_resp_buf(req->resp);
    st_buf_put_i16(out, ST_ERR_NONE);
    st_wr_array(out, flex, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        st_buf_put_i16(out, table[i].key);
        st_buf_put_i16(out, 0);
        st_buf_put_i16(out, table[i].max_version);
        st_wr_tags(out, flex);
    }
    if (req->api_version >= 1)
        st_buf_put_i32(out, 0); /* throttle_time_ms: no quotas yet */
    st_wr_tags(out, flex);
    return ST_REQ_DONE;
}

/* ApiVersions at a version we do not know: answer in the v0 layout, which every client
 * can parse, with UNSUPPORTED_VERSION and our ranges, so it retries lower. */
static void answer_unsupported(st_resp *r)
{
    size_t n;
    const st_api *table = st_api_rows(&n);
    st_buf *out = st_resp_buf(r);
    st_buf_put_i16(out, ST_ERR_UNSUPPORTED_VERSION);
    st_wr_array(out, false, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        st_buf_put_i16(out, table[i].key);
        st_buf_put_i16(out, 0);
        st_buf_put_i16(out, table[i].max_version);
    }
}

const st_api_hooks st_api_versions_hooks = {.unsupported_version = answer_unsupported};
