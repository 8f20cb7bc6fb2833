/*
 * Listeners: bind, listen and accept for the connection layer (conn.h). Each listener
 * carries a tag (the security protocol, for the layer above) and, for SASL_SSL, a TLS
 * context that every connection it accepts speaks.
 *
 * Admission happens here, right after accept and before the connection costs more than
 * its fd: past max.connections, or past the peer address's max.connections.per.ip (or
 * its override), the socket is closed at once with a reset (no TIME_WAIT left behind),
 * counted, and logged at most once per NET_LOG_INTERVAL_MS with the count.
 *
 * Out of fds (EMFILE/ENFILE) the pending connection would stay queued and a
 * level-triggered listener would wake the loop again and again. The server keeps one fd
 * in reserve (/dev/null): it gives it up, accepts, closes at once ("sheds") and takes it
 * back, so peers get a prompt close instead of a hang and the loop does not spin. Only
 * when even that fails does the listener pause for ACCEPT_RETRY_MS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/net/conn_int.h"

/* ---- listeners ---- */

static void listener_io(st_loop *loop, int fd, uint32_t events, void *arg);

static void listener_retry_cb(st_loop *loop, st_timer *t)
{
    listener *l = CONTAINER(t, listener, retry);
    if (st_loop_watch(loop, l->fd, EPOLLIN, listener_io, l) == 0)
        l->watched = true;
    else
        st_timer_start(loop, &l->retry, ACCEPT_RETRY_MS);
}

/* Closes an accepted socket at once, with a reset: a refused peer leaves no TIME_WAIT
 * socket behind on our side. */
static void close_now(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static uint32_t per_ip_limit(const st_server *s, const st_ip *ip)
{
    for (size_t i = 0; i < s->lim.nip_overrides; i++)
        if (memcmp(&s->overrides[i].ip, ip, sizeof *ip) == 0)
            return s->overrides[i].max;
    return s->lim.max_connections_per_ip;
}

/* A freshly accepted fd: a connection, or closed at once past a cap. */
static void admit(listener *l, int fd, const struct sockaddr *peer)
{
    st_server *s = l->s;
    st_ip ip;
    if (!st_ip_from_sockaddr(peer, &ip))
        memset(&ip, 0, sizeof ip);
    char who[INET6_ADDRSTRLEN];
    if (s->nconns >= s->lim.max_connections) {
        close_now(fd);
        s->stats.refused_max_connections++;
        st_ip_format(&ip, who, sizeof who);
        net_log(&s->logs.refused, ST_LOG_WARN,
                "refusing a connection from %s on %s: max.connections (%u) reached "
                "(%llu refused so far)",
                who, l->addr, s->lim.max_connections,
                (unsigned long long)s->stats.refused_max_connections);
        return;
    }
    uint32_t limit = per_ip_limit(s, &ip);
    uint32_t have = st_ip_counts_get(s->per_ip, &ip);
    if (have >= limit) {
        close_now(fd);
        s->stats.refused_per_ip++;
        st_ip_format(&ip, who, sizeof who);
        net_log(&s->logs.refused, ST_LOG_WARN,
                "refusing a connection from %s on %s: it has %u open, "
                "max.connections.per.ip%s is %u (%llu refused so far)",
                who, l->addr, have, limit == s->lim.max_connections_per_ip ? "" : " (its override)",
                limit, (unsigned long long)s->stats.refused_per_ip);
        return;
    }
    st_conn__new(l, fd, peer, &ip);
}

/* Out of fds: gives up the reserve fd to accept one pending connection and close it.
 * SHED_ONE when one was shed and the reserve is back (accepting may go on), SHED_EMPTY
 * when nothing was pending (the kernel reports EMFILE before it looks at the queue, so
 * that is the usual end of a burst), SHED_FAILED when even that did not work. */
enum { SHED_ONE, SHED_EMPTY, SHED_FAILED };

static int shed_one(listener *l, int err)
{
    st_server *s = l->s;
    if (s->reserve_fd < 0)
        s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* lost before: retry */
    if (s->reserve_fd < 0)
        return SHED_FAILED;
    close(s->reserve_fd);
    s->reserve_fd = -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int cfd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int accept_err = errno;
    if (cfd >= 0) {
        close_now(cfd);
        s->stats.shed_no_fds++;
    }
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (cfd < 0)
        return accept_err == EAGAIN || accept_err == EWOULDBLOCK ? SHED_EMPTY : SHED_FAILED;
    char who[INET6_ADDRSTRLEN];
    st_ip ip;
    if (!st_ip_from_sockaddr((struct sockaddr *)&ss, &ip))
        memset(&ip, 0, sizeof ip);
    st_ip_format(&ip, who, sizeof who);
    net_log(&s->logs.accept_error, ST_LOG_WARN,
            "cannot accept on %s: %s: closed the connection from %s at once (%llu shed so far; "
            "raise the open-file limit or set max.connections below it)",
            l->addr, strerror(err), who, (unsigned long long)s->stats.shed_no_fds);
    return s->reserve_fd >= 0 ? SHED_ONE : SHED_FAILED;
}

static void listener_io(st_loop *loop, int fd, uint32_t events, void *arg)
{
    listener *l = arg;
    /* A bounded number per turn: a connect storm must not hold the loop either. */
    for (int n = 0; n < ACCEPTS_PER_TURN; n++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd >= 0) {
            admit(l, cfd, (struct sockaddr *)&ss);
            continue;
        }
        int err = errno;
        if (err == EINTR || err == ECONNABORTED || err == EPROTO)
            continue;
        if (err == EAGAIN || err == EWOULDBLOCK)
            return;
        if (err == EMFILE || err == ENFILE) {
            int shed = shed_one(l, err);
            if (shed == SHED_ONE)
                continue;
            if (shed == SHED_EMPTY)
                return;
        }
        /* Out of memory, or the reserve fd is gone too: the pending connection stays
         * queued, so a level-triggered listener would spin; pause it instead. */
        net_log(&l->s->logs.accept_error, ST_LOG_WARN,
                "cannot accept on %s: %s (retrying in %d ms)", l->addr, strerror(err),
                ACCEPT_RETRY_MS);
        st_loop_unwatch(loop, fd);
        l->watched = false;
        st_timer_start(loop, &l->retry, ACCEPT_RETRY_MS);
        return;
    }
}

