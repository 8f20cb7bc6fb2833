/*
 * Private to broker/request/: the pipeline's state, shared by pipeline.c (the stages),
 * session.c and authorize.c.
 */
#ifndef ST_REQUEST_INT_H
#define ST_REQUEST_INT_H

#include "broker/request/pipeline.h"
#include "broker/request/session.h"

struct st_pipeline {
    st_pipeline_config cfg;
    st_pipeline_stats stats;
    /* Requests woken by st_req_wake, resumed after this turn's I/O (FIFO). */
    st_req *woken_head, *woken_tail;
    bool wake_posted; /* a run of the queue is posted to the loop */
};

/* Runs fn(req) (a handler or a resume hook) metered: its time on the loop thread is
 * charged to the request's client as request_percentage, and the row's bytes it
 * counted (st_req_charge) to its byte rate; the throttle owed goes into the answer and
 * mutes the connection (quota.c). A request that is not metered just runs. */
st_req_result st_pipeline_run_metered(st_pipeline *p, st_req *req, st_session *s,
                                      st_handler_fn *fn);

/* The session of conn, created on its first request (counted in stats). */
st_session *st_session_of(st_pipeline *p, st_conn *conn);
/* Frees s after its owner's release ran. */
void st_session_free(st_session *s);

#endif
