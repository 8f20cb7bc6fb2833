/*
 * Per-connection state of the request layer, hung on the connection (st_conn_set_data)
 * by dispatch when a connection sends its first request, freed when it closes.
 *
 * Authentication: a connection on a PLAINTEXT listener is User:ANONYMOUS from the start.
 * On a SASL listener it starts in ST_SASL_START, where only ApiVersions, SaslHandshake and
 * SaslAuthenticate are served (anything else: ILLEGAL_SASL_STATE and close):
 *
 *   START --SaslHandshake(ok)--> HANDSHAKE --SaslAuthenticate...--> AUTHENTICATED
 *     |                            |     (SCRAM: two rounds)
 *     +---- any failure -----------+--> FAILED (answered, then closed)
 */
#ifndef ST_SESSION_H
#define ST_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/scram.h"
#include "broker/broker.h"
#include "broker/net/loop.h"

typedef struct st_req st_req;

typedef enum st_sasl_state {
    ST_SASL_START = 0,
    ST_SASL_HANDSHAKE,     /* mechanism chosen; SaslAuthenticate rounds expected */
    ST_SASL_AUTHENTICATED, /* or a PLAINTEXT listener: nothing to authenticate */
    ST_SASL_FAILED,
} st_sasl_state;

typedef struct st_session {
    st_req *pending; /* the deferred request, or NULL; owned by its handler */
    st_sec_protocol protocol;
    int listener_port; /* the port this connection came in on (Metadata advertises it) */
    st_sasl_state sasl;
    unsigned sasl_mech;        /* one ST_SASL_MECH_* once the handshake chose it */
    int16_t handshake_version; /* 0: SASL bytes unframed (not supported); 1: SaslAuthenticate */
    st_scram_server *scram;    /* during a SCRAM exchange */
    char user[ST_SCRAM_USER_MAX + 1];      /* authenticated user; "" for ANONYMOUS */
    char principal[ST_SCRAM_USER_MAX + 8]; /* "User:alice" or "User:ANONYMOUS" */
    char host[64];                         /* peer address without the port */
    char tenant[65]; /* the user's tenant when authenticated (counted in its connections) */
    /* A failed authentication's answer held back (the slowdown), and its timer. */
    st_req *delayed;
    st_timer delay_timer;
} st_session;

/* The session of the request's connection, or NULL (no connection: fuzz harness, or the
 * connection closed while the request was deferred). */
st_session *st_req_session(const st_req *req);

/* Frees what the SASL layer hangs on a session (sasl.c): the SCRAM exchange, and a held
 * failure answer, which is dropped. The connection is gone (its pending request was
 * detached first; a PLAIN login whose password is still being checked is such a request:
 * the check's completion finds it detached and frees it, sasl_plain.c). Does not free s. */
void st_session_release(st_broker *b, st_session *s);

#endif
