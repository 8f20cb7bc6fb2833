/*
 * straitd: the broker. One context, one event loop thread, one flusher thread.
 * main.c loads the config (broker/config/config.h), builds a broker, runs it until
 * SIGINT/SIGTERM.
 */
#ifndef ST_BROKER_H
#define ST_BROKER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/config/config.h"

typedef struct st_broker st_broker;

/* Opens the data directory (recovering logs), binds the listener and the management
 * endpoint. Borrows cfg (copied). Returns a new broker or NULL with err set. */
st_broker *st_broker_new(const st_broker_config *cfg, char *err, size_t errlen);
/* Serves until st_broker_stop. Returns 0. */
int st_broker_run(st_broker *b);
/* Async-signal-safe: makes st_broker_run return. */
void st_broker_stop(st_broker *b);
/* Closes connections, flushes and closes logs, writes the clean-shutdown marker. */
void st_broker_free(st_broker *b);
/* The port the first Kafka listener is bound to (useful with port 0 in tests). */
int st_broker_port(const st_broker *b);
/* The i-th listener (in config order): its protocol and bound port; -1 past the end. */
int st_broker_listener(const st_broker *b, size_t i, st_sec_protocol *protocol);

#endif
