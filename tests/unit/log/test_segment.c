/* Unit tests for segment files and their descriptors (broker/log/segment.c as the log
 * drives it): a new partition holds no descriptor, a written one at most one (index
 * entries stay in memory until a roll, flush or close), and an unclean start rebuilds
 * indexes that were never written, scanning from the last entry that is on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "common/errors.h"
#include "common/logging.h"
#include "tests/unit/log/build_batch.h"
#include "tests/unit/log/fixture.h"

#define NOW 1700000000000LL

/* Open descriptors of this process (the listing's own included, the same each time). */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static st_log *open_log(fixture *f, const st_log_config *c, bool clean)
{
    char err[256] = "";
    st_log *log = st_log_open(f->dir, c, clean, NULL, err, sizeof err);
    if (!log)
        fail_msg("st_log_open: %s", err);
    return log;
}

/* Appends one batch of n records with values of value_len bytes; returns its base
 * offset, or -1 on error (usable in a child process, where a failed assert cannot
 * reach the test runner). */
static int64_t append(st_log *log, int n, size_t value_len)
{
    uint8_t b[16384];
    size_t size = build_batch(b, sizeof b, n, NOW, value_len);
    st_append_result res;
    if (st_log_append(log, b, size, NOW, &res) != ST_ERR_NONE || res.records != n)
        return -1;
    return res.base_offset;
}

static off_t file_size(fixture *f, int64_t base, const char *ext)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%020lld.%s", f->dir, (long long)base, ext);
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Every entry of the segment's .index points at a batch whose base offset it names,
 * in increasing order. Returns the number of entries. */
static int check_index(fixture *f, int64_t base)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%020lld.log", f->dir, (long long)base);
    int log_fd = open(path, O_RDONLY);
    assert_true(log_fd >= 0);
    snprintf(path, sizeof path, "%s/%020lld.index", f->dir, (long long)base);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t entry[8];
    int n = 0;
    int64_t last_rel = -1;
    while (pread(fd, entry, 8, (off_t)n * 8) == 8) {
        int64_t rel = (int64_t)get_be(entry, 4), pos = (int64_t)get_be(entry + 4, 4);
        uint8_t head[8];
        assert_true(rel > last_rel);
        assert_int_equal(pread(log_fd, head, 8, pos), 8);
        assert_int_equal((int64_t)get_be(head, 8), base + rel);
        last_rel = rel;
        n++;
    }
    close(fd);
    close(log_fd);
    return n;
}

static void read_all(st_log *log, int64_t end)
{
    for (int64_t off = 0; off < end; off++) {
        st_log_slice s;
        assert_int_equal(st_log_read(log, off, 1, &s), ST_ERR_NONE);
        assert_true(s.len > 0);
        uint8_t *buf = malloc(s.len);
        st_batch_info info;
        assert_int_equal(pread(s.file->fd, buf, s.len, s.pos), (ssize_t)s.len);
        assert_int_equal(st_batch_header(buf, s.len, &info), ST_ERR_NONE);
        assert_true(info.base_offset <= off && off <= info.base_offset + info.last_offset_delta);
        free(buf);
        st_fileref_unref(s.file);
    }
}

static void test_descriptors(void **state)
{
    fixture *f = *state;
    st_log_config c;
    st_log_config_defaults(&c);
    c.segment_bytes = 4096;
    c.index_interval_bytes = 256;
    int before = count_fds();

    /* a new partition: its empty .log exists, nothing is open */
    st_log *log = open_log(f, &c, true);
    assert_int_equal(count_fds(), before);
    assert_int_equal(file_size(f, 0, "log"), 0);
    assert_int_equal(file_size(f, 0, "index"), -1);

    /* appends: the active .log only; index entries stay in memory */
    for (int i = 0; i < 5; i++)
        assert_int_equal(append(log, 2, 100), 2 * i);
    assert_int_equal(count_fds(), before + 1);
    assert_int_equal(file_size(f, 0, "index"), -1);

    /* rolls (no flusher: fsync inline) write and close the old segment's indexes and
     * its .log */
    for (int i = 5; i < 60; i++)
        assert_int_equal(append(log, 2, 100), 2 * i);
    assert_true(st_log_segment_count(log) > 2);
    assert_int_equal(count_fds(), before + 1);
    assert_true(file_size(f, 0, "index") > 0);
    assert_int_equal(check_index(f, 0), (int)(file_size(f, 0, "index") / 8));

    /* a flush writes the active segment's entries, then lets them go */
    st_log_flush_async(log, NULL, NULL);
    assert_int_equal(count_fds(), before + 1);
    st_log_close(log, true);
    assert_int_equal(count_fds(), before);

    /* clean restart: idle costs nothing; a read opens one segment */
    log = open_log(f, &c, true);
    assert_int_equal(count_fds(), before);
    assert_int_equal(st_log_end_offset(log), 120);
    read_all(log, 120);
    assert_int_equal(append(log, 1, 10), 120);
    st_log_close(log, true);
    assert_int_equal(count_fds(), before);
    assert_false(logged(f, "failed"));
}

