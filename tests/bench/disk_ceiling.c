/*
 * disk_ceiling: the sustained write ceiling of the disk under a directory, and the
 * machine's dirty-page budget — the two figures tests/bench/compare.sh sets the produce
 * workloads against when they write more than memory absorbs.
 *
 *   disk_ceiling DIR [--size-mib N] [--rounds R] [--json]
 *
 * Each round writes N MiB (default 1024, a segment's default size) of incompressible
 * bytes sequentially into a new file in DIR, 1 MiB a pwrite, then fdatasync()s it, and
 * times the whole; the file is removed after. Before each round it waits (up to 60 s)
 * for the machine's dirty + writeback pages to drop below 256 MiB, so a round does not
 * pay for what came before it. Prints each round and the median in MiB/s.
 *
 * The budget is what straitd itself computes (broker/log/writeback.c): the kernel's
 * freerun point — halfway between the dirty_background and dirty thresholds, from
 * /proc/sys/vm/dirty_* and the memory that can hold dirty pages — past which writers
 * are throttled, and straitd's limit, 7/8 of it, past which it holds producers back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/log/log_int.h"
#include "common/clock.h"

#define CHUNK      (1 << 20)
#define MAX_ROUNDS 15

static int64_t dirty_kib(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return -1;
    char line[256];
    int64_t kib = 0;
    while (fgets(line, sizeof line, f)) {
        long long v;
        if (sscanf(line, "Dirty: %lld", &v) == 1 || sscanf(line, "Writeback: %lld", &v) == 1)
            kib += v;
    }
    fclose(f);
    return kib;
}

/* One round: MiB/s, or -1 with a message on stderr. */
static double round_mibs(const char *dir, int64_t size_mib, uint8_t *buf)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/disk-ceiling.%d", dir, (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "disk_ceiling: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int64_t t0 = st_mono_us();
    bool ok = true;
    for (int64_t i = 0; i < size_mib && ok; i++) {
        buf[0] = (uint8_t)i; /* no two chunks alike */
        size_t done = 0;
        while (done < CHUNK) {
            ssize_t w = pwrite(fd, buf + done, CHUNK - done, i * CHUNK + (int64_t)done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                fprintf(stderr, "disk_ceiling: write to %s: %s\n", path, strerror(errno));
                ok = false;
                break;
            }
            done += (size_t)w;
        }
    }
    if (ok && fdatasync(fd) < 0) {
        fprintf(stderr, "disk_ceiling: fdatasync of %s: %s\n", path, strerror(errno));
        ok = false;
    }
    int64_t t1 = st_mono_us();
    close(fd);
    unlink(path);
    return ok ? (double)size_mib / ((double)(t1 - t0) / 1e6) : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int64_t size_mib = 1024;
    int rounds = 3;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size-mib") == 0 && i + 1 < argc)
            size_mib = strtoll(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (!dir && argv[i][0] != '-')
            dir = argv[i];
        else {
            fprintf(stderr, "usage: disk_ceiling DIR [--size-mib N] [--rounds R] [--json]\n");
            return 2;
        }
    }
    if (!dir || size_mib < 1 || size_mib > (1 << 20) || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr,
                "usage: disk_ceiling DIR [--size-mib 1..1048576] [--rounds 1..%d] "
                "[--json]\n",
                MAX_ROUNDS);
        return 2;
    }
    uint8_t *buf = malloc(CHUNK);
    if (!buf) {
        fprintf(stderr, "disk_ceiling: out of memory\n");
        return 1;
    }
    uint64_t x = 0x9e3779b97f4a7c15ULL; /* xorshift: bytes no disk or host can compress */
    for (size_t i = 0; i < CHUNK; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }
    double mibs[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 600 && dirty_kib() > 256 * 1024; i++)
            usleep(100000);
        mibs[r] = round_mibs(dir, size_mib, buf);
        if (mibs[r] < 0)
            return 1;
        if (!json)
            printf("round %d: %lld MiB in %.2f s: %.0f MiB/s\n", r + 1, (long long)size_mib,
                   (double)size_mib / mibs[r], mibs[r]);
    }
    free(buf);
    double sorted[MAX_ROUNDS];
    memcpy(sorted, mibs, sizeof(double) * (size_t)rounds);
    qsort(sorted, (size_t)rounds, sizeof(double), cmp_double);
    double median = sorted[(rounds - 1) / 2];
    int64_t freerun = st_writeback_freerun_bytes();
    int64_t limit = freerun > 0 ? freerun - freerun / 8 : -1;
    if (json) {
        printf("{\"mb_per_sec\":%.1f,\"rounds\":[", median);
        for (int r = 0; r < rounds; r++)
            printf("%s%.1f", r ? "," : "", mibs[r]);
        printf("],\"size_mib\":%lld,\"freerun_bytes\":%lld,\"limit_bytes\":%lld}\n",
               (long long)size_mib, (long long)freerun, (long long)limit);
    } else {
        printf("median: %.0f MiB/s\n", median);
        printf("dirty pages: the kernel throttles writers past %lld MiB; straitd holds "
               "producers past %lld MiB\n",
               (long long)(freerun >> 20), (long long)(limit >> 20));
    }
    return 0;
}
