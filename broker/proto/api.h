/*
 * The API table and request dispatch.
 *
 * One row per API key: {key, name, min/max version, first flexible version, handler}.
 * ApiVersions is generated from it; dispatch checks versions against it. Adding an API
 * means adding a row and a handler, nothing else.
 *
 * Lifecycle of a request: the connection hands a frame to st_dispatch, which parses
 * the request header, looks up the row, checks the version, builds an st_req with the
 * response header already written, and calls the handler. The handler reads
 * req->rd, appends its body to st_resp_buf(req->resp) and returns an st_req_result:
 *   ST_REQ_DONE          send req->resp now (dispatch frees req);
 *   ST_REQ_SILENT        no response is due (Produce acks=0);
 *   ST_REQ_CLOSE         close the connection; the handler logged why (a failed
 *                        acks=0 produce: closing is the only way to tell that client);
 *   ST_REQ_DEFERRED      the handler kept req and will call st_req_finish later;
 *   ST_REQ_MALFORMED     the body did not parse: log and close the connection.
 * These are not Kafka error codes and never share an int with them: their values lie
 * far from every wire code (0..~120) and every internal one (-104..-101), so a handler
 * that returns an error code by mistake (OFFSET_OUT_OF_RANGE is 1) is caught by the
 * dispatcher — logged and the connection closed — instead of being read as an action.
 * The handler folders build with -Wassign-enum, which refuses such a constant outright.
 */
#ifndef ST_API_H
#define ST_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/net/conn.h"
#include "broker/proto/codec.h"

typedef struct st_broker st_broker;
typedef struct st_req st_req;

typedef enum st_req_result {
    ST_REQ_DONE = 1000,
    ST_REQ_SILENT,
    ST_REQ_CLOSE,
    ST_REQ_DEFERRED,
    ST_REQ_MALFORMED,
} st_req_result;

typedef st_req_result st_handler_fn(st_req *req);

typedef struct st_api {
    int16_t key;
    const char *name;
    int16_t min_version; /* lowest we serve (we advertise 0: see KAFKA-NOTES) */
    int16_t max_version;
    int16_t first_flexible; /* first flexible version; INT16_MAX if none */
    st_handler_fn *handler;
} st_api;

struct st_req {
    st_broker *broker;
    st_conn *conn; /* NULL once the connection is gone (or when fuzzing) */
    const st_api *api;
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    st_str client_id; /* points into frame */
    bool flex;        /* body uses the flexible encoding */
    st_rd rd;         /* the request body */
    uint8_t *frame;   /* owned: the request bytes */
    size_t frame_len;
    st_resp *resp;       /* owned until sent */
    int64_t received_us; /* monotonic, for request timing */
    /* Set by a handler: close the connection once this answer is sent (a failed
     * authentication); logged as the reason. Static or owned by the session. */
    const char *close_after;
    int64_t produced_bytes; /* Produce: record bytes appended, charged to the byte-rate quota */
};

/* The row for a key, or NULL if we do not serve it. */
const st_api *st_api_lookup(int16_t key);
/* The whole table, in key order. */
const st_api *st_api_table(size_t *n);

/* The connection's on_request: takes ownership of frame. Returns ST_CONN_NEXT,
 * ST_CONN_WAIT or ST_CONN_CLOSE. conn may be NULL (the fuzz harness): responses are
 * built and dropped. */
int st_dispatch(st_broker *b, st_conn *conn, uint8_t *frame, size_t len);
/* The connection's on_close: detaches a deferred request from the connection so its
 * later st_req_finish drops the response instead of sending it. */
void st_dispatch_conn_closed(st_broker *b, st_conn *conn);

/* Sends req->resp on its connection (if it still has one), resumes the connection,
 * frees req. For deferred handlers. */
void st_req_finish(st_req *req);
/* Like st_req_finish but sends nothing (acks=0 after a deferred append). */
void st_req_finish_silent(st_req *req);
/* Wipes and frees req's frame once its handler has taken all it needs from it, so that an
 * answer held back (a failed login's delay, a password being checked) holds its answer,
 * not the request: a peer that has not logged in could otherwise park frames of up to
 * sasl.server.max.receive.size on every connection. req->rd and req->client_id, which
 * point into the frame, are emptied (rd keeps its error state). */
void st_req_release_frame(st_req *req);

#endif
