/*
 * strait connect: Kafka Connect's standalone mode for the strait CLI. A worker reads
 * Kafka Connect's .properties files and runs connectors in this process:
 *
 *   cli_connect.c         the command, the worker loop, signals
 *   cli_connect_props.c   Java .properties files (escapes, continuations, line numbers)
 *   cli_connect_convert.c the String, ByteArray and Json converters
 *   cli_connect_source.c  the source side: producer, delivery tracking, stored offsets,
 *                         exact restart
 *   cli_connect_sink.c    the sink side: consumer group, flushes, committed offsets
 *   cli_connect_file.c    FileStreamSource and FileStreamSink
 *
 * A connector is a table row (cc_connector_type) with the keys it reads and either
 * source or sink operations; the worker owns everything Kafka-side (clients, offsets,
 * converters), so a new connector only turns its data into records or records into its
 * data. Everything runs on one thread: the worker loop calls the tasks, librdkafka's
 * threads do the network I/O.
 */
#ifndef ST_CLI_CONNECT_H
#define ST_CLI_CONNECT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "tools/cli.h"

int cli_connect_main(cli_ctx *c, int argc, char **argv);

/* ---- .properties files (cli_connect_props.c) ---- */

typedef struct cc_prop {
    char *key;
    char *value;
    int line; /* first line of the logical line */
    bool used;
} cc_prop;

typedef struct cc_props {
    char *path;
    cc_prop *v; /* a key set twice keeps its last value, as java.util.Properties does */
    size_t n;
} cc_props;

/* Parses text (len bytes) read from path. 0, or -1 with err "path:line: reason". */
int cc_props_parse(cc_props *p, const char *path, const char *text, size_t len, char *err,
                   size_t errlen);
/* Reads and parses path (at most 1 MiB). 0, or -1 with err. */
int cc_props_load(cc_props *p, const char *path, char *err, size_t errlen);
void cc_props_free(cc_props *p);
/* The property named key, marked used; NULL if absent. Valid until cc_props_free. */
cc_prop *cc_props_find(cc_props *p, const char *key);
/* Its value, or def when absent (or empty and empty_is_absent). */
const char *cc_props_get(cc_props *p, const char *key, const char *def);
/* Formats "path:line: key: reason" (or "path: key: reason" for a missing key) into err;
 * returns -1. */
