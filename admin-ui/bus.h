/*
 * The console's side of the management bus: one thread that, once a second, sends every
 * daemon named in the config a survey (an NN_SURVEYOR socket per daemon, so each
 * survey carries that daemon's token and each answer is known by its socket) and keeps
 * what answers within the deadline. A daemon that does not answer is reported down
 * with the reason; nothing waits for it. However many browsers watch, this is the only
 * status traffic: one survey per daemon per second.
 *
 * What a broker is asked: status, topics.stats, groups.lag, quotas.usage,
 * quotas.describe, mgmt.log (and acls.list while someone watches the ACL view); a
 * mirror: status, mgmt.log. Each round is handed to the event loop whole
 * (st_bus_take), after the wake callback.
 */
#ifndef ST_CONSOLE_BUS_H
#define ST_CONSOLE_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "admin-ui/config.h"

/* The survey commands' order in an answer's results (brokers). */
enum {
    ST_BUS_B_STATUS = 0,
    ST_BUS_B_TOPICS,
    ST_BUS_B_GROUPS,
    ST_BUS_B_USAGE,
    ST_BUS_B_QUOTAS,
    ST_BUS_B_LOG,
    ST_BUS_B_ACLS, /* only while wanted */
};
/* ... and mirrors. */
enum { ST_BUS_M_STATUS = 0, ST_BUS_M_LOG };

#define ST_BUS_WANT_ACLS 1u

typedef struct st_bus_answer {
    bool up;
    char why[256];   /* when down: no answer within the deadline, bad token, ... */
    json_t *results; /* up: the answer's "results" array (owned by the round) */
    char boot[17];
    int64_t rtt_ms; /* survey sent → answer received */
} st_bus_answer;

typedef struct st_bus_round {
    int64_t sent_ms; /* wall clock when the surveys went out */
    size_t n;        /* = cfg->ndaemons; answers[i] is cfg->daemons[i]'s */
    st_bus_answer answers[];
} st_bus_round;

typedef struct st_bus st_bus;

/* Starts the survey thread. Borrows cfg (must outlive the bus). wake(ctx) runs on the
 * bus thread after each round. NULL with err. */
st_bus *st_bus_start(const st_con_config *cfg, void (*wake)(void *), void *ctx, char *err,
                     size_t errlen);

/* The newest finished round not yet taken (the caller owns it; free with
 * st_bus_round_free), or NULL. A round not taken before the next one is dropped. Any
 * thread. */
st_bus_round *st_bus_take(st_bus *bus);
void st_bus_round_free(st_bus_round *r);

/* Which optional sections the next surveys ask for (ST_BUS_WANT_*). Any thread. */
void st_bus_want(st_bus *bus, unsigned flags);

/* Stops and joins the thread, frees. NULL is ignored. */
void st_bus_stop(st_bus *bus);

#endif
