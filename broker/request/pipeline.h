/*
 * st_pipeline: how a frame becomes an answer. One per event loop; the connection layer
 * hands it every frame (st_pipeline_on_request) and every close (st_pipeline_on_close).
 *
 *   frame ─▶ decode header ─▶ row (version check) ─▶ session: auth gate
 *         ─▶ st_req ─▶ handler ─▶ quota: request time (and bytes) charged, throttle
 *         ─▶ DONE: send │ SILENT │ CLOSE │ MALFORMED: close │ DEFERRED: held
 *   st_req_wake ─▶ (a later turn) row's resume hook ─▶ charged, throttle ─▶ send
 *   connection closes ─▶ a held request is cut loose (row's cancel hook), the session
 *                        and what was attached to it are released
 *
 * The pipeline knows no API by key: what differs between APIs is in their table rows
 * (request.h). It owns the sessions and the request counters. Loop thread only.
 */
#ifndef ST_PIPELINE_H
#define ST_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "broker/net/conn.h"
#include "broker/net/loop.h"
#include "broker/request/request.h"

typedef struct st_security st_security;

typedef struct st_pipeline_config {
    const st_api *table; /* borrowed, static: rows sorted by key */
    size_t nrows;
    st_loop *loop;           /* borrowed: timers and the wake queue run on it */
    st_security *security;   /* borrowed; NULL: every request is allowed */
    struct st_bquota *quota; /* borrowed; NULL: nothing is metered */
    st_broker *broker;       /* borrowed: the shared state, handed on as req->broker */
    st_shard *shard;         /* borrowed: the loop's own state, handed on as req->shard */
} st_pipeline_config;

typedef struct st_pipeline_stats {
    uint64_t requests; /* frames dispatched */
    uint64_t requests_by_key[64];
    uint64_t bad_frames;        /* connections closed for malformed or unsupported input */
    uint64_t connections_total; /* connections that sent at least one request */
} st_pipeline_stats;

/* Copies cfg. Returns a new pipeline (aborts when out of memory, as st_buf). */
st_pipeline *st_pipeline_new(const st_pipeline_config *cfg);
/* After every connection closed (st_server_free). NULL is a no-op. */
void st_pipeline_free(st_pipeline *p);

/* The connection's on_request: takes ownership of frame. Returns ST_CONN_NEXT,
 * ST_CONN_WAIT or ST_CONN_CLOSE. conn may be NULL (the fuzz harness): responses are
 * built and dropped. */
int st_pipeline_on_request(st_pipeline *p, st_conn *conn, uint8_t *frame, size_t len);
/* The connection's on_close: cuts a deferred request loose (its row's cancel hook
 * frees it now, or its later st_req_finish drops the answer), releases the session. */
void st_pipeline_on_close(st_pipeline *p, st_conn *conn);

const st_pipeline_stats *st_pipeline_stats_get(const st_pipeline *p);
/* The table it serves. */
const st_api *st_pipeline_table(const st_pipeline *p, size_t *n);

#endif
