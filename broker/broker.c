/*
 * The broker context: builds the loop, the flusher, the topic registry, the Kafka
 * listener and the management endpoint, and ties them together. Request handling
 * lives in broker/proto (dispatch) and broker/api (handlers); this file only wires.
 */
#include "broker/broker_int.h"
#include "broker/shard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/mgmt/admin.h"
#include "broker/cluster/dynconfig.h"
#include "broker/group/group.h"
#include "broker/request/pipeline.h"
#include "broker/quota/quota.h"
#include "broker/security/security.h"
#include "broker/txn/coordinator.h"
#include "common/clock.h"
#include "common/dirlock.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/logging.h"
#include "common/mgmt.h"

/* Jobs waiting for a worker thread, all kinds together, and how much nicer the workers
 * are than the loop thread. */
#define WORKQ_MAX_QUEUED 1024
#define WORKQ_NICE       10

static int on_request(void *ctx, st_conn *c, uint8_t *frame, size_t len)
{
    st_shard *sh = ctx;
    return st_pipeline_on_request(sh->pipeline, c, frame, len);
}

static void on_close(void *ctx, st_conn *c)
{
    st_shard *sh = ctx;
    st_pipeline_on_close(sh->pipeline, c);
}

static void on_mgmt(st_loop *loop, int fd, uint32_t events, void *arg)
{
    st_broker *b = arg;
    st_mgmt_server_process(b->mgmt);
}

/* Housekeeping once a second: flush.ms, checkpoints, compaction, idle quota sensors.
 * Retention has its own timer (below); segment.ms rolls at append. */
#define TICK_MS 1000
/* Kafka runs its first retention check 30 s after start (LogManager's initial task
 * delay), then every log.retention.check.interval.ms. */
#define FIRST_RETENTION_MS 30000

/* The main shard's tick also runs the shared state's housekeeping (the topic directory
 * ticks the partitions, which all belong to it today; the coordinators live there). */
static void on_tick(st_loop *loop, st_timer *t)
{
    st_shard *sh = t->arg;
    st_broker *b = sh->broker;
    int64_t now = st_wall_ms();
    st_topics_tick(b->topics, now);
    st_groups_tick(b->groups, now);
    st_txn_coord_tick(b->txn, now);
    if (now >= b->next_producer_expiry_ms) {
        b->next_producer_expiry_ms = now + b->cfg.producer_id_expiration_check_interval_ms;
        st_topics_expire_producers(b->topics, now, b->cfg.producer_id_expiration_ms);
    }
    if (b->bquota)
        st_bquota_sweep(b->bquota); /* idle sensors go even when nobody records */
    st_timer_start(loop, t, TICK_MS);
}

static void on_retention(st_loop *loop, st_timer *t)
{
    st_broker *b = ((st_shard *)t->arg)->broker;
    int deleted = st_topics_apply_retention(b->topics, st_wall_ms());
    st_debug("retention check: %d segments deleted; next in %" PRId64 " ms", deleted,
             b->cfg.retention_check_interval_ms);
    st_timer_start(loop, t, b->cfg.retention_check_interval_ms);
}

/* Reads <data>/meta/<name> into buf, or creates it (atomically, durably) from `fresh`. */
static int meta_value(const char *data_dir, const char *name, char *buf, size_t cap,
                      const char *fresh, char *err, size_t errlen)
{
    char meta[PATH_MAX + 8], path[PATH_MAX + 128];
    snprintf(meta, sizeof meta, "%s/meta", data_dir);
    snprintf(path, sizeof path, "%s/%s", meta, name);
    size_t len;
    int rc = st_file_read_small(path, buf, cap, &len, err, errlen);
    if (rc < 0)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    if (rc == 0 && buf[0])
        return 0;
    /* 0600: the management token is a secret (the cluster id need not be public) */
    if (st_file_write_atomic_mode(meta, name, fresh, strlen(fresh), true, 0600, err, errlen) < 0)
        return -1;
    snprintf(buf, cap, "%s", fresh);
    return 0;
}

