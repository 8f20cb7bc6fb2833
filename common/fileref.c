/* Reference-counted fds; see fileref.h. */
#include "fileref.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

st_fileref *st_fileref_new(int fd)
{
    st_fileref *f = malloc(sizeof *f);
    if (!f) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    f->fd = fd;
    f->refs = 1;
    return f;
}

st_fileref *st_fileref_ref(st_fileref *f)
{
    __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
    return f;
}

void st_fileref_unref(st_fileref *f)
{
    if (!f)
        return;
    if (__atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        close(f->fd);
        free(f);
    }
}
