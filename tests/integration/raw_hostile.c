/*
 * raw_hostile: the hostile or merely numerous side of the connection-layer tests, over
 * plain sockets (no client library would misbehave on purpose).
 *
 *   raw_hostile conns --port P --count N [--from ADDR] [--hold-ms MS] [--until-closed]
 *                     [--api-versions] [--ping-ms MS] [--announce BYTES] [--send BYTES]
 *                     [--sasl-bytes BYTES] [--stop-file F]
 *
 *     Opens N connections from ADDR (a loopback address to bind, default 127.0.0.1) and
 *     keeps them for --hold-ms (default 10000), or until every one was closed by the
 *     broker with --until-closed, or until --stop-file exists. Each first sends what the
 *     options say: one ApiVersions v0 (its answer is read), the 4-byte size prefix
 *     BYTES of a frame (--announce), then --send zero bytes of its body; or, with
 *     --sasl-bytes, SaslHandshake v1 for PLAIN (its answer is read) and a SaslAuthenticate
 *     v1 whose auth bytes are BYTES long (a user name, then padding: a login that fails,
 *     its answer held back by the failed-login delay). With --ping-ms
 *     each sends ApiVersions v0 that often (reading the answers): an active client. Once
 *     all are open it prints "opened N", and at the end
 *
 *       opened N closed-by-broker K open M first-close-ms A last-close-ms B
 *
 *     (close times from the moment the last connection opened; -1 when none closed).
 *
 *   raw_hostile latency --port P [--topic T] [--interval-ms MS] [--max-ms MS]
 *                       [--stop-file F] [--reconnect]
 *
 *     One connection (a fresh one per sample with --reconnect, as `kcat -L` makes):
 *     ApiVersions v0, then a Metadata v1 request for T every MS (default 20) until
 *     --max-ms passed (default 30000) or --stop-file exists. Prints each round trip as
 *     "sample <ms>" and at the end "latency samples=N p50=.. p90=.. p99=.. max=.. ms".
 *
 * Exits 1 (with "FAIL:") when something it needed failed: no connection at all, an
 * answer missing where one was due.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/raw_util.h"

#define API_METADATA          3
#define API_SASL_HANDSHAKE    17
#define API_API_VERSIONS      18
#define API_SASL_AUTHENTICATE 36

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

typedef struct opts {
    int port;
    int count;
    const char *from;
    int hold_ms;
    bool until_closed;
    bool api_versions;
    int ping_ms;
    long long announce;
    long long send;
    long long sasl_bytes;
    const char *stop_file;
    const char *topic;
    int interval_ms;
    int max_ms;
    bool reconnect;
} opts;

static bool stop_requested(const opts *o)
{
    return o->stop_file && access(o->stop_file, F_OK) == 0;
}

/* A blocking connection from o->from to 127.0.0.1:port; -1 when refused (counted by the
 * caller), the test fails on anything stranger. */
static int connect_from(const opts *o)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        fail("socket: %s (raise the fd limit?)", strerror(errno));
    struct sockaddr_in src = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, o->from, &src.sin_addr) != 1)
        fail("--from %s is not an IPv4 address", o->from);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0)
        fail("bind to %s: %s", o->from, strerror(errno));
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int32_t next_correlation = 1;

static void build_api_versions(wbuf *b, int32_t corr)
{
    b->len = 0;
    put_i32(b, 0);
    put_i16(b, API_API_VERSIONS);
    put_i16(b, 0);
    put_i32(b, corr);
    put_string(b, "raw_hostile");
}

