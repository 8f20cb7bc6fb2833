/* st_file_write_atomic / st_file_read_small: whole replacement, permissions, missing and
 * oversized files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileio.h"

static void test_write_read(void **state)
{
    char dir[] = "/tmp/st-fileio-XXXXXX", path[64], err[256], buf[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f", dir);
    size_t len;
    assert_int_equal(st_file_read_small(path, buf, sizeof buf, &len, err, sizeof err), 1);
    assert_int_equal(st_file_write_atomic(dir, "f", "first\n", 6, true, err, sizeof err), 0);
    assert_int_equal(st_file_read_small(path, buf, sizeof buf, &len, err, sizeof err), 0);
    assert_string_equal(buf, "first\n");
    /* a leftover temp file (a crash mid-write) is replaced, and the mode is honoured */
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s/f.tmp", dir);
    FILE *f = fopen(tmp, "w");
    fputs("torn", f);
    fclose(f);
    chmod(tmp, 0666);
    assert_int_equal(st_file_write_atomic_mode(dir, "f", "second", 6, false, 0600, err, sizeof err),
                     0);
    assert_int_equal(st_file_read_small(path, buf, sizeof buf, &len, err, sizeof err), 0);
    assert_string_equal(buf, "second");
    assert_int_equal(len, 6);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(access(tmp, F_OK), -1);
    /* larger than the buffer: an error naming the file */
    char big[200];
    memset(big, 'x', sizeof big);
    assert_int_equal(st_file_write_atomic(dir, "f", big, sizeof big, true, err, sizeof err), 0);
    assert_int_equal(st_file_read_small(path, buf, sizeof buf, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "is larger than"));
    /* a directory that does not exist: the error says which path */
    assert_int_equal(st_file_write_atomic("/nonexistent-st", "f", "x", 1, true, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "/nonexistent-st/f.tmp"));
    unlink(path);
    rmdir(dir);
}

/* mkdir -p: nested, again (existing is fine), with the mode asked; a file in the way
 * (as the directory or as a parent) fails with a message naming the level that failed. */
static void test_mkdir_p(void **state)
{
    char dir[] = "/tmp/st-fileio-XXXXXX", path[128], file[128], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    assert_int_equal(st_mkdir_p(path, 0700, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(st_mkdir_p(path, 0700, err, sizeof err), 0);
    assert_int_equal(st_mkdir_p(path, 0700, NULL, 0), 0);

    snprintf(file, sizeof file, "%s/a/file", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(st_mkdir_p(file, 0755, err, sizeof err), -1); /* a file, not a dir */
    assert_non_null(strstr(err, "cannot create directory"));
    assert_non_null(strstr(err, file));
    snprintf(path, sizeof path, "%s/a/file/below", dir);
    assert_int_equal(st_mkdir_p(path, 0755, err, sizeof err), -1);
    assert_non_null(strstr(err, file)); /* names the level that failed */
    assert_int_equal(st_mkdir_p(path, 0755, NULL, 0), -1);

    char longpath[5000];
    memset(longpath, 'x', sizeof longpath);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(st_mkdir_p(longpath, 0755, err, sizeof err), -1);
    unlink(file);
    const char *subs[] = {"a/b/c", "a/b", "a"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
        assert_int_equal(rmdir(path), 0);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_write_read),
                                       cmocka_unit_test(test_mkdir_p)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
