/*
 * The survey thread (see bus.h). Each round:
 *
 *   t0            send one survey to every daemon (NN_DONTWAIT: a daemon that is not
 *                 connected simply gets nothing)
 *   t0 .. t0+D    poll the surveyors' receive fds; each answer is parsed here, off the
 *                 event loop
 *   t0+D          whoever has not answered is down ("no answer within D ms")
 *                 → the round goes to the loop (st_bus_take), the loop is woken
 *   t0+1000       next round (a round that overran starts the next at once)
 *
 * D is console.survey_deadline_ms (600 by default), so a daemon that stops answering is
 * shown down at most 1000 + D ms after its last answer.
 */
#include "admin-ui/bus.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/survey.h>

#include "common/clock.h"
#include "common/logging.h"

#define ROUND_MS        1000
#define TOKEN_RETRY_MS  5000
#define MAX_ANSWER_SIZE (64 << 20)

typedef struct bus_daemon {
    const st_con_daemon *d;
    int sock;
    int rcvfd;
    char token[256];
    bool have_token;
    int64_t token_retry_ms; /* mono: when to read the token file again */
    char token_err[256];
    char boot[17]; /* of the last answer: a new boot restarts the log cursor */
    uint64_t log_since;
    bool pending;
} bus_daemon;

struct st_bus {
    const st_con_config *cfg;
    void (*wake)(void *);
    void *ctx;
    pthread_t thread;
    int stop_pipe[2];
    pthread_mutex_t lock;
    st_bus_round *ready; /* under lock */
    unsigned want;       /* under lock */
    bus_daemon *daemons;
    size_t n;
};

void st_bus_round_free(st_bus_round *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        json_decref(r->answers[i].results);
    free(r);
}