/* One ApiVersions v0 round trip; false when the broker closed instead of answering. */
static bool api_versions(int fd)
{
    wbuf b;
    int32_t corr = next_correlation++;
    build_api_versions(&b, corr);
    patch_i32(&b, 0, (int32_t)(b.len - 4));
    if (write(fd, b.data, b.len) != (ssize_t)b.len)
        return false;
    uint8_t size[4];
    ssize_t n = recv(fd, size, 4, MSG_WAITALL);
    if (n != 4)
        return false;
    uint32_t len =
        (uint32_t)size[0] << 24 | (uint32_t)size[1] << 16 | (uint32_t)size[2] << 8 | size[3];
    uint8_t buf[8192];
    if (len < 6 || len > sizeof buf)
        fail("ApiVersions: answer of %u bytes", len);
    if (recv(fd, buf, len, MSG_WAITALL) != (ssize_t)len)
        return false;
    raw_rd r = {buf, buf + len, "ApiVersions"};
    if (raw_i32(&r) != corr)
        fail("ApiVersions: wrong correlation id");
    if (raw_i16(&r) != 0)
        fail("ApiVersions: error %d", (int)(int16_t)(buf[4] << 8 | buf[5]));
    return true;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* SaslHandshake v1 for PLAIN, then a SaslAuthenticate v1 of `len` auth bytes (not
 * waiting for its answer). False if the broker closed the connection instead. */
static bool sasl_login(int fd, long long len)
{
    wbuf b = {.len = 0};
    int32_t corr = next_correlation++;
    put_i32(&b, 0);
    put_i16(&b, API_SASL_HANDSHAKE);
    put_i16(&b, 1);
    put_i32(&b, corr);
    put_string(&b, "raw_hostile");
    put_string(&b, "PLAIN");
    patch_i32(&b, 0, (int32_t)(b.len - 4));
    uint8_t answer[512];
    if (write(fd, b.data, b.len) != (ssize_t)b.len || recv(fd, answer, 4, MSG_WAITALL) != 4)
        return false;
    uint32_t n = (uint32_t)answer[0] << 24 | (uint32_t)answer[1] << 16 | (uint32_t)answer[2] << 8 |
                 answer[3];
    if (n < 6 || n > sizeof answer || recv(fd, answer, n, MSG_WAITALL) != (ssize_t)n)
        return false;
    if (answer[4] != 0 || answer[5] != 0)
        fail("SaslHandshake PLAIN: error %d (is PLAIN enabled?)", answer[4] << 8 | answer[5]);

    static const char user[] = "\0mallory\0"; /* authzid, user; the rest is the password */
    if (len < (long long)sizeof user)
        fail("--sasl-bytes must be at least %zu", sizeof user);
    b.len = 0;
    put_i32(&b, 0);
    put_i16(&b, API_SASL_AUTHENTICATE);
    put_i16(&b, 1);
    put_i32(&b, next_correlation++);
    put_string(&b, "raw_hostile");
    put_i32(&b, (int32_t)len);
    put(&b, user, sizeof user - 1);
    patch_i32(&b, 0, (int32_t)(b.len - 4 + len - (long long)(sizeof user - 1)));
    if (write(fd, b.data, b.len) != (ssize_t)b.len)
        return false;
    static uint8_t pad[65536];
    if (!pad[0])
        memset(pad, 'x', sizeof pad);
    for (long long left = len - (long long)(sizeof user - 1); left > 0;) {
        size_t k = left > (long long)sizeof pad ? sizeof pad : (size_t)left;
        ssize_t w = send(fd, pad, k, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        left -= w;
    }
    return true;
}

/* Sends what the options say a fresh connection sends. False if the broker closed it
 * meanwhile. */
static bool opening_moves(const opts *o, int fd)
{
    if (o->api_versions && !api_versions(fd))
        return false;
    if (o->sasl_bytes > 0)
        return sasl_login(fd, o->sasl_bytes);
    if (o->announce > 0) {
        uint8_t prefix[4] = {(uint8_t)(o->announce >> 24), (uint8_t)(o->announce >> 16),
                             (uint8_t)(o->announce >> 8), (uint8_t)o->announce};
        if (write(fd, prefix, 4) != 4)
            return false;
    }
    static uint8_t zeros[65536];
    for (long long left = o->send; left > 0;) {
        size_t n = left > (long long)sizeof zeros ? sizeof zeros : (size_t)left;
        ssize_t w = send(fd, zeros, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 5000) <= 0)
                return true; /* the broker stopped reading: that is its right */
            continue;
        }
        if (w <= 0)
            return false;
        left -= w;
    }
    return true;
}

