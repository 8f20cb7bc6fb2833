/*
 * raw_auth_flood: the hostile side of test_auth_flood.sh — wrong SASL PLAIN logins by the
 * hundred, from a chosen 127.0.0.x source address, bounded in rate, time and open sockets.
 *
 *   raw_auth_flood flood PORT SRC RATE SECONDS USER MODE
 *       RATE logins a second for at most SECONDS (or until SIGTERM), each on a new
 *       connection from SRC: SaslHandshake v1 PLAIN and SaslAuthenticate v1 for USER with
 *       a fresh random password, sent together. MODE linger: wait up to 200 ms for the
 *       answer, then reset the connection (a client that gives up); MODE hangup: close
 *       right after sending (the broker finds the client gone while it checks the
 *       password). At most 512 sockets are open at once. Prints "progress attempts=N"
 *       every second, and at the end "flood SRC attempts=N ok=N failed=N closed=N
 *       gave_up=N hung_up=N errors=N skipped=N seconds=S rate=R".
 *   raw_auth_flood timing PORT KNOWN_USER UNKNOWN_USER N FIRST_OCTET
 *       N wrong-password logins as KNOWN_USER and N as UNKNOWN_USER, alternating, each
 *       with a fresh random password from its own source address 127.0.0.<FIRST_OCTET+i>
 *       (so every one meets the first, undoubled failed-login delay); times
 *       SaslAuthenticate → its answer. Prints every sample and "timing known median=…
 *       unknown median=… diff=D ms …", D the median of the differences within each
 *       (known, unknown) pair; exits 1 unless every answer was SASL_AUTHENTICATION_FAILED
 *       (58) with the same message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "tests/integration/raw_util.h"
#pragma GCC diagnostic pop

#define API_SASL_HANDSHAKE    17
#define API_SASL_AUTHENTICATE 36
#define ERR_SASL_AUTH_FAILED  58
#define MAX_OPEN              512
#define LINGER_MS             200
#define MAX_SECONDS           60
#define MAX_RATE              2000

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    stopping = 1;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* 16 random lowercase letters: a password nobody has guessed before. */
static void random_password(char *out)
{
    for (int i = 0; i < 16; i++)
        out[i] = (char)('a' + rand() % 26);
    out[16] = '\0';
}

/* SaslHandshake v1 "PLAIN" (correlation id 1) and SaslAuthenticate v1 (2), back to back. */
static void build_login(wbuf *b, const char *user, const char *password)
{
    b->len = 0;
    put_i32(b, 0);
    put_i16(b, API_SASL_HANDSHAKE);
    put_i16(b, 1);
    put_i32(b, 1);
    put_string(b, "raw_auth_flood");
    put_string(b, "PLAIN");
    patch_i32(b, 0, (int32_t)(b->len - 4));
    size_t second = b->len;
    put_i32(b, 0);
    put_i16(b, API_SASL_AUTHENTICATE);
    put_i16(b, 1);
    put_i32(b, 2);
    put_string(b, "raw_auth_flood");
    size_t ul = strlen(user), pl = strlen(password);
    put_i32(b, (int32_t)(1 + ul + 1 + pl));
    put_i8(b, 0);
    put(b, user, ul);
    put_i8(b, 0);
    put(b, password, pl);
    patch_i32(b, second, (int32_t)(b->len - second - 4));
}

/* A socket from src (port chosen by the kernel), connecting to 127.0.0.1:port; -1 on a
 * local error (errno). */
static int open_from(const char *src, int port, bool nonblocking)
{
    int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in local = {.sin_family = AF_INET};
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (inet_pton(AF_INET, src, &local.sin_addr) != 1)
        fail("source address \"%s\" is not an IPv4 address", src);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0 ||
        (connect(fd, (struct sockaddr *)&peer, sizeof peer) != 0 && errno != EINPROGRESS)) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static void reset_close(int fd)
{
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

/* ---- flood ---- */

typedef struct attempt {
    int fd;         /* -1: free */
    bool sent;      /* the login went out */
    int64_t due_us; /* linger deadline once sent */
    uint8_t in[512];
    size_t have;
} attempt;

typedef struct counts {
    long attempts, ok, failed, closed, gave_up, hung_up, errors, skipped;
} counts;

/* Looks at what came back: returns true when the SaslAuthenticate answer is in (counted). */
static bool parse_answers(attempt *a, counts *c)
{
    size_t at = 0;
    while (a->have - at >= 4) {
        uint32_t n = (uint32_t)a->in[at] << 24 | (uint32_t)a->in[at + 1] << 16 |
                     (uint32_t)a->in[at + 2] << 8 | a->in[at + 3];
        if (n < 6 || n > sizeof a->in - 4)
            fail("an answer of %u bytes: not Kafka framing", n);
        if (a->have - at - 4 < n)
            return false;
        const uint8_t *p = a->in + at + 4;
        int32_t corr =
            (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
        int16_t err = (int16_t)(p[4] << 8 | p[5]);
        if (corr == 2) {
            if (err == 0)
                c->ok++;
            else if (err == ERR_SASL_AUTH_FAILED)
                c->failed++;
            else
                c->errors++;
            return true;
        }
        at += 4 + n;
    }
    return false;
}

static void finish(int ep, attempt *a)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, a->fd, NULL);
    a->fd = -1;
}

