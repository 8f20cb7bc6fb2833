/*
 * netproxy: a small TCP proxy for tests. It stands between clients and a broker (straitd
 * --advertised-port makes clients come back through it) and can make the link worse on
 * command: a one-way delay per direction, a bandwidth cap per direction, and connection
 * failures (drop every connection, or cut the link entirely until restored). Later it
 * simulates the WAN link between two datacenters.
 *
 *   netproxy --listen 127.0.0.1:PORT --target HOST:PORT [--delay-ms N] [--rate BYTES_PER_SEC]
 *            [--buffer-bytes N] [--ready-file PATH] [--control PATH]
 *   netproxy --control PATH --send "COMMAND"     (a client for the control socket)
 *
 * Control commands, one per line, each answered "ok ..." or "error ..." on a unix socket
 * (a FIFO at PATH is read too, without answers):
 *   cut        close every connection and refuse new ones (the listener is closed)
 *   drop       close every current connection, keep accepting
 *   blackhole  the link stops carrying anything: connections stay open but nothing is read
 *              or written, new ones are accepted and get nothing either — what a lost
 *              datacenter looks like from outside (no reset, no answer, until the
 *              client's own timeouts); restore ends it
 *   restore    accept again after a cut; forward again after a blackhole
 *   delay N    one-way delay in ms for data received from now on, both directions
 *   rate N     bytes per second per direction (0: unlimited)
 *   target H:P new connections go to H:P (a test starts the proxy before the broker
 *              whose port it forwards to, so the broker can advertise the proxy's port)
 *   stats      "ok connections C accepted A up U down D" (bytes delivered each way)
 *   fail-produce ERR [N]  the next N (1) Produce responses say ERR for their first
 *              partition, whatever the broker answered (netproxy_kafka.c)
 *
 * Single-threaded epoll. Each direction of a connection is a queue of chunks stamped with
 * the time they may leave (arrival + delay); a token bucket paces them to the rate. A
 * queue holds at most --buffer-bytes (default 4 MiB): when full, the proxy stops reading
 * that side, so TCP flow control pushes back on the sender instead of memory growing.
 * Listens on loopback only; SIGTERM or SIGINT exits (status 0) after closing everything.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "netproxy.h"

void np_die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "netproxy: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A side that waits for nothing leaves the epoll set: EPOLLHUP and EPOLLERR are reported
 * whatever the mask, and a hung-up side whose queue is full would otherwise wake the
 * loop again and again until the queue drains. */
static void ep_set(proxy *p, endpoint *e, uint32_t events)
{
    if (e->fd < 0)
        return;
    if (events == 0) {
        if (e->registered && epoll_ctl(p->epfd, EPOLL_CTL_DEL, e->fd, NULL) != 0)
            np_die("epoll_ctl DEL fd %d: %s", e->fd, strerror(errno));
        e->registered = false;
        e->events = 0;
        return;
    }
    if (!e->registered) {
        np_ep_add(p, e, events);
        return;
    }
    if (e->events == events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = e};
    if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, e->fd, &ev) != 0)
        np_die("epoll_ctl MOD fd %d: %s", e->fd, strerror(errno));
    e->events = events;
}

void np_ep_add(proxy *p, endpoint *e, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = e};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, e->fd, &ev) != 0)
        np_die("epoll_ctl ADD fd %d: %s", e->fd, strerror(errno));
    e->events = events;
    e->registered = true;
}

/* Parses "HOST:PORT" into host (borrowed buffer) and port; false if malformed. */
static bool split_host_port(const char *s, char *host, size_t hostlen, long *port)
{
    const char *colon = strrchr(s, ':');
    char *end;
    if (!colon || (size_t)(colon - s) >= hostlen || colon == s)
        return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = strtol(colon + 1, &end, 10);
    return *end == '\0' && colon[1] != '\0' && *port >= 0 && *port <= 65535;
}

int np_listen(proxy *p, char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    socklen_t len = sizeof(p->listen_addr);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&p->listen_addr, sizeof(p->listen_addr)) != 0 ||
        listen(fd, 128) != 0 || getsockname(fd, (struct sockaddr *)&p->listen_addr, &len) != 0) {
        snprintf(err, errlen, "listen on 127.0.0.1:%d: %s", ntohs(p->listen_addr.sin_port),
                 strerror(errno));
        close(fd);
        return -1;
    }
    p->listener.kind = EP_LISTEN;
    p->listener.fd = fd;
    np_ep_add(p, &p->listener, EPOLLIN);
    return 0;
}

static void chunk_queue_free(direction *d)
{
    while (d->head) {
        chunk *c = d->head;
        d->head = c->next;
        free(c);
    }
    d->tail = NULL;
    d->queued = 0;
}

