/*
 * strait connect standalone WORKER.properties CONNECTOR.properties...: Kafka Connect's
 * standalone worker. Reads the files (cli_connect_props.c), checks every key it knows
 * and names the file, line and key of anything wrong before a single client starts,
 * then drives the connectors from one loop until SIGINT or SIGTERM (or a connector
 * fails), and stops them cleanly: sources wait for what is in flight and store their
 * offsets, sinks flush and commit.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "tools/cli_connect.h"

#define MAX_CONNECTORS  64
#define STOP_TIMEOUT_MS 30000
#define IDLE_WAIT_MS    50

/* A signal handler cannot be handed a context: the one static of strait connect, read by
 * the worker loop each turn. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = 1;
}

static const cc_connector_type *const connector_types[] = {
    &cc_file_source_type,
    &cc_file_sink_type,
};
#define NTYPES (sizeof connector_types / sizeof connector_types[0])

/* Keys Kafka Connect workers know that strait connect reads elsewhere or ignores, with
 * why (said once, as a note). */
static const struct {
    const char *key;
    const char *note; /* NULL: read quietly */
} worker_known[] = {
    {"plugin.path", "the connectors are built in; plugin.path is ignored"},
    {"listeners", "there is no REST API yet; listeners is ignored"},
    {"rest.port", "there is no REST API yet; rest.port is ignored"},
    {"rest.host.name", "there is no REST API yet; rest.host.name is ignored"},
    {"rest.advertised.host.name", "there is no REST API yet; ignored"},
    {"group.id", "distributed mode is not supported yet; group.id is ignored"},
    {"config.storage.topic", "distributed mode is not supported yet; ignored"},
    {"offset.storage.topic", "distributed mode is not supported yet; ignored"},
    {"status.storage.topic", "distributed mode is not supported yet; ignored"},
    {"offset.flush.timeout.ms", NULL},
    {"task.shutdown.graceful.timeout.ms", NULL},
    {"internal.key.converter", NULL},
    {"internal.value.converter", NULL},
};

/* Connector keys read by the worker (the connector reads its own). */
static const char *const connector_framework[] = {"name",          "connector.class", "tasks.max",
                                                  "key.converter", "value.converter", "topics",
                                                  "topics.regex"};

static void usage(FILE *out)
{
    fputs("Usage: strait connect standalone WORKER.properties CONNECTOR.properties...\n"
          "\n"
          "Runs Kafka Connect connectors in this process, configured by Kafka Connect's own\n"
          "standalone .properties files, until Ctrl-C or SIGTERM (then it stops cleanly:\n"
          "records in flight acknowledged, offsets stored and committed).\n"
          "\n"
          "Worker keys: bootstrap.servers, offset.storage.file.filename (where source\n"
          "positions are stored), offset.flush.interval.ms [60000], key.converter and\n"
          "value.converter (StringConverter, ByteArrayConverter, JsonConverter, with\n"
          "*.converter.schemas.enable), security.protocol, sasl.mechanism, sasl.jaas.config,\n"
          "and producer.* / consumer.* for the clients (librdkafka names).\n"
          "Connector keys: name, connector.class, tasks.max, the converters (overriding the\n"
          "worker's), topics or topics.regex (sinks) and the connector's own.\n"
          "\n"
          "Connectors:\n",
          out);
    for (size_t i = 0; i < NTYPES; i++)
        fprintf(out, "  %-17s %s\n    (%s)\n", connector_types[i]->alias,
                connector_types[i]->summary, connector_types[i]->class_name);
    fputs("\n"
          "What it is not (yet): no REST API, no distributed mode, no transforms.\n"
          "docs/connect.md has the details and the quickstart.\n"
          "\n"
          "Example:\n"
          "  strait connect standalone connect-standalone.properties \\\n"
          "      connect-file-source.properties connect-file-sink.properties\n"
          "\n"
          "Exit status: 0 stopped cleanly, 1 a connector failed, 2 a bad file or usage.\n",
          out);
}

static const cc_connector_type *find_type(const char *cls)
{
    for (size_t i = 0; i < NTYPES; i++) {
        const cc_connector_type *t = connector_types[i];
        const char *simple = strrchr(t->class_name, '.') + 1;
        if (strcmp(cls, t->alias) == 0 || strcmp(cls, t->class_name) == 0 ||
            strcmp(cls, simple) == 0)
            return t;
    }
    return NULL;
}