static int cmd_flood(char **argv)
{
    int port = atoi(argv[0]);
    const char *src = argv[1];
    int rate = atoi(argv[2]), seconds = atoi(argv[3]);
    const char *user = argv[4], *mode = argv[5];
    bool hangup = strcmp(mode, "hangup") == 0;
    if (rate < 1 || rate > MAX_RATE || seconds < 1 || seconds > MAX_SECONDS ||
        (!hangup && strcmp(mode, "linger") != 0))
        fail("flood: RATE 1..%d, SECONDS 1..%d, MODE linger|hangup", MAX_RATE, MAX_SECONDS);
    srand((unsigned)(getpid() ^ now_us()));
    int ep = epoll_create1(0);
    static attempt slots[MAX_OPEN];
    for (int i = 0; i < MAX_OPEN; i++)
        slots[i].fd = -1;
    counts c = {0};
    int64_t t0 = now_us(), end = t0 + (int64_t)seconds * 1000000;
    int64_t next = t0, step = 1000000 / rate, report = t0 + 1000000;
    while (!stopping) {
        int64_t now = now_us();
        if (now >= end)
            break;
        if (now >= report) {
            printf("progress attempts=%ld\n", c.attempts);
            fflush(stdout);
            report += 1000000;
        }
        /* start what is due */
        while (next <= now) {
            next += step;
            c.attempts++;
            attempt *a = NULL;
            for (int i = 0; i < MAX_OPEN && !a; i++)
                if (slots[i].fd < 0)
                    a = &slots[i];
            if (!a) {
                c.skipped++;
                continue;
            }
            int fd = open_from(src, port, true);
            if (fd < 0) {
                c.errors++;
                continue;
            }
            *a = (attempt){.fd = fd};
            struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = a};
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        /* give up on answers that take too long */
        for (int i = 0; i < MAX_OPEN; i++) {
            attempt *a = &slots[i];
            if (a->fd >= 0 && a->sent && now >= a->due_us) {
                int fd = a->fd;
                finish(ep, a);
                reset_close(fd);
                c.gave_up++;
            }
        }
        int64_t wait_us = next - now_us();
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, wait_us > 1000 ? (int)(wait_us / 1000) : 1);
        for (int i = 0; i < n; i++) {
            attempt *a = evs[i].data.ptr;
            if (a->fd < 0)
                continue;
            int fd = a->fd;
            if (!a->sent && (evs[i].events & EPOLLOUT)) {
                int soerr = 0;
                socklen_t len = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
                wbuf b;
                char password[17];
                random_password(password);
                build_login(&b, user, password);
                if (soerr || write(fd, b.data, b.len) != (ssize_t)b.len) {
                    finish(ep, a);
                    close(fd);
                    c.errors++;
                    continue;
                }
                a->sent = true;
                a->due_us = now_us() + LINGER_MS * 1000;
                if (hangup) {
                    finish(ep, a);
                    close(fd); /* FIN after the data: the broker reads the login first */
                    c.hung_up++;
                    continue;
                }
                struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = a};
                epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
                continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                ssize_t r = read(fd, a->in + a->have, sizeof a->in - a->have);
                if (r > 0) {
                    a->have += (size_t)r;
                    if (parse_answers(a, &c)) {
                        finish(ep, a);
                        reset_close(fd);
                    }
                } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    finish(ep, a);
                    close(fd);
                    c.closed++;
                }
            }
        }
    }
    for (int i = 0; i < MAX_OPEN; i++)
        if (slots[i].fd >= 0)
            reset_close(slots[i].fd);
    double secs = (double)(now_us() - t0) / 1e6;
    printf("flood %s attempts=%ld ok=%ld failed=%ld closed=%ld gave_up=%ld hung_up=%ld "
           "errors=%ld skipped=%ld seconds=%.1f rate=%.0f\n",
           src, c.attempts, c.ok, c.failed, c.closed, c.gave_up, c.hung_up, c.errors, c.skipped,
           secs, (double)c.attempts / secs);
    return c.attempts > 0 ? 0 : 1;
}