static int cmd_conns(const opts *o)
{
    raise_fd_limit();
    int *fds = calloc((size_t)o->count, sizeof *fds);
    double *closed_at = calloc((size_t)o->count, sizeof *closed_at);
    double *next_ping = calloc((size_t)o->count, sizeof *next_ping);
    struct pollfd *pfd = calloc((size_t)o->count, sizeof *pfd);
    if (!fds || !closed_at || !next_ping || !pfd)
        fail("out of memory");
    int refused = 0;
    for (int i = 0; i < o->count; i++) {
        fds[i] = connect_from(o);
        closed_at[i] = -1;
        if (fds[i] < 0) {
            refused++;
            continue;
        }
        if (!opening_moves(o, fds[i])) {
            close(fds[i]);
            fds[i] = -2; /* closed during the opening moves: counts as closed at 0 */
        }
    }
    double t0 = now_ms();
    for (int i = 0; i < o->count; i++) {
        if (fds[i] == -2)
            closed_at[i] = 0;
        next_ping[i] = t0 + o->ping_ms;
    }
    printf("opened %d\n", o->count - refused);
    fflush(stdout);
    int open = 0;
    for (;;) {
        double now = now_ms();
        open = 0;
        for (int i = 0; i < o->count; i++)
            if (fds[i] >= 0)
                open++;
        if (now - t0 >= o->hold_ms || (o->until_closed && open == 0) || stop_requested(o))
            break;
        int n = 0;
        for (int i = 0; i < o->count; i++)
            if (fds[i] >= 0)
                pfd[n++] = (struct pollfd){.fd = fds[i], .events = POLLIN | POLLRDHUP};
        int rc = poll(pfd, (nfds_t)n, 20);
        if (rc < 0 && errno != EINTR)
            fail("poll: %s", strerror(errno));
        now = now_ms();
        for (int k = 0, i = 0; i < o->count; i++) {
            if (fds[i] < 0)
                continue;
            struct pollfd *p = &pfd[k++];
            bool gone = false;
            if (p->revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) {
                uint8_t sink[4096];
                ssize_t r = recv(fds[i], sink, sizeof sink, MSG_DONTWAIT);
                gone = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
            }
            if (!gone && o->ping_ms > 0 && now >= next_ping[i]) {
                /* A ping's answer is read (and dropped) by the POLLIN branch above. */
                wbuf b;
                build_api_versions(&b, next_correlation++);
                patch_i32(&b, 0, (int32_t)(b.len - 4));
                gone = send(fds[i], b.data, b.len, MSG_NOSIGNAL) != (ssize_t)b.len;
                next_ping[i] = now + o->ping_ms;
            }
            if (gone) {
                close(fds[i]);
                fds[i] = -1;
                closed_at[i] = now - t0;
            }
        }
    }
    int closed = 0;
    double first = -1, last = -1;
    for (int i = 0; i < o->count; i++) {
        if (closed_at[i] < 0)
            continue;
        closed++;
        if (first < 0 || closed_at[i] < first)
            first = closed_at[i];
        if (closed_at[i] > last)
            last = closed_at[i];
    }
    printf("opened %d closed-by-broker %d open %d first-close-ms %.0f last-close-ms %.0f\n",
           o->count - refused, closed, open, first, last);
    for (int i = 0; i < o->count; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    free(closed_at);
    free(next_ping);
    free(pfd);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Metadata v1 for one topic; returns the round trip in ms. */
static double metadata_round_trip(int fd, const char *topic)
{
    wbuf b = {.len = 0};
    int32_t corr = next_correlation++;
    put_i32(&b, 0);
    put_i16(&b, API_METADATA);
    put_i16(&b, 1);
    put_i32(&b, corr);
    put_string(&b, "raw_hostile");
    put_i32(&b, 1);
    put_string(&b, topic);
    static uint8_t buf[1 << 20];
    double t = now_ms();
    raw_rd r = raw_exchange(fd, &b, corr, buf, sizeof buf, "Metadata");
    double rtt = now_ms() - t;
    (void)r;
    return rtt;
}

static int cmd_latency(const opts *o)
{
    size_t cap = 100000, n = 0;
    double *samples = calloc(cap, sizeof *samples);
    if (!samples)
        fail("out of memory");
    int fd = -1;
    double t0 = now_ms();
    while (now_ms() - t0 < o->max_ms && !stop_requested(o) && n < cap) {
        double start = now_ms();
        if (fd < 0) {
            fd = connect_from(o);
            if (fd < 0)
                fail("latency: cannot connect to 127.0.0.1:%d: %s", o->port, strerror(errno));
            if (!api_versions(fd))
                fail("latency: the broker closed the connection instead of answering ApiVersions");
        }
        metadata_round_trip(fd, o->topic);
        /* With --reconnect a sample is the whole exchange of a fresh client. */
        double rtt = now_ms() - start;
        samples[n++] = rtt;
        printf("sample %.2f\n", rtt);
        fflush(stdout);
        if (o->reconnect) {
            close(fd);
            fd = -1;
        }
        double wait = o->interval_ms - (now_ms() - start);
        if (wait > 0)
            usleep((useconds_t)(wait * 1000));
    }
    if (n == 0)
        fail("latency: no sample taken");
    qsort(samples, n, sizeof *samples, cmp_double);
#define PCT(p) samples[(size_t)((double)(n - 1) * (p))]
    printf("latency samples=%zu p50=%.2f p90=%.2f p99=%.2f max=%.2f ms\n", n, PCT(0.50), PCT(0.90),
           PCT(0.99), samples[n - 1]);
    if (fd >= 0)
        close(fd);
    free(samples);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    opts o = {
        .from = "127.0.0.1", .hold_ms = 10000, .topic = "t", .interval_ms = 20, .max_ms = 30000};
    if (argc < 2)
        fail("usage: raw_hostile conns|latency --port P ... (see the source)");
    const char *cmd = argv[1];
    enum {
        O_PORT = 1000,
        O_COUNT,
        O_FROM,
        O_HOLD,
        O_UNTIL,
        O_AV,
        O_PING,
        O_ANN,
        O_SEND,
        O_STOP,
        O_TOPIC,
        O_INTERVAL,
        O_MAX,
        O_RECONNECT,
        O_SASL,
    };
    static const struct option longopts[] = {
        {"port", required_argument, NULL, O_PORT},
        {"count", required_argument, NULL, O_COUNT},
        {"from", required_argument, NULL, O_FROM},
        {"hold-ms", required_argument, NULL, O_HOLD},
        {"until-closed", no_argument, NULL, O_UNTIL},
        {"api-versions", no_argument, NULL, O_AV},
        {"ping-ms", required_argument, NULL, O_PING},
        {"announce", required_argument, NULL, O_ANN},
        {"send", required_argument, NULL, O_SEND},
        {"stop-file", required_argument, NULL, O_STOP},
        {"topic", required_argument, NULL, O_TOPIC},
        {"interval-ms", required_argument, NULL, O_INTERVAL},
        {"max-ms", required_argument, NULL, O_MAX},
        {"reconnect", no_argument, NULL, O_RECONNECT},
        {"sasl-bytes", required_argument, NULL, O_SASL},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_PORT:
            o.port = atoi(optarg);
            break;
        case O_COUNT:
            o.count = atoi(optarg);
            break;
        case O_FROM:
            o.from = optarg;
            break;
        case O_HOLD:
            o.hold_ms = atoi(optarg);
            break;
        case O_UNTIL:
            o.until_closed = true;
            break;
        case O_AV:
            o.api_versions = true;
            break;
        case O_PING:
            o.ping_ms = atoi(optarg);
            break;
        case O_ANN:
            o.announce = atoll(optarg);
            break;
        case O_SEND:
            o.send = atoll(optarg);
            break;
        case O_STOP:
            o.stop_file = optarg;
            break;
        case O_TOPIC:
            o.topic = optarg;
            break;
        case O_INTERVAL:
            o.interval_ms = atoi(optarg);
            break;
        case O_MAX:
            o.max_ms = atoi(optarg);
            break;
        case O_RECONNECT:
            o.reconnect = true;
            break;
        case O_SASL:
            o.sasl_bytes = atoll(optarg);
            break;
        default:
            fail("unknown option (see the source for usage)");
        }
    }
    if (o.port <= 0)
        fail("--port is required");
    if (strcmp(cmd, "conns") == 0) {
        if (o.count <= 0)
            fail("conns: --count must be positive");
        return cmd_conns(&o);
    }
    if (strcmp(cmd, "latency") == 0)
        return cmd_latency(&o);
    fail("unknown command \"%s\" (conns or latency)", cmd);
}