/* Closes both sides (the kernel removes them from epoll) and frees the queues; the
 * struct itself is freed by reap() after the current batch of events, which may still
 * point at it. */
static void conn_kill(proxy *p, conn *c)
{
    if (c->dead)
        return;
    for (int i = 0; i < 2; i++) {
        if (c->side[i].fd >= 0)
            close(c->side[i].fd);
        c->side[i].fd = -1;
        chunk_queue_free(&c->dir[i]);
    }
    c->dead = true;
}

static void reap(proxy *p)
{
    conn *c = p->conns;
    while (c) {
        conn *next = c->next;
        if (c->dead) {
            if (c->prev)
                c->prev->next = c->next;
            else
                p->conns = c->next;
            if (c->next)
                c->next->prev = c->prev;
            p->nconns--;
            free(c);
        }
        c = next;
    }
}

int np_kill_all(proxy *p)
{
    int n = 0;
    for (conn *c = p->conns; c; c = c->next) {
        if (!c->dead) {
            conn_kill(p, c);
            n++;
        }
    }
    return n;
}

static void on_accept(proxy *p)
{
    for (;;) {
        int fd = accept4(p->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                fprintf(stderr, "netproxy: accept: %s\n", strerror(errno));
            return;
        }
        int tfd = socket(p->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (tfd < 0) {
            fprintf(stderr, "netproxy: socket: %s\n", strerror(errno));
            close(fd);
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(tfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        int rc = connect(tfd, (struct sockaddr *)&p->target, p->target_len);
        if (rc != 0 && errno != EINPROGRESS) {
            fprintf(stderr, "netproxy: connect to the target: %s\n", strerror(errno));
            close(fd);
            close(tfd);
            continue;
        }
        conn *c = calloc(1, sizeof(*c));
        if (!c)
            np_die("out of memory");
        int64_t now = now_ms();
        for (int i = 0; i < 2; i++) {
            c->side[i].kind = EP_SIDE;
            c->side[i].conn = c;
            c->side[i].side = i;
            c->dir[i].refill_ms = now;
            c->dir[i].tokens = 0;
        }
        c->side[0].fd = fd;
        c->side[1].fd = tfd;
        c->connecting = rc != 0;
        np_ep_add(p, &c->side[0], EPOLLIN);
        np_ep_add(p, &c->side[1], c->connecting ? EPOLLOUT : EPOLLIN);
        c->next = p->conns;
        if (p->conns)
            p->conns->prev = c;
        p->conns = c;
        p->nconns++;
        p->accepted++;
    }
}

/* Reads what side `from` has into dir[from]'s queue, up to the buffer bound. */
static void side_read(proxy *p, conn *c, int from)
{
    direction *d = &c->dir[from];
    uint8_t buf[READ_CHUNK];
    while (!d->eof && d->queued + CHUNK_OVERHEAD < p->buffer_bytes) {
        size_t room = p->buffer_bytes - d->queued - CHUNK_OVERHEAD;
        ssize_t n = read(c->side[from].fd, buf, room < sizeof(buf) ? room : sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            conn_kill(p, c); /* a reset: pass it on by closing the other side too */
            return;
        }
        if (n == 0) {
            d->eof = true;
            return;
        }
        chunk *ch = malloc(sizeof(*ch) + (size_t)n);
        if (!ch)
            np_die("out of memory");
        ch->next = NULL;
        ch->due_ms = now_ms() + p->delay_ms;
        ch->len = (size_t)n;
        ch->off = 0;
        memcpy(ch->data, buf, (size_t)n);
        np_kafka_scan(p, c, from, ch->data, ch->len);
        if (d->tail)
            d->tail->next = ch;
        else
            d->head = ch;
        d->tail = ch;
        d->queued += (size_t)n + CHUNK_OVERHEAD;
    }
}

/* Writes the due part of dir[from] to the other side, as the rate allows. Returns the
 * time at which it wants to run again (INT64_MAX: only when an event comes). */
static int64_t dir_pump(proxy *p, conn *c, int from, int64_t now)
{
    direction *d = &c->dir[from];
    int to = 1 - from;
    if (c->connecting || d->blocked || p->blackhole)
        return INT64_MAX;
    if (p->rate > 0) {
        /* a burst of at most 50 ms of rate (and at least one chunk's worth of 1 KiB),
         * so the measured rate holds over short windows too */
        double cap = (double)p->rate / 20.0;
        if (cap < 1024)
            cap = 1024;
        d->tokens += (double)(now - d->refill_ms) * (double)p->rate / 1000.0;
        if (d->tokens > cap)
            d->tokens = cap;
    }
    d->refill_ms = now;
    while (d->head) {
        chunk *ch = d->head;
        if (ch->due_ms > now)
            return ch->due_ms;
        size_t want = ch->len - ch->off;
        if (p->rate > 0) {
            if (d->tokens < 1.0)
                return now + 1 + (int64_t)((1.0 - d->tokens) * 1000.0 / (double)p->rate);
            if ((double)want > d->tokens)
                want = (size_t)d->tokens;
        }
        ssize_t n = write(c->side[to].fd, ch->data + ch->off, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            d->blocked = true;
            return INT64_MAX;
        }
        if (n < 0) {
            conn_kill(p, c);
            return INT64_MAX;
        }
        ch->off += (size_t)n;
        d->delivered += (uint64_t)n;
        p->delivered[from] += (uint64_t)n;
        if (p->rate > 0)
            d->tokens -= (double)n;
        if (ch->off == ch->len) {
            d->head = ch->next;
            if (!d->head)
                d->tail = NULL;
            d->queued -= ch->len + CHUNK_OVERHEAD;
            free(ch);
        }
    }
    if (d->eof && !d->shut) {
        shutdown(c->side[to].fd, SHUT_WR);
        d->shut = true;
    }
    return INT64_MAX;
}

/* Runs both directions, closes a connection whose both directions are finished, and
 * registers what each side now waits for. Returns the next timer deadline. */
static int64_t conn_pump(proxy *p, conn *c, int64_t now)
{
    int64_t next = INT64_MAX;
    for (int from = 0; from < 2 && !c->dead; from++) {
        int64_t t = dir_pump(p, c, from, now);
        if (t < next)
            next = t;
    }
    if (c->dead)
        return INT64_MAX;
    if (c->dir[0].shut && c->dir[1].shut) {
        conn_kill(p, c);
        return INT64_MAX;
    }
    for (int s = 0; s < 2; s++) {
        uint32_t ev = 0;
        direction *in = &c->dir[s], *out = &c->dir[1 - s];
        bool can_read = !(s == 1 && c->connecting) && !p->blackhole;
        if (can_read && !in->eof && in->queued + CHUNK_OVERHEAD < p->buffer_bytes)
            ev |= EPOLLIN;
        if ((s == 1 && c->connecting) || out->blocked)
            ev |= EPOLLOUT;
        ep_set(p, &c->side[s], ev);
    }
    return next;
}

static void on_side(proxy *p, endpoint *e, uint32_t events)
{
    conn *c = e->conn;
    if (c->dead)
        return;
    if (e->side == 1 && c->connecting) {
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr != 0) {
            fprintf(stderr, "netproxy: connect to the target: %s\n", strerror(soerr));
            conn_kill(p, c);
            return;
        }
        c->connecting = false;
        return;
    }
    if (events & EPOLLERR) {
        conn_kill(p, c); /* a reset or a failed write: the other side learns by a close */
        return;
    }
    if (events & EPOLLOUT)
        c->dir[1 - e->side].blocked = false;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        side_read(p, c, e->side);
}

/* Where new connections go; connections already open keep their target. */

int np_resolve_target(proxy *p, const char *arg, char *err, size_t errlen)
{
    char host[256];
    long port;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    char portstr[16];
    if (!split_host_port(arg, host, sizeof(host), &port) || port == 0) {
        snprintf(err, errlen, "target wants HOST:PORT with a port in 1..65535, not \"%s\"", arg);
        return -1;
    }
    snprintf(portstr, sizeof(portstr), "%ld", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "target %s: %s", arg, gai_strerror(rc));
        return -1;
    }
    memcpy(&p->target, res->ai_addr, res->ai_addrlen);
    p->target_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void write_ready_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        np_die("--ready-file %s: %s", path, strerror(errno));
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: netproxy --listen 127.0.0.1:PORT --target HOST:PORT [--delay-ms N]\n"
            "                [--rate BYTES_PER_SEC] [--buffer-bytes N] [--ready-file PATH]\n"
            "                [--control PATH]\n"
            "       netproxy --control PATH --send COMMAND\n"
            "  --listen        where to accept clients; loopback only, port 0 picks a free one\n"
            "  --target        where to forward every connection\n"
            "  --delay-ms      one-way delay added in each direction [0]\n"
            "  --rate          bytes per second in each direction, 0 unlimited [0]\n"
            "  --buffer-bytes  bytes queued per direction before reading stops [4194304]\n"
            "  --ready-file    written with the bound port once accepting\n"
            "  --control       a unix socket (created) or an existing FIFO for commands:\n"
            "                  cut, drop, restore, delay MS, rate BYTES_PER_SEC,\n"
            "                  target HOST:PORT, stats\n");
}