/* Runs fn in a child that exits without closing the log (a crash, as far as the files
 * are concerned: nothing the close writes is written). */
static void crash_after(fixture *f, void (*fn)(fixture *))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fn(f);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void append_50(fixture *f)
{
    st_log_config c;
    st_log_config_defaults(&c);
    c.index_interval_bytes = 256;
    st_log *log = open_log(f, &c, true);
    for (int i = 0; i < 50; i++)
        if (append(log, 2, 100) != 2 * i)
            _exit(1);
}

static void test_unclean_without_index(void **state)
{
    fixture *f = *state;
    crash_after(f, append_50);
    assert_int_equal(file_size(f, 0, "index"), -1); /* never written */
    assert_true(file_size(f, 0, "log") > 0);

    st_log_config c;
    st_log_config_defaults(&c);
    c.index_interval_bytes = 256;
    st_log *log = open_log(f, &c, false);
    assert_int_equal(st_log_end_offset(log), 100);
    assert_false(logged(f, "truncated"));
    read_all(log, 100);
    /* rebuilt from the .log: each batch is over 256 bytes, so every batch but the
     * first has an entry, each pointing at its batch */
    assert_int_equal(check_index(f, 0), 49);
    assert_true(file_size(f, 0, "timeindex") > 0);
    st_log_close(log, true);
}

static void flush_then_append(fixture *f)
{
    st_log_config c;
    st_log_config_defaults(&c);
    c.index_interval_bytes = 256;
    st_log *log = open_log(f, &c, true);
    for (int i = 0; i < 30; i++)
        if (append(log, 2, 100) != 2 * i)
            _exit(1);
    st_log_flush_async(log, NULL, NULL); /* writes the index, moves the recovery point */
    /* checkpoints it: each partition's periodic checkpoint has a slot of its own in
     * the minute (staggered), which a tick one minute after the first has passed */
    st_log_tick(log, NOW);
    st_log_tick(log, NOW + 60000);
    for (int i = 30; i < 50; i++)
        if (append(log, 2, 100) != 2 * i)
            _exit(1);
}

static void test_recovery_starts_at_index_on_disk(void **state)
{
    fixture *f = *state;
    crash_after(f, flush_then_append);
    off_t flushed = file_size(f, 0, "index");
    assert_true(flushed >= 16);
    assert_int_equal(check_index(f, 0), (int)(flushed / 8));

    /* Damage the first batch, below the recovery point and the last entry on disk:
     * recovery re-verifies only from that entry, so it is not seen (a rescan from the
     * segment's start would cut the log there). */
    char path[256];
    snprintf(path, sizeof path, "%s/%020d.log", f->dir, 0);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t byte;
    assert_int_equal(pread(fd, &byte, 1, 100), 1);
    byte ^= 0x40;
    assert_int_equal(pwrite(fd, &byte, 1, 100), 1);
    close(fd);

    st_log_config c;
    st_log_config_defaults(&c);
    c.index_interval_bytes = 256;
    st_log *log = open_log(f, &c, false);
    assert_int_equal(st_log_end_offset(log), 100);
    assert_false(logged(f, "CRC mismatch"));
    assert_true(file_size(f, 0, "index") > flushed); /* the rest rebuilt */
    check_index(f, 0);
    st_log_close(log, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unclean_without_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_starts_at_index_on_disk, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
