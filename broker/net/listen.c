/*
 * Listeners: bind, listen and accept for the connection layer (conn.h). Each listener
 * carries a tag (the security protocol, for the layer above) and, for SASL_SSL, a TLS
 * context that every connection it accepts speaks.
 */
#include <arpa/inet.h>
#include <errno.h>
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

static void listener_io(st_loop *loop, int fd, uint32_t events, void *arg)
{
    listener *l = arg;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd >= 0) {
            st_conn__new(l, cfd, (struct sockaddr *)&ss);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        /* Out of fds or memory: the pending connection stays queued, so a
         * level-triggered listener would spin; pause it instead. */
        st_warn("cannot accept on %s: %s (retrying in %d ms)", l->addr, strerror(errno),
                ACCEPT_RETRY_MS);
        st_loop_unwatch(loop, fd);
        l->watched = false;
        st_timer_start(loop, &l->retry, ACCEPT_RETRY_MS);
        return;
    }
}

st_server *st_server_new(st_loop *loop, const st_server_callbacks *cb, void *ctx,
                         size_t max_request_bytes)
{
    st_server *s = st_conn__xalloc(NULL, sizeof *s);
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->cb = *cb;
    s->ctx = ctx;
    s->max_request_bytes = max_request_bytes;
    return s;
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
    return st_server_listen_ex(s, host, port, 0, NULL, err, errlen);
}

int st_server_listen_ex(st_server *s, const char *host, int port, int tag, st_tls_ctx *tls,
                        char *err, size_t errlen)
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
    free(s);
}