static void parse_listen(proxy *p, const char *arg)
{
    char host[64];
    long port;
    if (!split_host_port(arg, host, sizeof(host), &port))
        np_die("--listen wants 127.0.0.1:PORT, not \"%s\"", arg);
    p->listen_addr.sin_family = AF_INET;
    p->listen_addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &p->listen_addr.sin_addr) != 1 ||
        (ntohl(p->listen_addr.sin_addr.s_addr) >> 24) != 127)
        np_die("--listen %s: netproxy listens on a loopback address (127.x.x.x) only", arg);
}

static int64_t parse_option_count(const char *name, const char *arg)
{
    int64_t v;
    if (!np_parse_count(arg, &v))
        np_die("--%s wants a non-negative integer, not \"%s\"", name, arg);
    return v;
}

int main(int argc, char **argv)
{
    proxy p = {.listener = {.fd = -1}, .control_listener = {.fd = -1}, .buffer_bytes = 4 << 20};
    const char *listen_arg = NULL, *target_arg = NULL, *ready = NULL, *control = NULL, *send = NULL;
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"target", required_argument, NULL, 't'},
                                         {"delay-ms", required_argument, NULL, 'd'},
                                         {"rate", required_argument, NULL, 'r'},
                                         {"ready-file", required_argument, NULL, 'f'},
                                         {"control", required_argument, NULL, 'c'},
                                         {"buffer-bytes", required_argument, NULL, 'b'},
                                         {"send", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            listen_arg = optarg;
            break;
        case 't':
            target_arg = optarg;
            break;
        case 'd':
            p.delay_ms = parse_option_count("delay-ms", optarg);
            break;
        case 'r':
            p.rate = parse_option_count("rate", optarg);
            break;
        case 'b':
            p.buffer_bytes = (size_t)parse_option_count("buffer-bytes", optarg);
            if (p.buffer_bytes < 4096)
                np_die("--buffer-bytes must be at least 4096, not %zu", p.buffer_bytes);
            break;
        case 'f':
            ready = optarg;
            break;
        case 'c':
            control = optarg;
            break;
        case 's':
            send = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "netproxy: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (send) {
        if (!control)
            np_die("--send needs --control PATH");
        return np_send_command(control, send);
    }
    if (!listen_arg || !target_arg) {
        fprintf(stderr, "netproxy: --listen and --target are required\n");
        usage(stderr);
        return 2;
    }
    parse_listen(&p, listen_arg);
    char err[256];
    if (np_resolve_target(&p, target_arg, err, sizeof(err)) != 0)
        np_die("--%s", err);
    signal(SIGPIPE, SIG_IGN);

    p.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p.epfd < 0)
        np_die("epoll_create1: %s", strerror(errno));
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    p.signals.kind = EP_SIGNAL;
    p.signals.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (p.signals.fd < 0)
        np_die("signalfd: %s", strerror(errno));
    np_ep_add(&p, &p.signals, EPOLLIN);

    if (np_listen(&p, err, sizeof(err)) != 0)
        np_die("%s", err);
    if (control)
        np_control_open(&p, control);
    if (ready)
        write_ready_file(ready, ntohs(p.listen_addr.sin_port));
    fprintf(stderr, "netproxy: 127.0.0.1:%d → %s (delay %lld ms, rate %lld B/s)\n",
            ntohs(p.listen_addr.sin_port), target_arg, (long long)p.delay_ms, (long long)p.rate);

    int64_t next_timer = INT64_MAX;
    while (!p.stopping) {
        int64_t now = now_ms();
        int timeout = -1;
        if (next_timer != INT64_MAX)
            timeout = next_timer <= now ? 0 : (int)(next_timer - now);
        struct epoll_event evs[MAX_EVENTS];
        int n = epoll_wait(p.epfd, evs, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR)
            np_die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            endpoint *e = evs[i].data.ptr;
            switch (e->kind) {
            case EP_LISTEN:
                if (e->fd >= 0)
                    on_accept(&p);
                break;
            case EP_SIGNAL:
                p.stopping = true;
                break;
            case EP_CONTROL_LISTEN:
                np_on_control_accept(&p);
                break;
            case EP_CONTROL:
                np_on_control(&p, e);
                break;
            case EP_SIDE:
                on_side(&p, e, evs[i].events);
                break;
            }
        }
        now = now_ms();
        next_timer = INT64_MAX;
        for (conn *c = p.conns; c; c = c->next) {
            int64_t t = conn_pump(&p, c, now);
            if (t < next_timer)
                next_timer = t;
        }
        reap(&p);
    }

    np_kill_all(&p);
    reap(&p);
    np_control_close_all(&p);
    fprintf(stderr, "netproxy: stopped\n");
    return 0;
}