/* ---- timing ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One wrong login as user from src: ms from sending SaslAuthenticate to its answer. */
static double timed_login(int port, const char *src, const char *user, char *msg, size_t cap)
{
    int fd = open_from(src, port, false);
    if (fd < 0)
        fail("connect from %s: %s", src, strerror(errno));
    struct timeval tv = {.tv_sec = 15};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    wbuf b;
    char password[17];
    random_password(password);
    build_login(&b, user, password);
    size_t second = 4 + (size_t)((uint32_t)b.data[0] << 24 | (uint32_t)b.data[1] << 16 |
                                 (uint32_t)b.data[2] << 8 | b.data[3]);
    uint8_t buf[1024], size[4];
    /* the handshake first, answered, so only SaslAuthenticate is timed */
    send_all(fd, b.data, second, "SaslHandshake");
    raw_read_full(fd, size, 4, "SaslHandshake answer");
    uint32_t n =
        (uint32_t)size[0] << 24 | (uint32_t)size[1] << 16 | (uint32_t)size[2] << 8 | size[3];
    if (n > sizeof buf)
        fail("SaslHandshake answer of %u bytes", n);
    raw_read_full(fd, buf, n, "SaslHandshake answer");
    int64_t t0 = now_us();
    send_all(fd, b.data + second, b.len - second, "SaslAuthenticate");
    raw_read_full(fd, size, 4, "SaslAuthenticate answer");
    double ms = (double)(now_us() - t0) / 1000.0;
    n = (uint32_t)size[0] << 24 | (uint32_t)size[1] << 16 | (uint32_t)size[2] << 8 | size[3];
    if (n > sizeof buf)
        fail("SaslAuthenticate answer of %u bytes", n);
    raw_read_full(fd, buf, n, "SaslAuthenticate answer");
    raw_rd r = {buf, buf + n, "SaslAuthenticate answer"};
    raw_i32(&r); /* correlation id */
    int16_t err = raw_i16(&r);
    raw_string(&r, msg, cap);
    if (err != ERR_SASL_AUTH_FAILED)
        fail("login as %s from %s: error %d \"%s\", expected 58", user, src, err, msg);
    close(fd);
    return ms;
}

static int cmd_timing(char **argv)
{
    int port = atoi(argv[0]);
    const char *known = argv[1], *unknown = argv[2];
    int n = atoi(argv[3]), first = atoi(argv[4]);
    if (n < 3 || n > 100 || first < 2 || first + 2 * n > 255)
        fail("timing: N 3..100 and 127.0.0.FIRST_OCTET..+2N within 127.0.0.2..254");
    srand((unsigned)(getpid() ^ now_us()));
    double k[100], u[100];
    char msg_k[512] = "", msg_u[512] = "", msg[512];
    for (int i = 0; i < 2 * n; i++) {
        char src[32];
        snprintf(src, sizeof src, "127.0.0.%d", first + i);
        bool is_known = i % 2 == 0;
        double ms = timed_login(port, src, is_known ? known : unknown, msg, sizeof msg);
        snprintf(is_known ? msg_k : msg_u, sizeof msg_k, "%s", msg);
        if (is_known)
            k[i / 2] = ms;
        else
            u[i / 2] = ms;
        printf("sample %s %s %.2f ms\n", is_known ? "known" : "unknown", src, ms);
    }
    if (strcmp(msg_k, msg_u) != 0)
        fail("a wrong password was answered \"%s\", an unknown user \"%s\"", msg_k, msg_u);
    /* The two logins of a pair ran back to back, so a machine getting busier or quieter
     * moves both: their difference is what tells known from unknown. */
    double d[100];
    for (int i = 0; i < n; i++)
        d[i] = k[i] - u[i];
    qsort(k, (size_t)n, sizeof k[0], cmp_double);
    qsort(u, (size_t)n, sizeof u[0], cmp_double);
    qsort(d, (size_t)n, sizeof d[0], cmp_double);
    double md = d[n / 2];
    printf("timing known median=%.2f unknown median=%.2f diff=%.2f ms (median of %d paired "
           "differences %+.2f)\n",
           k[n / 2], u[n / 2], md < 0 ? -md : md, n, md);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "flood") == 0 && argc == 8)
        return cmd_flood(argv + 2);
    if (strcmp(mode, "timing") == 0 && argc == 7)
        return cmd_timing(argv + 2);
    fprintf(stderr, "usage: raw_auth_flood flood PORT SRC RATE SECONDS USER linger|hangup\n"
                    "       raw_auth_flood timing PORT KNOWN_USER UNKNOWN_USER N FIRST_OCTET\n");
    return 2;
}
