/*
 * Shared by the SASL handlers, sasl.c (the exchange, SCRAM, the answers) and
 * sasl_plain.c (PLAIN on the worker pool); nothing else includes it. Loop thread only.
 */
#ifndef ST_SASL_INT_H
#define ST_SASL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/request/request.h"
#include "broker/request/session.h"

/* "PLAIN", "SCRAM-SHA-256", ...; static. */
const char *st_sasl_mech_name(unsigned bit);

/* Appends the SaslAuthenticate answer to req's response. Borrows everything. */
void st_sasl_write_authenticate(st_req *req, int16_t error, const char *message, const void *bytes,
                                size_t len);

/* The answers below return what a handler returns: ST_REQ_DONE (send req's response now)
 * or ST_REQ_DEFERRED (the failed-login delay holds req; its timer sends it). */

/* Wrong credentials: logged with `why` (the precise reason; the client gets Kafka's
 * generic wording), answered SASL_AUTHENTICATION_FAILED after the delay, then closed. */
st_req_result st_sasl_fail(st_req *req, st_session *s, const char *why);
/* Refused by the login budget before any check: logged with `why`, answered like a
 * failure (after the delay) with a message that says to retry later. */
st_req_result st_sasl_refuse_busy(st_req *req, st_session *s, const char *why);
/* Sends `msg` with SASL_AUTHENTICATION_FAILED and closes; `slow`: after the failed-login
 * delay, counted from the request's arrival. */
st_req_result st_sasl_refuse(st_req *req, st_session *s, const char *msg, bool slow);
/* The credentials are good. A user of a tenant at its connections or connection-rate
 * limit is still refused, with the limit in the message (no slowdown: the password was
 * right): false, with the answer's return code in *rc. */
bool st_sasl_authenticated(st_req *req, st_session *s, const char *user, st_req_result *rc);

/* PLAIN's SaslAuthenticate (sasl_plain.c): bytes borrowed for the call. */
st_req_result st_sasl_plain(st_req *req, st_session *s, const uint8_t *bytes, size_t len);

#endif