void st_server_limits_init(st_server_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    lim->max_request_bytes = 104857600;
    lim->max_unauth_request_bytes = SIZE_MAX;
    lim->queued_max_request_bytes = SIZE_MAX;
    lim->idle_ms = 0;
    lim->auth_timeout_ms = 0;
    lim->max_connections = UINT32_MAX;
    lim->max_connections_per_ip = UINT32_MAX;
}

st_server *st_server_new(st_loop *loop, const st_server_callbacks *cb, void *ctx,
                         const st_server_limits *limits)
{
    st_server *s = st_conn__xalloc(NULL, sizeof *s);
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->cb = *cb;
    s->ctx = ctx;
    s->lim = *limits;
    if (s->lim.max_unauth_request_bytes > s->lim.max_request_bytes)
        s->lim.max_unauth_request_bytes = s->lim.max_request_bytes;
    if (limits->nip_overrides) {
        size_t bytes = limits->nip_overrides * sizeof *s->overrides;
        s->overrides = st_conn__xalloc(NULL, bytes);
        memcpy(s->overrides, limits->ip_overrides, bytes);
    }
    s->lim.ip_overrides = s->overrides;
    size_t budget = s->lim.queued_max_request_bytes;
    s->budget[BUDGET_AUTHENTICATED].limit = budget;
    s->budget[BUDGET_UNAUTHENTICATED].limit =
        budget == SIZE_MAX ? SIZE_MAX : budget / UNAUTH_BUDGET_DIVISOR;
    s->per_ip = st_ip_counts_new();
    s->deferred_timer.cb = st_conn__deferred_timer_cb;
    /* Kept for shedding on EMFILE (see the header); -1 just means no shedding. */
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    net_log_limits logs = {
        .accept_error = ST_RATELOG_INIT(NET_LOG_INTERVAL_MS),
        .refused = ST_RATELOG_INIT(NET_LOG_INTERVAL_MS),
        .idle = ST_RATELOG_INIT(NET_LOG_INTERVAL_MS),
        .auth_timeout = ST_RATELOG_INIT(NET_LOG_INTERVAL_MS),
        .unauth_frame = ST_RATELOG_INIT(NET_LOG_INTERVAL_MS),
        .budget = ST_RATELOG_INIT(NET_LOG_INTERVAL_MS),
    };
    s->logs = logs;
    return s;
}

