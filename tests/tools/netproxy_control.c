/*
 * netproxy's control channel: a unix socket (or a FIFO) taking one command a line
 * (cut, drop, blackhole, restore, delay, rate, target, stats; see netproxy.c) and answering each
 * with one "ok ..." or "error ..." line, plus the --send client for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "netproxy.h"

static void control_reply(endpoint *cc, const char *fmt, ...)
{
    char out[256];
    va_list ap;
    if (cc->kind != EP_CONTROL || cc->fd < 0 || cc->is_fifo)
        return; /* an answer written into the FIFO would be read back as a command */
    va_start(ap, fmt);
    int n = vsnprintf(out, sizeof(out) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(out) - 2)
        n = (int)sizeof(out) - 2;
    out[n++] = '\n';
    /* A reply is short and the client waits for it: a short write would only happen to a
     * client that stopped reading, which then loses its answer. */
    if (write(cc->fd, out, (size_t)n) < 0 && errno != EAGAIN)
        fprintf(stderr, "netproxy: control reply: %s\n", strerror(errno));
}

bool np_parse_count(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || x < 0)
        return false;
    *v = x;
    return true;
}

static void control_command(proxy *p, endpoint *cc, char *line)
{
    char err[256];
    int64_t v;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (n == 0)
        return;
    if (strcmp(line, "cut") == 0) {
        int killed = np_kill_all(p);
        if (p->listener.fd >= 0) {
            close(p->listener.fd);
            p->listener.fd = -1;
        }
        fprintf(stderr, "netproxy: cut: closed %d connections, refusing new ones\n", killed);
        control_reply(cc, "ok cut closed %d", killed);
    } else if (strcmp(line, "drop") == 0) {
        int killed = np_kill_all(p);
        fprintf(stderr, "netproxy: drop: closed %d connections\n", killed);
        control_reply(cc, "ok drop closed %d", killed);
    } else if (strcmp(line, "blackhole") == 0) {
        p->blackhole = true;
        fprintf(stderr, "netproxy: blackhole: %d connections held silent\n", p->nconns);
        control_reply(cc, "ok blackhole holding %d", p->nconns);
    } else if (strcmp(line, "restore") == 0) {
        p->blackhole = false;
        if (p->listener.fd < 0 && np_listen(p, err, sizeof(err)) != 0) {
            fprintf(stderr, "netproxy: restore: %s\n", err);
            control_reply(cc, "error restore: %s", err);
            return;
        }
        fprintf(stderr, "netproxy: restore: accepting on port %d\n",
                ntohs(p->listen_addr.sin_port));
        control_reply(cc, "ok restore");
    } else if (strncmp(line, "delay ", 6) == 0 && np_parse_count(line + 6, &v)) {
        p->delay_ms = v;
        control_reply(cc, "ok delay %lld", (long long)v);
    } else if (strncmp(line, "rate ", 5) == 0 && np_parse_count(line + 5, &v)) {
        p->rate = v;
        control_reply(cc, "ok rate %lld", (long long)v);
    } else if (strncmp(line, "target ", 7) == 0) {
        if (np_resolve_target(p, line + 7, err, sizeof(err)) != 0) {
            control_reply(cc, "error %s", err);
            return;
        }
        fprintf(stderr, "netproxy: new connections go to %s\n", line + 7);
        control_reply(cc, "ok target %s", line + 7);
    } else if (strncmp(line, "fail-produce ", 13) == 0) {
        char code[16] = "", count[24] = "1";
        int64_t ecode = 0, times = 1;
        if (sscanf(line + 13, "%15s %23s", code, count) < 1 || !np_parse_count(code, &ecode) ||
            ecode > 32767 || !np_parse_count(count, &times)) {
            control_reply(cc, "error fail-produce wants an error code (0..32767) and a count");
            return;
        }
        p->fail_code = (int)ecode;
        p->fail_left = times;
        fprintf(stderr, "netproxy: fail-produce: the next %lld Produce response(s) say error %d\n",
                (long long)times, (int)ecode);
        control_reply(cc, "ok fail-produce %d %lld", (int)ecode, (long long)times);
    } else if (strcmp(line, "stats") == 0) {
        control_reply(cc, "ok connections %d accepted %llu up %llu down %llu", p->nconns,
                      (unsigned long long)p->accepted, (unsigned long long)p->delivered[0],
                      (unsigned long long)p->delivered[1]);
    } else {
        fprintf(stderr, "netproxy: unknown control command \"%s\"\n", line);
        control_reply(cc,
                      "error unknown command \"%s\" (cut, drop, blackhole, restore, delay MS, rate "
                      "BYTES_PER_SEC, target HOST:PORT, fail-produce ERR [N], stats)",
                      line);
    }
}

