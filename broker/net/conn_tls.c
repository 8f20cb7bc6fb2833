/*
 * The connection layer's TLS path (see conn.c's header): the same buffers and send
 * cursors as plaintext, through broker/net/tls.h. File ranges are copied through a
 * buffer (pread, then encrypt): the kernel cannot encrypt for us, so TLS loses sendfile.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker/net/conn_int.h"

/* TLS: the file range through a buffer. Each call encrypts at most TLS_CHUNK bytes; a
 * retry after would-block reads the same bytes again (the buffer may move: see tls.c). */
int st_conn__tls_send_file_part(st_conn *c, st_resp *r)
{
    uint8_t chunk[TLS_CHUNK];
    file_part *p = &r->parts[r->part];
    size_t want = p->len - r->file_off;
    if (want > sizeof chunk)
        want = sizeof chunk;
    ssize_t got = pread(p->f->fd, chunk, want, (off_t)(p->pos + (int64_t)r->file_off));
    if (got <= 0) {
        char why[200];
        snprintf(why, sizeof why, "reading a file range for a TLS response failed: %s",
                 got < 0 ? strerror(errno) : "file truncated while a response was queued");
        st_conn__close_at(c, ST_LOG_WARN, why);
        return -1;
    }
    char why[300];
    ssize_t n = st_tls_write(c->tls, chunk, (size_t)got, &c->tls_write_want, why, sizeof why);
    if (n == 0)
        return 0;
    if (n < 0) {
        st_conn__close_at(c, ST_LOG_INFO, why);
        return -1;
    }
    r->file_off += (size_t)n;
    if (r->file_off == p->len) {
        r->part++;
        r->file_off = 0;
    }
    st_conn__pop_done(c);
    return 1;
}

/* TLS: the head response's current memory run. */
int st_conn__tls_send_memory(st_conn *c)
{
    st_resp *q = c->out_head;
    size_t end = st_conn__mem_end(q);
    char why[300];
    ssize_t n = st_tls_write(c->tls, q->buf.data + q->mem_off, end - q->mem_off, &c->tls_write_want,
                             why, sizeof why);
    if (n == 0)
        return 0;
    if (n < 0) {
        st_conn__close_at(c, ST_LOG_INFO, why);
        return -1;
    }
    st_conn__consume_memory(c, (size_t)n);
    return 1;
}

/* TLS: decrypts into the large frame in progress, then the small buffer, until both are
 * full, OpenSSL would block or READ_PER_TURN bytes came in. Same returns as read_some. */
int st_conn__tls_read_some(st_conn *c)
{
    size_t total = 0;
    while (total < READ_PER_TURN) {
        uint8_t *dst;
        size_t room;
        bool to_big = c->big && c->big_have < c->big_len;
        if (to_big) {
            size_t allowed = st_conn__large_read_allowance(c);
            if (allowed == 0)
                return 0; /* next turn; st_conn__leave re-arms a read if OpenSSL holds bytes */
            if (!st_conn__big_room(c))
                return 0; /* waiting for the budget */
            dst = c->big + c->big_have;
            room = c->big_cap - c->big_have;
            if (room > allowed)
                room = allowed;
        } else if (c->rend < RBUF_SIZE) {
            dst = c->rbuf + c->rend;
            room = RBUF_SIZE - c->rend;
        } else {
            return 0;
        }
        if (room > READ_PER_TURN - total)
            room = READ_PER_TURN - total;
        char why[300];
        ssize_t n = st_tls_read(c->tls, dst, room, &c->tls_read_want, why, sizeof why);
        if (n == 0)
            return 0;
        if (n < 0) {
            st_conn__close_at(c, ST_LOG_INFO, why);
            return -1;
        }
        c->last_active_ms = st_loop_now_ms(c->s->loop);
        total += (size_t)n;
        if (to_big) {
            c->big_have += (size_t)n;
            st_conn__large_read_done(c, (size_t)n);
        } else
            c->rend += (size_t)n;
    }
    return 0;
}