/* "username=\"x\"" out of a JAAS line into out; 0 if found. */
static int jaas_option(const char *jaas, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = jaas; (p = strstr(p, name)); p += n) {
        if (p > jaas && p[-1] != ' ' && p[-1] != '\t')
            continue;
        const char *q = p + n;
        while (*q == ' ')
            q++;
        if (*q++ != '=')
            continue;
        while (*q == ' ')
            q++;
        if (*q++ != '"')
            continue;
        size_t i = 0;
        for (; *q && *q != '"' && i + 1 < cap; q++) {
            if (*q == '\\' && q[1])
                q++;
            out[i++] = *q;
        }
        out[i] = '\0';
        return *q == '"' ? 0 : -1;
    }
    return -1;
}

/* Java client settings that are spelled differently for librdkafka. */
static int set_java_key(cc_props *w, const char *key, const char *java, rd_kafka_conf_t *conf,
                        char *err, size_t errlen)
{
    char why[512], user[256], pass[256];
    cc_prop *e = cc_props_find(w, key);
    if (!e)
        return 0;
    if (strcmp(java, "sasl.jaas.config") == 0) {
        if (jaas_option(e->value, "username", user, sizeof user) ||
            jaas_option(e->value, "password", pass, sizeof pass))
            return cc_props_fail(w, key, err, errlen,
                                 "no username=\"...\" and password=\"...\" found (a "
                                 "PlainLoginModule or ScramLoginModule line is expected)");
        if (rd_kafka_conf_set(conf, "sasl.username", user, why, sizeof why) ||
            rd_kafka_conf_set(conf, "sasl.password", pass, why, sizeof why))
            return cc_props_fail(w, key, err, errlen, "%s", why);
        return 0;
    }
    const char *rk_name = strcmp(java, "sasl.mechanism") == 0 ? "sasl.mechanisms" : java;
    if (rd_kafka_conf_set(conf, rk_name, e->value, why, sizeof why) != RD_KAFKA_CONF_OK)
        return cc_props_fail(w, key, err, errlen, "%s", why);
    return 0;
}

/* librdkafka's own warnings, in our words' shape: "strait connect: <client>: ...". */
static void client_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    fprintf(stderr, "strait connect: %s: librdkafka %s: %s\n", rd_kafka_name(rk), fac, buf);
}

int cc_client_config(cc_props *worker, const char *client, rd_kafka_conf_t *conf, char *err,
                     size_t errlen)
{
    static const char *const java_keys[] = {"bootstrap.servers", "security.protocol",
                                            "sasl.mechanism", "sasl.jaas.config"};
    char key[128], why[512];
    const char *servers = cc_props_get(worker, "bootstrap.servers", "");
    if (!servers[0])
        return cc_props_fail(worker, "bootstrap.servers", err, errlen,
                             "missing; the brokers to connect to, e.g. localhost:9092");
    /* librdkafka's own logs would interleave with ours; warnings and errors only. */
    rd_kafka_conf_set(conf, "log_level", "4", why, sizeof why);
    rd_kafka_conf_set_log_cb(conf, client_log);
    for (size_t i = 0; i < sizeof java_keys / sizeof java_keys[0]; i++) {
        if (set_java_key(worker, java_keys[i], java_keys[i], conf, err, errlen))
            return -1;
        snprintf(key, sizeof key, "%s.%s", client, java_keys[i]);
        if (set_java_key(worker, key, java_keys[i], conf, err, errlen))
            return -1;
    }
    size_t plen = strlen(client);
    for (size_t i = 0; i < worker->n; i++) {
        cc_prop *e = &worker->v[i];
        if (strncmp(e->key, client, plen) != 0 || e->key[plen] != '.')
            continue;
        const char *name = e->key + plen + 1;
        bool java = false;
        for (size_t j = 0; j < sizeof java_keys / sizeof java_keys[0]; j++)
            java |= strcmp(name, java_keys[j]) == 0;
        if (java)
            continue;
        e->used = true;
        if (rd_kafka_conf_set(conf, name, e->value, why, sizeof why) != RD_KAFKA_CONF_OK)
            return cc_props_fail(worker, e->key, err, errlen, "librdkafka does not take %s=%s: %s",
                                 name, e->value, why);
    }
    return 0;
}

