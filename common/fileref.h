/*
 * st_fileref: a reference-counted file descriptor. A fetch response queued on a slow
 * connection holds a reference to the segment file it will sendfile() from, so retention
 * can delete the segment meanwhile without the fd being closed or reused under it.
 * Counting is atomic: the fsync helper thread holds references too.
 */
#ifndef ST_FILEREF_H
#define ST_FILEREF_H

typedef struct st_fileref {
    int fd;
    int refs; /* atomic */
} st_fileref;

/* Takes ownership of fd; returns a new reference (count 1). */
st_fileref *st_fileref_new(int fd);
/* Returns f with one more reference. */
st_fileref *st_fileref_ref(st_fileref *f);
/* Drops a reference; the last one closes the fd and frees. NULL is ignored. */
void st_fileref_unref(st_fileref *f);

#endif