void st_server_get_stats(const st_server *s, st_server_stats *out)
{
    *out = s->stats;
    out->queued_bytes = s->queued_bytes;
    out->queued_unauth_bytes = s->budget[BUDGET_UNAUTHENTICATED].bytes;
}

/* Binds and listens on one resolved address. Returns the fd or -1 with errno. */
static int listen_on(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1;
    /* Restarting the broker must not wait for TIME_WAIT sockets of the old one. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int st_server_listen(st_server *s, const char *host, int port, char *err, size_t errlen)
{
    return st_server_listen_ex(s, host, port, 0, NULL, false, err, errlen);
}

int st_server_listen_ex(st_server *s, const char *host, int port, int tag, st_tls_ctx *tls,
                        bool authenticate, char *err, size_t errlen)
{
    const char *shown = host && *host ? host : "0.0.0.0";
    bool v6 = strchr(shown, ':') != NULL;
    char addr[80];
    snprintf(addr, sizeof addr, v6 ? "[%s]:%d" : "%s:%d", shown, port);
    if (port < 0 || port > 65535) {
        snprintf(err, errlen, "cannot listen on %s: port must be 0..65535", addr);
        return -1;
    }
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host && *host ? host : NULL, portstr, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr,
                 gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
        return -1;
    }
    int fd = -1, saved = EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = listen_on(ai);
        if (fd < 0)
            saved = errno;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(saved));
        return -1;
    }

    listener *l = st_conn__xalloc(NULL, sizeof *l);
    memset(l, 0, sizeof *l);
    l->s = s;
    l->fd = fd;
    l->retry.cb = listener_retry_cb;
    l->tag = tag;
    l->tls = tls;
    l->authenticate = authenticate;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    else
        l->port = port;
    snprintf(l->addr, sizeof l->addr, v6 ? "[%s]:%d" : "%s:%d", shown, l->port);
    if (st_loop_watch(s->loop, fd, EPOLLIN, listener_io, l) < 0) {
        snprintf(err, errlen, "cannot listen on %s: epoll: %s", addr, strerror(errno));
        close(fd);
        free(l);
        return -1;
    }
    l->watched = true;
    s->listeners = st_conn__xalloc(s->listeners, (s->nlisteners + 1) * sizeof *s->listeners);
    s->listeners[s->nlisteners++] = l;
    st_info("listening on %s", l->addr);
    return 0;
}

int st_server_port(const st_server *s)
{
    return s->nlisteners ? s->listeners[0]->port : -1;
}

int st_server_listener_port(const st_server *s, size_t i)
{
    return i < s->nlisteners ? s->listeners[i]->port : -1;
}

size_t st_server_conn_count(const st_server *s)
{
    return s->nconns;
}

void st_server_free(st_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nlisteners; i++) {
        listener *l = s->listeners[i];
        if (l->watched)
            st_loop_unwatch(s->loop, l->fd);
        st_timer_stop(s->loop, &l->retry);
        close(l->fd);
        free(l);
    }
    free(s->listeners);
    while (s->conns)
        st_conn__close_at(s->conns, ST_LOG_DEBUG, "server shutting down");
    st_timer_stop(s->loop, &s->deferred_timer);
    st_ip_counts_free(s->per_ip);
    free(s->overrides);
    if (s->reserve_fd >= 0)
        close(s->reserve_fd);
    free(s->spare_rbuf);
    free(s);
}