/* The other client's prefix is read when that client is made; mark it so the unknown-key
 * pass does not complain about it when only sources or only sinks run. */
static void mark_prefixed(cc_props *p, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < p->n; i++)
        if (strncmp(p->v[i].key, prefix, n) == 0)
            p->v[i].used = true;
}

/* Notes for keys read nowhere: Kafka Connect warns and goes on; so does this. */
static void warn_unused(cc_props *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (!p->v[i].used)
            fprintf(stderr,
                    "strait connect: %s:%d: %s: not a setting strait connect knows; "
                    "ignored\n",
                    p->path, p->v[i].line, p->v[i].key);
}

typedef struct connector {
    cc_props props;
    const cc_connector_type *type;
    cc_source *source;
    cc_sink *sink;
} connector;

/* Loads and checks one connector file and makes its half of the worker. 0, or -1 with
 * err. */
static int connector_open(connector *c, const cc_worker *w, const char *path, connector *all,
                          size_t nall, char *err, size_t errlen)
{
    if (cc_props_load(&c->props, path, err, errlen))
        return -1;
    const char *name = cc_props_get(&c->props, "name", "");
    if (!name[0])
        return cc_props_fail(&c->props, "name", err, errlen,
                             "missing; every connector needs a unique name");
    for (size_t i = 0; i < nall; i++)
        if (strcmp(cc_props_get(&all[i].props, "name", ""), name) == 0)
            return cc_props_fail(&c->props, "name", err, errlen,
                                 "\"%s\" is also the name of the connector in %s", name,
                                 all[i].props.path);
    const char *cls = cc_props_get(&c->props, "connector.class", "");
    if (!(c->type = find_type(cls)))
        return cc_props_fail(&c->props, "connector.class", err, errlen,
                             "%s%s%s; strait connect has FileStreamSource and FileStreamSink "
                             "(or their class names org.apache.kafka.connect.file."
                             "FileStreamSourceConnector and ...SinkConnector)",
                             cls[0] ? "\"" : "missing", cls,
                             cls[0] ? "\" is not a connector it has" : "");
    int64_t tasks;
    if (cc_props_int(&c->props, "tasks.max", 1, 1, 1000, &tasks, err, errlen))
        return -1;
    if (tasks > 1)
        fprintf(stderr, "strait connect: %s: tasks.max=%lld: %s runs one task\n", path,
                (long long)tasks, c->type->alias);
    for (const char *const *k = connector_framework;
         k < connector_framework + sizeof connector_framework / sizeof *connector_framework; k++)
        if (c->type->source && (strcmp(*k, "topics") == 0 || strcmp(*k, "topics.regex") == 0) &&
            cc_props_find(&c->props, *k))
            return cc_props_fail(&c->props, *k, err, errlen,
                                 "is a sink setting; a source writes the one topic= it names");
    static const char *const refused[] = {"transforms", "predicates", "errors.tolerance"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        cc_prop *e = cc_props_find(&c->props, refused[i]);
        if (e && e->value[0] && strcmp(e->value, "none") != 0)
            return cc_props_fail(&c->props, refused[i], err, errlen,
                                 "not supported by strait connect yet (it would change what "
                                 "is delivered; remove it)");
    }
    cc_connector_info info = {.name = name};
    void *task = c->type->create(&c->props, &info, err, errlen);
    if (!task)
        return -1;
    if (c->type->source)
        c->source = cc_source_new(w, &c->props, c->type, task, err, errlen);
    else
        c->sink = cc_sink_new(w, &c->props, c->type, task, err, errlen);
    return c->source || c->sink ? 0 : -1;
}

