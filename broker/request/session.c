/*
 * Sessions: created on a connection's first request, freed at its close; see session.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/request/request_int.h"

/* "10.0.0.1:5000" → "10.0.0.1", "[::1]:5000" → "::1": ACL hosts are addresses. */
static void host_of(const char *peer, char *out, size_t cap)
{
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
        peer++;
        n -= 2;
    }
    snprintf(out, cap, "%.*s", (int)n, peer);
}

st_session *st_session_of(st_pipeline *p, st_conn *conn)
{
    st_session *s = st_conn_get_data(conn);
    if (s)
        return s;
    s = calloc(1, sizeof *s);
    if (!s)
        abort(); /* as st_buf: a broker that cannot allocate this is done */
    s->protocol = (st_sec_protocol)st_conn_listener_tag(conn);
    s->listener_port = st_conn_listener_port(conn);
    host_of(st_conn_peer(conn), s->host, sizeof s->host);
    if (s->protocol == ST_SEC_PLAINTEXT) {
        s->sasl = ST_SASL_AUTHENTICATED;
        snprintf(s->principal, sizeof s->principal, "User:ANONYMOUS");
    }
    st_conn_set_data(conn, s);
    p->stats.connections_total++; /* connections that sent at least one request */
    return s;
}

void st_session_attach(st_session *s, void *attached, st_session_release_fn *release)
{
    s->attached = attached;
    s->release = release;
}

void st_session_free(st_session *s)
{
    if (s->release)
        s->release(s, s->attached);
    free(s);
}

st_session *st_req_session(const st_req *req)
{
    return req->conn ? st_conn_get_data(req->conn) : NULL;
}