static void control_close(proxy *p, endpoint *cc)
{
    endpoint **pp = &p->control_clients;
    while (*pp && *pp != cc)
        pp = &(*pp)->next_cc;
    if (*pp)
        *pp = cc->next_cc;
    close(cc->fd);
    free(cc);
}

/* Reads command lines from a control client (or the FIFO). */
void np_on_control(proxy *p, endpoint *cc)
{
    for (;;) {
        char buf[512];
        ssize_t n = read(cc->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            if (cc != &p->control_listener)
                control_close(p, cc);
            return;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                cc->line[cc->line_len] = '\0';
                control_command(p, cc, cc->line);
                cc->line_len = 0;
            } else if (cc->line_len < sizeof(cc->line) - 1) {
                cc->line[cc->line_len++] = buf[i];
            }
        }
    }
}

void np_on_control_accept(proxy *p)
{
    for (;;) {
        int fd = accept4(p->control_listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        endpoint *cc = calloc(1, sizeof(*cc));
        if (!cc)
            np_die("out of memory");
        cc->kind = EP_CONTROL;
        cc->fd = fd;
        cc->next_cc = p->control_clients;
        p->control_clients = cc;
        np_ep_add(p, cc, EPOLLIN);
    }
}

void np_control_open(proxy *p, const char *path)
{
    struct stat st;
    if (strlen(path) >= sizeof(p->control_path))
        np_die("--control %s: path too long for a unix socket", path);
    snprintf(p->control_path, sizeof(p->control_path), "%s", path);
    if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode)) {
        /* O_RDWR keeps a writer open ourselves, so the FIFO never reads EOF */
        int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            np_die("--control %s: open FIFO: %s", path, strerror(errno));
        p->control_listener.kind = EP_CONTROL;
        p->control_listener.is_fifo = true;
        p->control_listener.fd = fd;
        np_ep_add(p, &p->control_listener, EPOLLIN);
        return;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* a stale socket of an earlier run */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 16) != 0)
        np_die("--control %s: %s", path, strerror(errno));
    p->control_is_socket = true;
    p->control_listener.kind = EP_CONTROL_LISTEN;
    p->control_listener.fd = fd;
    np_ep_add(p, &p->control_listener, EPOLLIN);
}

/* netproxy --control PATH --send CMD: one command, prints the answer, exit 0 on "ok". */
int np_send_command(const char *path, const char *cmd)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    char answer[512];
    size_t got = 0;
    if (strlen(path) >= sizeof(addr.sun_path))
        np_die("--control %s: path too long for a unix socket", path);
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        np_die("cannot reach the control socket %s: %s", path, strerror(errno));
    if (dprintf(fd, "%s\n", cmd) < 0)
        np_die("write to %s: %s", path, strerror(errno));
    while (got < sizeof(answer) - 1) {
        ssize_t n = read(fd, answer + got, sizeof(answer) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (memchr(answer, '\n', got))
            break;
    }
    close(fd);
    answer[got] = '\0';
    if (got == 0)
        np_die("no answer to \"%s\" from %s", cmd, path);
    fputs(answer, stdout);
    return strncmp(answer, "ok", 2) == 0 ? 0 : 1;
}

/* Closes every control client and removes the socket file (at exit). */
void np_control_close_all(proxy *p)
{
    while (p->control_clients)
        control_close(p, p->control_clients);
    if (p->control_is_socket)
        unlink(p->control_path);
}