int cc_props_fail(const cc_props *p, const char *key, char *err, size_t errlen, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
/* An integer value in [min, max] (def when absent). 0, or -1 with err. */
int cc_props_int(cc_props *p, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out,
                 char *err, size_t errlen);
/* A boolean value ("true"/"false", any case, as Kafka's ConfigDef). 0, or -1 with err. */
int cc_props_bool(cc_props *p, const char *key, bool def, bool *out, char *err, size_t errlen);

/* ---- converters (cli_connect_convert.c) ---- */

typedef enum { CC_CONV_STRING, CC_CONV_BYTES, CC_CONV_JSON } cc_conv_kind;

typedef struct cc_converter {
    cc_conv_kind kind;
    bool schemas; /* JsonConverter: the {"schema":..., "payload":...} envelope */
} cc_converter;

/*
 * The converter named by `prefix` ("key.converter", "value.converter") in conn, else in
 * worker (a connector's setting overrides the worker's, as in Kafka Connect), with its
 * prefix.schemas.enable. A converter that is set nowhere is an error naming the worker
 * file, as Kafka's. 0, or -1 with err naming file, line, key and reason.
 */
int cc_converter_config(cc_props *worker, cc_props *conn, const char *prefix, cc_converter *out,
                        char *err, size_t errlen);

/* A growable byte string. */
typedef struct cc_bytes {
    char *p;
    size_t len, cap;
} cc_bytes;
int cc_bytes_put(cc_bytes *b, const void *data, size_t len);
void cc_bytes_free(cc_bytes *b);

/* A string value (len bytes, or null) as the converter serializes it: into out, with
 * *is_null set when the record's field is to be null. 0, or -1 (out of memory). */
int cc_convert_from_string(const cc_converter *c, const char *data, size_t len, bool null,
                           cc_bytes *out, bool *is_null);
/* A record field (len bytes, data NULL for null) as text, the way FileStreamSink writes a
 * value (String.valueOf: null is "null"). 0, or -1 with err (not what the converter
 * reads, e.g. JSON without the envelope). */
int cc_convert_to_text(const cc_converter *c, const void *data, size_t len, cc_bytes *out,
                       char *err, size_t errlen);

/* ---- the connector interface ---- */

/* What the worker tells a connector about itself. */
typedef struct cc_connector_info {
    const char *name; /* the connector's name= */
} cc_connector_info;

/* One record a source task hands the worker. Bytes stay valid until the task's next
 * poll. */
typedef struct cc_source_record {
    const char *value; /* a string value; NULL for a null value */
    size_t value_len;
    /* The source position after this record (a byte offset, a sequence number):
     * strictly increasing within a task. The worker stores the highest one whose record
     * and every record before it are acknowledged, and hands it back at the next start. */
    int64_t position;
    /* Set by the task for a record recovery found already in the topic (see start):
     * the worker counts it as delivered and does not send it again. */
    bool delivered;
} cc_source_record;

/* Positions, after the stored one, whose records are already in the topic: written by a
 * run that stopped between the broker's acknowledgement and storing its offset. Sorted,
 * unique. */
typedef struct cc_positions {
    int64_t *v;
    size_t n;
} cc_positions;

typedef struct cc_source_ops {
    /* The topic every record goes to, and the source partition (e.g. the file's absolute
     * path) the positions belong to. Valid while the task lives. */
    const char *(*topic)(void *task);
    const char *(*partition)(void *task);
    /* Resumes after `position` (-1: from the start); records whose positions are in
     * `delivered` are returned with .delivered set. 0, or -1 with err. */
    int (*start)(void *task, int64_t position, const cc_positions *delivered, char *err,
                 size_t errlen);
    /* Up to max records into out, without blocking; 0 when none is ready now, -1 on an
     * error that stops the connector (err says why). */
    int (*poll)(void *task, cc_source_record *out, int max, char *err, size_t errlen);
    /* Whether positions mean anything across restarts (false for stdin). */
    bool (*resumable)(void *task);
} cc_source_ops;

typedef struct cc_sink_ops {
    /* Called before records of a new assignment, with the state the task returned from
     * flush at the last commit (NULL when nothing was committed), so it can drop what it
     * wrote after that commit: the records are delivered again. 0, or -1 with err. */
    int (*open)(void *task, const char *committed_state, char *err, size_t errlen);
    /* One record's value as text (NULL-free bytes; len excludes any terminator). */
    int (*put)(void *task, const char *text, size_t len, char *err, size_t errlen);
    /* Makes everything put so far durable and writes into state (cap bytes, may be "")
     * what open needs to find this point again; the worker commits it with the offsets.
     * 0, or -1 with err. */
    int (*flush)(void *task, char *state, size_t cap, char *err, size_t errlen);
} cc_sink_ops;

typedef struct cc_connector_type {
    const char *alias;      /* "FileStreamSource" */
    const char *class_name; /* "org.apache.kafka.connect.file.FileStreamSourceConnector" */
    const char *summary;    /* one line for --help */
    /* Reads the connector's own keys from props (each read marks it used). Returns the
     * task (owned by the caller, freed with destroy) or NULL with err naming file, line,
     * key and reason. */
    void *(*create)(cc_props *props, const cc_connector_info *info, char *err, size_t errlen);
    void (*destroy)(void *task);
    const cc_source_ops *source; /* exactly one of source and sink */
    const cc_sink_ops *sink;
} cc_connector_type;

/* The connectors this build knows (cli_connect_file.c). */
extern const cc_connector_type cc_file_source_type;
extern const cc_connector_type cc_file_sink_type;

/* ---- the worker's two halves ---- */

/* What both halves need from the worker configuration. */
typedef struct cc_worker {
    cc_props *props;          /* the worker file */
    const char *offsets_path; /* offset.storage.file.filename */
    int64_t flush_interval_ms;
    const volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM: long waits give up */
} cc_worker;

typedef struct cc_source cc_source;
typedef struct cc_sink cc_sink;

/* A running source connector. create takes ownership of task. NULL with err. */
cc_source *cc_source_new(const cc_worker *w, cc_props *conn, const cc_connector_type *type,
                         void *task, char *err, size_t errlen);
/* Recovery, then the first offsets store: before any record is sent. 0, or -1 with err. */
int cc_source_start(cc_source *s, char *err, size_t errlen);
/* Bounded work: records from the task into the producer, delivery reports, a periodic
 * offsets store. Returns the number of records moved (0: idle), -1 on a fatal error. */
int cc_source_step(cc_source *s, int64_t now_ms, char *err, size_t errlen);
/* Stops reading, waits (up to timeout_ms) for records in flight, stores the offsets. */
int cc_source_stop(cc_source *s, int64_t timeout_ms, char *err, size_t errlen);
void cc_source_free(cc_source *s);

cc_sink *cc_sink_new(const cc_worker *w, cc_props *conn, const cc_connector_type *type, void *task,
                     char *err, size_t errlen);
int cc_sink_step(cc_sink *s, int64_t now_ms, char *err, size_t errlen);
/* Flushes the task and commits; closes the consumer (leaves the group). */
int cc_sink_stop(cc_sink *s, char *err, size_t errlen);
void cc_sink_free(cc_sink *s);

/*
 * librdkafka settings from the worker: bootstrap.servers, the security settings, and
 * every "<client>.X=Y" (client "producer" or "consumer") passed on as X=Y. Adds them to
 * conf. 0, or -1 with err naming the file, line and key librdkafka refused.
 */
int cc_client_config(cc_props *worker, const char *client, rd_kafka_conf_t *conf, char *err,
                     size_t errlen);

#endif
