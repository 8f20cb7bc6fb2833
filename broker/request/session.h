/*
 * Per-connection state of the request layer: the pipeline hangs one on a connection
 * (st_conn_set_data) when it sends its first request and frees it when it closes.
 *
 * Authentication: a connection on a PLAINTEXT listener is User:ANONYMOUS from the start.
 * On a SASL listener it starts in ST_SASL_START, where only the rows marked
 * ST_API_BEFORE_AUTH are served (ApiVersions, SaslHandshake, SaslAuthenticate; anything
 * else closes the connection):
 *
 *   START --SaslHandshake(ok)--> HANDSHAKE --SaslAuthenticate...--> AUTHENTICATED
 *     |                            |     (SCRAM: two rounds)
 *     +---- any failure -----------+--> FAILED (answered, then closed)
 *
 * Ownership: the session is the pipeline's. A module that keeps state of its own per
 * connection (the SASL exchange: a SCRAM conversation, a held failure answer, the
 * tenant's counted connection) hangs it on the session with st_session_attach and
 * passes the function that releases it; the pipeline calls that function when the
 * connection closes, before it frees the session.
 */
#ifndef ST_SESSION_H
#define ST_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/scram.h"
#include "broker/config/config.h"
#include "broker/quota/quota.h"
#include "broker/request/request.h"

typedef enum st_sasl_state {
    ST_SASL_START = 0,
    ST_SASL_HANDSHAKE,     /* mechanism chosen; SaslAuthenticate rounds expected */
    ST_SASL_AUTHENTICATED, /* or a PLAINTEXT listener: nothing to authenticate */
    ST_SASL_FAILED,
} st_sasl_state;

/* Releases what its owner attached; the session is being freed (its connection is
 * gone: a request the owner still holds has been detached from it already). */
typedef void st_session_release_fn(st_session *s, void *attached);

struct st_session {
    st_req *pending; /* the deferred request, or NULL; owned by its handler */
    st_sec_protocol protocol;
    int listener_port; /* the port this connection came in on (Metadata advertises it) */
    st_sasl_state sasl;
    unsigned sasl_mech;        /* one ST_SASL_MECH_* once the handshake chose it */
    int16_t handshake_version; /* 0: SASL bytes unframed (not supported); 1: SaslAuthenticate */
    char user[ST_SCRAM_USER_MAX + 1];      /* authenticated user; "" for ANONYMOUS */
    char principal[ST_SCRAM_USER_MAX + 8]; /* "User:alice" or "User:ANONYMOUS" */
    char host[64];                         /* peer address without the port */
    /* The quota identity of the session's requests (user, client id, tenant), built
     * once and rebuilt when the client id or st_bquota_version changes (quota.c). */
    st_bquota_id quota_id;
    uint64_t quota_id_version; /* 0: never built */
    /* One module's per-connection state (st_session_attach). */
    void *attached;
    st_session_release_fn *release;
};

/* Hangs `attached` on s (owned by the caller's module until `release` runs at close).
 * At most one owner: the SASL exchange. */
void st_session_attach(st_session *s, void *attached, st_session_release_fn *release);

#endif
