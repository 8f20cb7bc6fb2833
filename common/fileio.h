/*
 * Small files written so a crash leaves either the old contents or the new, whole:
 * checkpoints, snapshots, the metadata store, id blocks. One implementation of the
 * temp-file, fsync, rename, directory-fsync sequence for all of them.
 */
#ifndef ST_FILEIO_H
#define ST_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

/* Replaces dir/name with len bytes of data through dir/name.tmp. With sync, the data
 * and the rename are fsynced before it returns (durable); without, the caller fsyncs
 * the file's directory later (the bytes may then be lost in a crash, never torn).
 * Returns 0, or -1 with errno kept and err saying which step failed on which path.
 * Borrows everything. */
int st_file_write_atomic(const char *dir, const char *name, const void *data, size_t len, bool sync,
                         char *err, size_t errlen);
/* The same with the file's permission bits (0600 for secrets: never readable by others,
 * not even for a moment). */
int st_file_write_atomic_mode(const char *dir, const char *name, const void *data, size_t len,
                              bool sync, int mode, char *err, size_t errlen);

/* Reads all of a small file (at most cap-1 bytes; longer is an error) into buf and
 * NUL-terminates it. Returns 0 with *len set, 1 if the file does not exist, or -1 with
 * err set. */
int st_file_read_small(const char *path, char *buf, size_t cap, size_t *len, char *err,
                       size_t errlen);

/* mkdir -p: creates path and its missing parents with mode (0755, 0700). An existing
 * directory is fine; an existing file in the way is not. Returns 0, or -1 with errno
 * kept and, when err is not NULL, err naming the directory that could not be made
 * ("cannot create directory /a/b: Permission denied"). One for every daemon. */
int st_mkdir_p(const char *path, int mode, char *err, size_t errlen);

/* fsync of a directory, making the names created or renamed in it durable. 0 or -1
 * with errno. */
int st_file_fsync_dir(const char *dir);

#endif