static int load_worker(cc_props *p, cc_worker *w, const char *path, char *err, size_t errlen)
{
    if (cc_props_load(p, path, err, errlen))
        return -1;
    w->props = p;
    if (!cc_props_get(p, "bootstrap.servers", "")[0])
        return cc_props_fail(p, "bootstrap.servers", err, errlen,
                             "missing; the brokers to connect to, e.g. localhost:9092");
    w->offsets_path = cc_props_get(p, "offset.storage.file.filename", "");
    if (!w->offsets_path[0])
        return cc_props_fail(p, "offset.storage.file.filename", err, errlen,
                             "missing; a standalone worker stores source positions in this "
                             "file, e.g. /tmp/connect.offsets");
    if (cc_props_int(p, "offset.flush.interval.ms", 60000, 1, 86400000, &w->flush_interval_ms, err,
                     errlen))
        return -1;
    for (size_t i = 0; i < sizeof worker_known / sizeof *worker_known; i++) {
        cc_prop *e = cc_props_find(p, worker_known[i].key);
        if (e && worker_known[i].note)
            fprintf(stderr, "strait connect: %s:%d: %s\n", p->path, e->line, worker_known[i].note);
    }
    /* The converters' schemas.enable are read with the converters. */
    cc_props_find(p, "key.converter.schemas.enable");
    cc_props_find(p, "value.converter.schemas.enable");
    return 0;
}

static int run(connector *cs, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (cs[i].source && cc_source_start(cs[i].source, err, errlen))
            return -1;
    fprintf(stderr, "strait connect: running %zu connector%s; Ctrl-C stops\n", n,
            n == 1 ? "" : "s");
    while (!stop_requested) {
        int64_t now = st_mono_ms();
        int moved = 0;
        for (size_t i = 0; i < n; i++) {
            int r = cs[i].source ? cc_source_step(cs[i].source, now, err, errlen)
                                 : cc_sink_step(cs[i].sink, now, err, errlen);
            if (r < 0)
                return -1;
            moved += r;
        }
        if (!moved)
            poll(NULL, 0, IDLE_WAIT_MS); /* pacing when idle: new lines, new records */
    }
    return 0;
}

static int standalone(cli_ctx *c, int argc, char **argv)
{
    if (argc < 3)
        return cli_usage_error(c, "give the worker file and at least one connector file: "
                                  "strait connect standalone WORKER.properties "
                                  "CONNECTOR.properties...");
    if (argc - 2 > MAX_CONNECTORS)
        return cli_usage_error(c, "at most %d connectors in one worker", MAX_CONNECTORS);
    cc_props wprops = {0};
    cc_worker w = {0};
    connector *cs = calloc((size_t)argc, sizeof *cs);
    char err[1024];
    int rc = CLI_USAGE;
    size_t n = 0;
    if (!cs)
        return cli_fail("out of memory");
    w.stop = &stop_requested;
    if (load_worker(&wprops, &w, argv[1], err, sizeof err))
        goto out;
    for (int i = 2; i < argc; i++, n++)
        if (connector_open(&cs[n], &w, argv[i], cs, n, err, sizeof err)) {
            n++;
            goto out;
        }
    mark_prefixed(&wprops, "producer.");
    mark_prefixed(&wprops, "consumer.");
    warn_unused(&wprops);
    for (size_t i = 0; i < n; i++)
        warn_unused(&cs[i].props);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = run(cs, n, err, sizeof err) ? CLI_FAIL : CLI_OK;
    if (rc == CLI_FAIL)
        fprintf(stderr, "strait connect: %s; stopping\n", err);
    char stop_err[1024];
    for (size_t i = 0; i < n; i++) {
        int r = cs[i].source
                    ? cc_source_stop(cs[i].source, STOP_TIMEOUT_MS, stop_err, sizeof stop_err)
                    : cc_sink_stop(cs[i].sink, stop_err, sizeof stop_err);
        if (r) {
            fprintf(stderr, "strait connect: %s\n", stop_err);
            rc = CLI_FAIL;
        }
    }
    err[0] = '\0';
out:
    if (err[0] && rc == CLI_USAGE)
        fprintf(stderr, "strait connect: %s\n", err);
    for (size_t i = 0; i < n; i++) {
        cc_source_free(cs[i].source);
        cc_sink_free(cs[i].sink);
        cc_props_free(&cs[i].props);
    }
    free(cs);
    cc_props_free(&wprops);
    return rc;
}

int cli_connect_main(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait connect";
    c->usage = usage;
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc < 2)
            return cli_usage_error(c, "give a mode: strait connect standalone WORKER.properties "
                                      "CONNECTOR.properties...");
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "standalone") != 0)
        return cli_usage_error(c,
                               "unknown mode \"%s\": strait connect runs \"standalone\" "
                               "(distributed mode is not supported yet)",
                               argv[1]);
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        }
    return standalone(c, argc - 1, argv + 1);
}