static void random_hex(char *out, size_t nbytes)
{
    uint8_t raw[64];
    int fd = open("/dev/urandom", O_RDONLY);
    ssize_t got = fd >= 0 ? read(fd, raw, nbytes) : -1;
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < nbytes; i++) {
        if (got != (ssize_t)nbytes)
            raw[i] = (uint8_t)(st_mono_us() >> (i % 8));
        sprintf(out + 2 * i, "%02x", raw[i]);
    }
}

static st_broker *open_common(const st_broker_config *cfg, char *err, size_t errlen)
{
    st_broker *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->cfg = *cfg;
    b->started_ms = st_wall_ms();
    if (!(b->shards = calloc(1, sizeof *b->shards))) {
        free(b);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->nshards = 1;
    st_shard *sh = &b->shards[0];
    sh->broker = b;
    /* The lock comes before anything in the data directory is read or written: a second
     * broker on the same directory would rewrite meta/ and append at the same offsets. */
    if (st_mkdir_p(cfg->data_dir, 0755, err, errlen) ||
        !(b->data_lock = st_dirlock_take(cfg->data_dir, "data directory", err, errlen)))
        goto fail;
    char meta[PATH_MAX + 8];
    _Static_assert(sizeof meta > sizeof cfg->data_dir + 5, "room for /meta");
    snprintf(meta, sizeof meta, "%s/meta", cfg->data_dir);
    if (st_mkdir_p(meta, 0755, err, errlen))
        goto fail;
    if (!b->cfg.cluster_id[0]) {
        char fresh[33];
        random_hex(fresh, 16);
        if (meta_value(cfg->data_dir, "cluster_id", b->cfg.cluster_id, sizeof b->cfg.cluster_id,
                       fresh, err, errlen))
            goto fail;
    }
    if (!(sh->loop = st_loop_new(err, errlen)))
        goto fail;
    if (!(sh->flusher = st_flusher_new(st_loop_post_fn, sh->loop, err, errlen)))
        goto fail;
    if (!(sh->batch_ws = st_batch_ws_new())) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* The queue bound is the pool's own backstop; each kind of work caps its share below
     * it (password checks: security.auth_checks_max). The workers run at nice +10: when
     * the host is busy, a core shared with password checks must still serve requests
     * first. Measured on a loaded 2-core host, 4 x 200 wrong logins a second (A/B/C, two
     * rounds): kcat -L p99 320 and 515 ms with the workers at nice 0, 68 and 53 ms at +5,
     * 46 and 26 ms at +10. The price: under such load a login's own check waits longer
     * (its failure answer is held back longer than that anyway). */
    st_workq_config wq = {.threads = cfg->worker_threads,
                          .max_queued = WORKQ_MAX_QUEUED,
                          .name = "straitd-work",
                          .nice = WORKQ_NICE};
    if (!(b->workq = st_workq_new(&wq, st_loop_post_fn, sh->loop, err, errlen)))
        goto fail;
    if (!(b->dynconfig = st_dynconfig_open(cfg->data_dir, &b->cfg, err, errlen)))
        goto fail;
    st_log_config log_defaults; /* the file's, with those altered at run time over them */
    st_dynconfig_log_defaults(b->dynconfig, &log_defaults);
    if (!(b->topics = st_topics_open(cfg->data_dir, &log_defaults, sh->flusher, err, errlen)) ||
        st_topics_start_worker(b->topics, st_loop_post_fn, sh->loop, err, errlen) != 0)
        goto fail;
    if (!(b->groups = st_groups_open(b, sh->loop, err, errlen)))
        goto fail;
    if (!(b->txn = st_txn_coord_open(b, err, errlen)))
        goto fail;
    if (st_security_open(cfg, &b->security, err, errlen))
        goto fail;
    if (st_bquota_open(&b->cfg, b->security, b->topics, &b->bquota, err, errlen))
        goto fail;
    sh->fetch_waiters = st_fetch_waiters_new();
    size_t nrows;
    const st_api *rows = st_api_rows(&nrows);
    st_pipeline_config pc = {.table = rows,
                             .nrows = nrows,
                             .loop = sh->loop,
                             .security = b->security,
                             .quota = b->bquota,
                             .broker = b,
                             .shard = sh};
    sh->pipeline = st_pipeline_new(&pc);
    st_loop_update_time(sh->loop); /* opening the logs may have taken a while */
    sh->tick_timer.cb = on_tick;
    sh->tick_timer.arg = sh;
    st_timer_start(sh->loop, &sh->tick_timer, TICK_MS);
    sh->retention_timer.cb = on_retention;
    sh->retention_timer.arg = sh;
    st_timer_start(sh->loop, &sh->retention_timer,
                   cfg->retention_check_interval_ms < FIRST_RETENTION_MS
                       ? cfg->retention_check_interval_ms
                       : FIRST_RETENTION_MS);
    return b;
fail:
    st_broker_free(b);
    return NULL;
}

st_broker *st_broker_new_detached(const st_broker_config *cfg, char *err, size_t errlen)
{
    return open_common(cfg, err, errlen);
}

/* broker.listeners, or one PLAINTEXT listener on broker.host:port when none is set.
 * SASL_SSL needs the certificate and key; they are loaded once, shared by every TLS
 * listener. */
static int open_listeners(st_broker *b, char *err, size_t errlen)
{
    st_broker_config *cfg = &b->cfg;
    st_server *server = st_shard_main(b)->server;
    if (cfg->nlisteners == 0) {
        cfg->listeners[0].protocol = ST_SEC_PLAINTEXT;
        snprintf(cfg->listeners[0].host, sizeof cfg->listeners[0].host, "%s", cfg->listen_host);
        cfg->listeners[0].port = cfg->port;
        cfg->nlisteners = 1;
    }
    for (size_t i = 0; i < cfg->nlisteners; i++) {
        const st_listener_config *l = &cfg->listeners[i];
        st_tls_ctx *tls = NULL;
        if (l->protocol == ST_SEC_SASL_SSL) {
            if (!b->tls) {
                if (!cfg->ssl_certificate[0] || !cfg->ssl_key[0]) {
                    snprintf(err, errlen,
                             "a SASL_SSL listener needs security.ssl_certificate and "
                             "security.ssl_key (PEM files)");
                    return -1;
                }
                b->tls = st_tls_ctx_new(cfg->ssl_certificate, cfg->ssl_key, err, errlen);
                if (!b->tls)
                    return -1;
            }
            tls = b->tls;
        }
        if (st_server_listen_ex(server, l->host, l->port, (int)l->protocol, tls,
                                l->protocol != ST_SEC_PLAINTEXT, err, errlen))
            return -1;
        st_info("listener %zu: %s on port %d", i, st_sec_protocol_name(l->protocol),
                st_server_listener_port(server, i));
        if (l->protocol != ST_SEC_PLAINTEXT && !cfg->authorizer)
            st_warn("a %s listener without security.authorizer = true: authenticated users may "
                    "do everything (ACLs are stored but not enforced)",
                    st_sec_protocol_name(l->protocol));
    }
    return 0;
}

int st_broker_listener(const st_broker *b, size_t i, st_sec_protocol *protocol)
{
    const st_server *server = b->shards[0].server;
    if (!server || i >= b->cfg.nlisteners)
        return -1;
    if (protocol)
        *protocol = b->cfg.listeners[i].protocol;
    return st_server_listener_port(server, i);
}

/* The survey endpoint beside the management one (common/mgmt.h), for the console. */
static int open_survey(st_broker *b, char *err, size_t errlen)
{
    char *url = b->cfg.mgmt_survey_url;
    if (!url[0] && st_mgmt_survey_url_default(b->cfg.mgmt_url, url, sizeof b->cfg.mgmt_survey_url,
                                              err, errlen))
        return -1;
    if (st_mgmt_server_survey(b->mgmt, url, st_admin_readonly, err, errlen))
        return -1;
    if (st_loop_watch(st_shard_main(b)->loop, st_mgmt_server_survey_fd(b->mgmt), EPOLLIN, on_mgmt,
                      b)) {
        snprintf(err, errlen, "cannot watch the survey socket: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The connection layer's limits from the config (docs/security.md, "Hostile clients"). */
static int open_server(st_broker *b, char *err, size_t errlen)
{
    const st_broker_config *cfg = &b->cfg;
    st_server_limits lim;
    st_server_limits_init(&lim);
    lim.max_request_bytes = cfg->socket_request_max_bytes;
    lim.max_unauth_request_bytes = (size_t)cfg->sasl_max_receive_size;
    lim.queued_max_request_bytes =
        cfg->queued_max_request_bytes > 0 ? (size_t)cfg->queued_max_request_bytes : SIZE_MAX;
    lim.idle_ms = cfg->connections_max_idle_ms;
    lim.auth_timeout_ms = cfg->auth_timeout_ms;
    lim.max_connections = (uint32_t)cfg->max_connections;
    lim.max_connections_per_ip = (uint32_t)cfg->max_connections_per_ip;
    st_ip_limit *overrides = NULL;
    char why[300];
    if (st_ip_limits_parse(cfg->max_connections_per_ip_overrides, &overrides, &lim.nip_overrides,
                           why, sizeof why)) {
        snprintf(err, errlen, "socket.max_connections_per_ip_overrides: %s", why);
        return -1;
    }
    lim.ip_overrides = overrides;
    st_server_callbacks cb = {on_request, on_close};
    st_shard *sh = st_shard_main(b);
    sh->server = st_server_new(sh->loop, &cb, sh, &lim); /* copies the overrides */
    free(overrides);
    return 0;
}

st_broker *st_broker_new(const st_broker_config *cfg, char *err, size_t errlen)
{
    st_broker *b = open_common(cfg, err, errlen);
    if (!b)
        return NULL;
    if (open_server(b, err, errlen) || open_listeners(b, err, errlen))
        goto fail;

    if (!b->cfg.mgmt_token[0]) {
        char fresh[65];
        random_hex(fresh, 32);
        if (meta_value(cfg->data_dir, "mgmt.token", b->cfg.mgmt_token, sizeof b->cfg.mgmt_token,
                       fresh, err, errlen))
            goto fail;
    }
    b->mgmt =
        st_mgmt_server_open(b->cfg.mgmt_url, b->cfg.mgmt_token, st_admin_handle, b, err, errlen);
    if (!b->mgmt)
        goto fail;
    if (st_loop_watch(st_shard_main(b)->loop, st_mgmt_server_fd(b->mgmt), EPOLLIN, on_mgmt, b)) {
        snprintf(err, errlen, "cannot watch the management socket: %s", strerror(errno));
        goto fail;
    }
    if (open_survey(b, err, errlen) || st_broker_cluster_open(b, err, errlen))
        goto fail;
    return b;
fail:
    st_broker_free(b);
    return NULL;
}

int st_broker_run(st_broker *b)
{
    st_info("straitd node %d serving Kafka on %s:%d, data in %s, management on %s", b->cfg.node_id,
            b->cfg.listen_host, st_broker_port(b), b->cfg.data_dir, b->cfg.mgmt_url);
    st_loop_run(st_shard_main(b)->loop);
    st_info("shutting down");
    return 0;
}

void st_broker_stop(st_broker *b)
{
    for (uint32_t i = 0; i < b->nshards; i++)
        st_loop_stop(b->shards[i].loop);
}

int st_broker_port(const st_broker *b)
{
    const st_server *server = b->shards[0].server;
    return server ? st_server_port(server) : b->cfg.port;
}

st_topic *st_broker_auto_create(st_broker *b, const char *name, size_t len, int *refused)
{
    if (refused)
        *refused = 0;
    st_topic *t = st_topics_find(b->topics, name, len);
    if (t || !b->cfg.auto_create_topics)
        return t;
    char copy[256], err[320];
    if (len >= sizeof copy || st_topic_name_check(name, len, err, sizeof err))
        return NULL;
    /* A tenant's topics and partitions limits hold for auto-created topics too. */
    if (st_bquota_check_create(b->bquota, name, len, 1, b->cfg.num_partitions, err, sizeof err)) {
        st_info("not auto-creating \"%.*s\": %s", (int)len, name, err);
        if (refused)
            *refused = ST_ERR_POLICY_VIOLATION;
        return NULL;
    }
    memcpy(copy, name, len);
    copy[len] = '\0';
    int rc = st_topics_create(b->topics, copy, b->cfg.num_partitions,
                              b->cfg.default_replication_factor, NULL, 0, false, err, sizeof err);
    if (rc) {
        st_warn("auto-creating topic \"%s\" failed: %s (%s)", copy, err, st_err_name(rc));
        return NULL;
    }
    return st_topics_find(b->topics, name, len);
}

/* A shard's own parts, after the shared state that borrows them is gone. */
static void shard_free(st_shard *sh)
{
    if (sh->flusher)
        st_flusher_free(sh->flusher);
    st_batch_ws_free(sh->batch_ws);
    /* A compaction pass that ended while the logs closed posted its completion, which
     * frees the pass; the flusher thread is joined, so run it rather than drop it. */
    if (sh->loop) {
        st_loop_run_posted(sh->loop);
        st_loop_free(sh->loop);
    }
    st_pipeline_free(sh->pipeline);
}

void st_broker_free(st_broker *b)
{
    if (!b)
        return;
    st_broker_cluster_close(b); /* first: our ephemerals go, another broker takes over */
    /* Detaching: the shards' listeners and parked requests first, while every loop and
     * the shared state they use are alive. */
    st_shard *main_sh = b->shards; /* NULL: the allocation of the shards failed */
    for (uint32_t i = 0; i < b->nshards; i++)
        if (b->shards[i].fetch_waiters)
            st_fetch_shutdown(&b->shards[i]);
    if (b->mgmt) {
        st_loop_unwatch(main_sh->loop, st_mgmt_server_fd(b->mgmt));
        if (st_mgmt_server_survey_fd(b->mgmt) >= 0)
            st_loop_unwatch(main_sh->loop, st_mgmt_server_survey_fd(b->mgmt));
        st_mgmt_server_close(b->mgmt);
    }
    for (uint32_t i = 0; i < b->nshards; i++)
        if (b->shards[i].server)
            st_server_free(b->shards[i].server);
    /* Requests woken but not yet resumed belong to closed connections now; their turn
     * comes in the run of posted work below. */
    /* Connections are gone; what the workers still hold finishes, and its completions
     * (which free requests and release login budgets in the security context) run now,
     * before the security context goes. */
    if (b->workq) {
        st_workq_free(b->workq);
        b->workq = NULL;
        st_loop_run_posted(main_sh->loop);
    }
    /* Topic creations still being made finish and register (their answers go nowhere). */
    if (b->topics) {
        st_topics_stop_worker(b->topics);
        st_loop_run_posted(main_sh->loop);
    }
    st_tls_ctx_free(b->tls);
    st_bquota_close(b->bquota); /* it borrows the security context */
    b->bquota = NULL;
    st_security_free(b->security);
    for (uint32_t i = 0; i < b->nshards; i++) {
        st_shard *sh = &b->shards[i];
        if (sh->fetch_waiters)
            st_fetch_waiters_free(sh->fetch_waiters);
        sh->fetch_waiters = NULL;
        if (sh->loop && st_timer_armed(&sh->tick_timer))
            st_timer_stop(sh->loop, &sh->tick_timer);
        if (sh->loop && st_timer_armed(&sh->retention_timer))
            st_timer_stop(sh->loop, &sh->retention_timer);
    }
    st_txn_coord_close(b->txn);
    st_groups_close(b->groups);
    if (b->topics)
        st_topics_close(b->topics);
    st_dynconfig_free(b->dynconfig);
    for (uint32_t i = 0; i < b->nshards; i++)
        shard_free(&b->shards[i]);
    free(b->shards);
    st_dirlock_release(b->data_lock); /* last: the logs and the clean-shutdown marker are done */
    free(b);
}