/* The survey body for daemon bd, or NULL (out of memory). Caller frees. */
static char *survey_body(const bus_daemon *bd, unsigned want)
{
    json_t *cmds = json_array();
    json_t *log =
        json_pack("{s:s, s:{s:I}}", "cmd", "mgmt.log", "args", "since", (json_int_t)bd->log_since);
    if (bd->d->kind == ST_DAEMON_BROKER) {
        static const char *const names[] = {"status", "topics.stats", "groups.lag", "quotas.usage",
                                            "quotas.describe"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            json_array_append_new(cmds, json_pack("{s:s}", "cmd", names[i]));
        json_array_append_new(cmds, log);
        if (want & ST_BUS_WANT_ACLS)
            json_array_append_new(cmds, json_pack("{s:s}", "cmd", "acls.list"));
    } else {
        json_array_append_new(cmds, json_pack("{s:s}", "cmd", "status"));
        json_array_append_new(cmds, log);
    }
    json_t *req =
        json_pack("{s:s, s:s, s:o}", "token", bd->token, "who", "console:survey", "cmds", cmds);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    return text;
}

/* Reads the token (again) when there is none yet or the daemon refused it. */
static void refresh_token(bus_daemon *bd, int64_t now)
{
    if (bd->have_token || now < bd->token_retry_ms)
        return;
    bd->have_token = st_con_daemon_token(bd->d, bd->token, sizeof bd->token, bd->token_err,
                                         sizeof bd->token_err) == 0;
    if (!bd->have_token)
        bd->token_retry_ms = now + TOKEN_RETRY_MS;
}

/* Reads one answer of bd into a. */
static void take_answer(bus_daemon *bd, st_bus_answer *a, int64_t sent_mono)
{
    void *msg = NULL;
    int n = nn_recv(bd->sock, &msg, NN_MSG, NN_DONTWAIT);
    if (n < 0) {
        if (nn_errno() == EAGAIN)
            return; /* still pending */
        snprintf(a->why, sizeof a->why, "survey failed: %s", nn_strerror(nn_errno()));
        bd->pending = false;
        return;
    }
    bd->pending = false;
    a->rtt_ms = st_mono_ms() - sent_mono;
    json_error_t jerr;
    json_t *reply = json_loadb(msg, (size_t)n, 0, &jerr);
    nn_freemsg(msg);
    json_t *results = json_object_get(reply, "results");
    const char *boot = json_string_value(json_object_get(reply, "boot"));
    if (!json_is_true(json_object_get(reply, "ok")) || !json_is_array(results) || !boot) {
        const char *e = json_string_value(json_object_get(reply, "error"));
        snprintf(a->why, sizeof a->why, "answered with an error: %s",
                 e       ? e
                 : reply ? "not a survey answer"
                         : jerr.text);
        if (e && strstr(e, "bad token")) { /* the daemon made a new token: read it again */
            bd->have_token = false;
            bd->token_retry_ms = 0;
        }
        json_decref(reply);
        return;
    }
    a->up = true;
    a->results = json_incref(results);
    snprintf(a->boot, sizeof a->boot, "%s", boot);
    /* The command log cursor: from its "next", or from 0 after a restart. */
    size_t log_slot = bd->d->kind == ST_DAEMON_BROKER ? ST_BUS_B_LOG : ST_BUS_M_LOG;
    json_t *log = json_object_get(json_array_get(results, log_slot), "result");
    json_t *next = json_object_get(log, "next");
    if (strcmp(bd->boot, boot) != 0) {
        snprintf(bd->boot, sizeof bd->boot, "%s", boot);
        bd->log_since = 0;
    } else if (json_is_integer(next))
        bd->log_since = (uint64_t)json_integer_value(next);
    json_decref(reply);
}

static st_bus_round *run_round(st_bus *bus)
{
    st_bus_round *r = calloc(1, sizeof *r + bus->n * sizeof r->answers[0]);
    if (!r)
        return NULL;
    r->n = bus->n;
    r->sent_ms = st_wall_ms();
    int64_t t0 = st_mono_ms();
    pthread_mutex_lock(&bus->lock);
    unsigned want = bus->want;
    pthread_mutex_unlock(&bus->lock);

    size_t pending = 0;
    for (size_t i = 0; i < bus->n; i++) {
        bus_daemon *bd = &bus->daemons[i];
        bd->pending = false;
        refresh_token(bd, t0);
        if (!bd->have_token) {
            snprintf(r->answers[i].why, sizeof r->answers[i].why, "%s", bd->token_err);
            continue;
        }
        char *body = survey_body(bd, want);
        if (body && nn_send(bd->sock, body, strlen(body), NN_DONTWAIT) >= 0) {
            bd->pending = true;
            pending++;
        } else
            snprintf(r->answers[i].why, sizeof r->answers[i].why, "cannot send a survey: %s",
                     body ? nn_strerror(nn_errno()) : "out of memory");
        free(body);
    }
    struct pollfd *pfd = calloc(bus->n + 1, sizeof *pfd);
    size_t *who = calloc(bus->n + 1, sizeof *who);
    int64_t deadline = t0 + bus->cfg->survey_deadline_ms;
    while (pending > 0 && pfd && who) {
        int64_t left = deadline - st_mono_ms();
        if (left <= 0)
            break;
        nfds_t k = 0;
        for (size_t i = 0; i < bus->n; i++)
            if (bus->daemons[i].pending) {
                pfd[k] = (struct pollfd){.fd = bus->daemons[i].rcvfd, .events = POLLIN};
                who[k++] = i;
            }
        pfd[k] = (struct pollfd){.fd = bus->stop_pipe[0], .events = POLLIN};
        int rc = poll(pfd, k + 1, (int)left);
        if (rc < 0 && errno != EINTR)
            break;
        if (pfd[k].revents)
            break; /* stopping */
        for (nfds_t j = 0; j < k; j++)
            if (pfd[j].revents & POLLIN) {
                take_answer(&bus->daemons[who[j]], &r->answers[who[j]], t0);
                if (!bus->daemons[who[j]].pending)
                    pending--;
            }
    }
    free(pfd);
    free(who);
    for (size_t i = 0; i < bus->n; i++)
        if (bus->daemons[i].pending) {
            bus->daemons[i].pending = false;
            snprintf(r->answers[i].why, sizeof r->answers[i].why, "no answer within %d ms",
                     bus->cfg->survey_deadline_ms);
        }
    return r;
}

static void *bus_main(void *arg)
{
    st_bus *bus = arg;
    int64_t next = st_mono_ms();
    for (;;) {
        int64_t wait = next - st_mono_ms();
        struct pollfd stop = {.fd = bus->stop_pipe[0], .events = POLLIN};
        if (wait > 0 && poll(&stop, 1, (int)wait) > 0)
            break;
        if (stop.revents)
            break;
        next += ROUND_MS;
        if (next < st_mono_ms()) /* overran: start again from now, never in a burst */
            next = st_mono_ms() + ROUND_MS;
        st_bus_round *r = run_round(bus);
        if (!r)
            continue;
        pthread_mutex_lock(&bus->lock);
        st_bus_round *old = bus->ready;
        bus->ready = r;
        pthread_mutex_unlock(&bus->lock);
        st_bus_round_free(old);
        bus->wake(bus->ctx);
    }
    return NULL;
}

st_bus *st_bus_start(const st_con_config *cfg, void (*wake)(void *), void *ctx, char *err,
                     size_t errlen)
{
    st_bus *bus = calloc(1, sizeof *bus);
    if (!bus || !(bus->daemons = calloc(cfg->ndaemons + 1, sizeof *bus->daemons))) {
        free(bus);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bus->cfg = cfg;
    bus->wake = wake;
    bus->ctx = ctx;
    bus->stop_pipe[0] = bus->stop_pipe[1] = -1;
    pthread_mutex_init(&bus->lock, NULL);
    for (; bus->n < cfg->ndaemons; bus->n++) {
        bus_daemon *bd = &bus->daemons[bus->n];
        size_t fdlen = sizeof bd->rcvfd;
        int deadline = cfg->survey_deadline_ms, max = MAX_ANSWER_SIZE, reconnect_max = 1000;
        bd->d = &cfg->daemons[bus->n];
        bd->sock = nn_socket(AF_SP, NN_SURVEYOR);
        if (bd->sock < 0 ||
            nn_setsockopt(bd->sock, NN_SURVEYOR, NN_SURVEYOR_DEADLINE, &deadline, sizeof deadline) <
                0 ||
            nn_setsockopt(bd->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof max) < 0 ||
            nn_setsockopt(bd->sock, NN_SOL_SOCKET, NN_RECONNECT_IVL_MAX, &reconnect_max,
                          sizeof reconnect_max) < 0 ||
            nn_getsockopt(bd->sock, NN_SOL_SOCKET, NN_RCVFD, &bd->rcvfd, &fdlen) < 0 ||
            nn_connect(bd->sock, bd->d->survey_url) < 0) {
            snprintf(err, errlen, "%s: cannot set up a surveyor for %s: %s", bd->d->id,
                     bd->d->survey_url, nn_strerror(nn_errno()));
            if (bd->sock >= 0)
                nn_close(bd->sock);
            goto fail;
        }
    }
    if (pipe(bus->stop_pipe) != 0) {
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        goto fail;
    }
    int rc = pthread_create(&bus->thread, NULL, bus_main, bus);
    if (rc) {
        snprintf(err, errlen, "cannot start the survey thread: %s", strerror(rc));
        goto fail;
    }
    return bus;
fail:
    for (size_t i = 0; i < bus->n; i++)
        nn_close(bus->daemons[i].sock);
    if (bus->stop_pipe[0] >= 0) {
        close(bus->stop_pipe[0]);
        close(bus->stop_pipe[1]);
    }
    pthread_mutex_destroy(&bus->lock);
    free(bus->daemons);
    free(bus);
    return NULL;
}

st_bus_round *st_bus_take(st_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    st_bus_round *r = bus->ready;
    bus->ready = NULL;
    pthread_mutex_unlock(&bus->lock);
    return r;
}

void st_bus_want(st_bus *bus, unsigned flags)
{
    pthread_mutex_lock(&bus->lock);
    bus->want = flags;
    pthread_mutex_unlock(&bus->lock);
}

void st_bus_stop(st_bus *bus)
{
    if (!bus)
        return;
    char c = 'x';
    if (write(bus->stop_pipe[1], &c, 1) != 1)
        st_warn("cannot signal the survey thread to stop: %s", strerror(errno));
    pthread_join(bus->thread, NULL);
    for (size_t i = 0; i < bus->n; i++)
        nn_close(bus->daemons[i].sock);
    close(bus->stop_pipe[0]);
    close(bus->stop_pipe[1]);
    st_bus_round_free(bus->ready);
    pthread_mutex_destroy(&bus->lock);
    free(bus->daemons);
    free(bus);
}
