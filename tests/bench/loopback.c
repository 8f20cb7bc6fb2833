/*
 * loopback: the physical ceiling of one TCP stream on 127.0.0.1 on this machine. One
 * thread writes 1 MiB buffers as fast as it can, another reads them; after the given
 * seconds the reader reports what it received. tests/bench/compare.sh sets W6 (consume
 * a backlog) against this number: a broker that serves a fetch with sendfile moves the
 * same bytes through the same loopback device, minus its own work.
 *
 *   loopback [SECONDS] [--json] [--port P --via HOST:PORT] [--warmup S]
 *       (SECONDS 1..60, default 5)
 *
 * With --via the writer connects to HOST:PORT (a netproxy forwarding to 127.0.0.1:P,
 * where the reader listens) instead of the reader directly: one TCP stream over the same
 * emulated link the mirror benchmark uses (tests/bench/mirror_bench.sh). --warmup is the
 * time not counted at the start while the connection's window grows [0.5 s].
 *
 * Prints "loopback: X GB/s (Y MB/s) ..." or, with --json, one object with mb_per_sec
 * (MB = 2^20 bytes, as strait perf reports).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1024 * 1024)

typedef struct stream {
    int fd;
    _Atomic bool stop;
} stream;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *writer_main(void *arg)
{
    stream *s = arg;
    char *buf = malloc(CHUNK);
    if (!buf)
        return NULL;
    memset(buf, 'x', CHUNK);
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        ssize_t n = write(s->fd, buf, CHUNK);
        if (n < 0 && errno != EINTR)
            break;
    }
    shutdown(s->fd, SHUT_WR);
    free(buf);
    return NULL;
}

/* A connected pair over 127.0.0.1: *wfd (client side) and *rfd (accepted). The reader
 * listens on `port` (0: any) and the writer connects to `via` when given (a proxy that
 * forwards to that port). */
static int connect_pair(int *wfd, int *rfd, int port, const struct sockaddr_in *via)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                               .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof(addr);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    int rc = -1;
    *wfd = *rfd = -1;
    if (lfd >= 0)
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &len) != 0)
        goto out;
    *wfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (via)
        addr = *via;
    if (*wfd < 0 || connect(*wfd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        goto out;
    *rfd = accept(lfd, NULL, NULL);
    rc = *rfd < 0 ? -1 : 0;
out:
    if (lfd >= 0)
        close(lfd);
    return rc;
}

int main(int argc, char **argv)
{
    double seconds = 5, warmup = 0.5;
    bool json = false;
    int port = 0;
    struct sockaddr_in via_addr = {.sin_family = AF_INET}, *via = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) {
            warmup = strtod(argv[++i], NULL);
        } else if (strcmp(argv[i], "--via") == 0 && i + 1 < argc) {
            char host[64];
            int vport;
            if (sscanf(argv[++i], "%63[^:]:%d", host, &vport) != 2 ||
                inet_pton(AF_INET, host, &via_addr.sin_addr) != 1) {
                fprintf(stderr, "loopback: --via wants IPv4:PORT, not \"%s\"\n", argv[i]);
                return 2;
            }
            via_addr.sin_port = htons((uint16_t)vport);
            via = &via_addr;
        } else {
            char *end;
            seconds = strtod(argv[i], &end);
            if (*end || seconds < 1 || seconds > 60) {
                fprintf(stderr, "loopback: \"%s\" is not a number of seconds (1..60)\n", argv[i]);
                return 2;
            }
        }
    }
    int wfd, rfd;
    if (connect_pair(&wfd, &rfd, port, via) != 0) {
        fprintf(stderr, "loopback: cannot connect over 127.0.0.1: %s\n", strerror(errno));
        return 1;
    }
    stream s = {.fd = wfd};
    pthread_t writer;
    if (pthread_create(&writer, NULL, writer_main, &s) != 0) {
        fprintf(stderr, "loopback: cannot start the writer thread\n");
        return 1;
    }
    char *buf = malloc(CHUNK);
    if (!buf)
        return 1;
    /* The warm-up (window growth) is not counted. */
    double t0 = now_s(), start = t0 + warmup, end = start + seconds;
    long long bytes = 0;
    for (;;) {
        ssize_t n = read(rfd, buf, CHUNK);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            break;
        }
        double t = now_s();
        if (t >= end)
            break;
        if (t >= start)
            bytes += n;
    }
    double elapsed = now_s() - start;
    atomic_store(&s.stop, true);
    /* drain until the writer's shutdown, so its blocked write returns */
    while (read(rfd, buf, CHUNK) > 0)
        ;
    pthread_join(writer, NULL);
    close(wfd);
    close(rfd);
    free(buf);
    double mbs = (double)bytes / elapsed / (1024.0 * 1024.0);
    if (json)
        printf("{\"bytes\":%lld,\"seconds\":%.3f,\"mb_per_sec\":%.1f}\n", bytes, elapsed, mbs);
    else
        printf("loopback: %.2f GB/s (%.0f MB/s) over %.1f s, one TCP stream, 1 MiB writes%s\n",
               mbs / 1024.0, mbs, elapsed, via ? " (through the proxy)" : "");
    return 0;
}
