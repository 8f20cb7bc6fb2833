/*
 * Listeners and connections: Kafka framing over non-blocking TCP on an st_loop.
 *
 * Reading: a connection has one small buffer of fixed size (RBUF_SIZE, allocated on the
 * first read, so a connection that never sends costs nothing). Small frames are parsed
 * out of it, many per read, and each is copied into its own allocation for on_request.
 * A frame of LARGE_FRAME bytes or more (Produce requests are typically ~1 MB) gets an
 * exactly-sized buffer as soon as its size prefix is seen: the bytes already buffered
 * are moved into it once, the rest is read straight into it, and it is handed to
 * on_request as is. That read is a readv into [rest of the frame, small buffer], so the
 * next frame's head comes in the same syscall. Nothing grows and shrinks per request:
 * a buffer resized for every big frame means fresh pages mapped and faulted in, plus a
 * copy, for every megabyte received.
 *
 * Whole frames go to on_request one at a time. A connection is in one of these states:
 *
 *   reading --on_request returns ST_CONN_WAIT--> held --st_conn_send/resume--> reading
 *      \                                           |
 *       +------ error, EOF, oversized frame, st_conn_close ------> closed (freed when
 *                                                   no callback of it is on the stack)
 *
 * While held, neither the socket nor the buffered frames are read; buffered frames are
 * picked up by a zero-delay timer after the resume, so a resume issued from inside some
 * other connection's callback never re-enters request handling. The socket is also not
 * read while responses are queued behind a full socket buffer: a client that pipelines
 * without reading its answers gets TCP backpressure, not an ever-growing queue.
 *
 * Every entry point that can run callbacks brackets itself with conn_enter/conn_leave.
 * The outermost conn_leave flushes the output queue, updates the epoll interest and
 * frees a connection that was closed meanwhile, so st_conn_close is safe anywhere.
 *
 * File ranges go out with sendfile(2), which cannot be told MSG_NOSIGNAL: the process
 * must ignore SIGPIPE (memory parts use sendmsg with MSG_NOSIGNAL).
 *
 * Files: conn.c (this: connections, framing, responses), conn_tls.c (the TLS path),
 * listen.c (listeners and accepting); conn_int.h holds what they share.
 *
 * TLS connections (a listener with an st_tls_ctx) read and write through broker/net/tls.h
 * instead: the same buffers and cursors, but file ranges are copied through a buffer
 * (pread, then encrypt) since the kernel cannot encrypt for us. OpenSSL may hold
 * decrypted bytes the socket no longer signals, so conn_leave re-arms a read for them.
 */
#include "broker/net/conn.h"

#include "broker/net/conn_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/logging.h"

void *st_conn__xalloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "out of memory in the connection layer (%zu bytes)\n", n);
        abort();
    }
    return q;
}

static void format_addr(const struct sockaddr *sa, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
        snprintf(out, outlen, "%s:%d", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        snprintf(out, outlen, "[%s]:%d", ip, port);
    } else {
        snprintf(out, outlen, "unknown-address");
    }
}

/* ---- responses ---- */

st_resp *st_resp_new(int32_t correlation_id, bool flexible_header)
{
    st_resp *r = st_conn__xalloc(NULL, sizeof *r);
    memset(r, 0, sizeof *r);
    st_buf_reserve(&r->buf, RESP_INITIAL);
    st_buf_put_i32(&r->buf, 0); /* frame size, patched by st_conn_send */
    st_buf_put_i32(&r->buf, correlation_id);
    if (flexible_header)
        st_buf_put_i8(&r->buf, 0); /* response header v1: no tagged fields */
    return r;
}

st_buf *st_resp_buf(st_resp *r)
{
    return &r->buf;
}

void st_resp_add_file(st_resp *r, st_fileref *f, int64_t pos, size_t len)
{
    if (len == 0)
        return; /* nothing to send; keeps the send cursor free of empty parts */
    if (r->nparts == r->parts_cap) {
        r->parts_cap = r->parts_cap ? r->parts_cap * 2 : 4;
        r->parts = st_conn__xalloc(r->parts, r->parts_cap * sizeof *r->parts);
    }
    r->parts[r->nparts++] = (file_part){r->buf.len, st_fileref_ref(f), pos, len};
    r->file_bytes += len;
}

size_t st_resp_size(const st_resp *r)
{
    return r->buf.len - 4 + r->file_bytes;
}

void st_resp_free(st_resp *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nparts; i++)
        st_fileref_unref(r->parts[i].f);
    free(r->parts);
    st_buf_free(&r->buf);
    free(r);
}

/* End of the memory run the cursor is in (the next file part, or the buffer's end). */
size_t st_conn__mem_end(const st_resp *r)
{
    return r->part < r->nparts ? r->parts[r->part].at : r->buf.len;
}

static bool in_file_part(const st_resp *r)
{
    return r->part < r->nparts && r->mem_off == r->parts[r->part].at;
}

static bool resp_done(const st_resp *r)
{
    return r->part == r->nparts && r->mem_off == r->buf.len;
}

/* ---- connections: lifecycle ---- */

static void conn_free(st_conn *c)
{
    free(c->close_reason);
    free(c->rbuf);
    free(c->big);
    free(c);
}

static void drop_output(st_conn *c)
{
    st_resp *r = c->out_head;
    while (r) {
        st_resp *next = r->next;
        st_resp_free(r);
        r = next;
    }
    c->out_head = c->out_tail = NULL;
}

/* Logs `reason` (when not NULL) at `level`, then closes as conn.h describes. */
void st_conn__close_at(st_conn *c, enum st_log_level level, const char *reason)
{
    if (c->closed)
        return;
    c->closed = true;
    if (reason && st_logging_enabled(level))
        st_logging_write(level, __FILE__, __LINE__, "closing %s: %s", c->peer, reason);
    st_server *s = c->s;
    st_loop_unwatch(s->loop, c->fd);
    st_timer_stop(s->loop, &c->resume_timer);
    st_timer_stop(s->loop, &c->mute_timer);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->nconns--;
    if (s->cb.on_close)
        s->cb.on_close(s->ctx, c);
    st_tls_free(c->tls);
    c->tls = NULL;
    close(c->fd);
    c->fd = -1;
    drop_output(c);
    if (c->depth == 0)
        conn_free(c);
}

void st_conn_close(st_conn *c, const char *reason)
{
    st_conn__close_at(c, ST_LOG_INFO, reason);
}

static void conn_enter(st_conn *c)
{
    c->depth++;
}

static void flush(st_conn *c);
static void update_watch(st_conn *c);

/* Leaves a callback scope; the outermost one sends what was queued and frees a
 * connection closed meanwhile. Do not touch c after this. */
static void conn_leave(st_conn *c)
{
    if (c->depth == 1 && !c->closed) {
        flush(c);
        if (!c->closed && c->close_reason && !c->out_head)
            st_conn__close_at(c, ST_LOG_INFO, c->close_reason);
        if (!c->closed)
            update_watch(c);
        /* Decrypted bytes waiting inside OpenSSL raise no epoll event: read them from
         * the next loop iteration (resume_timer_cb reads for TLS connections). */
        if (!c->closed && c->tls && !c->held && !c->muted && !c->out_head && !c->close_reason &&
            st_tls_pending(c->tls) && !st_timer_armed(&c->resume_timer))
            st_timer_start(c->s->loop, &c->resume_timer, 0);
    }
    if (--c->depth == 0 && c->closed)
        conn_free(c);
}

/* ---- connections: writing ---- */

void st_conn__pop_done(st_conn *c)
{
    while (c->out_head && resp_done(c->out_head)) {
        st_resp *r = c->out_head;
        c->out_head = r->next;
        if (!c->out_head)
            c->out_tail = NULL;
        st_resp_free(r);
    }
}

/* Sends from the file part the head response is in. Returns 1 to go on, 0 when the
 * socket is full, -1 when the connection was closed. */
static int send_file_part(st_conn *c, st_resp *r)
{
    if (c->tls)
        return st_conn__tls_send_file_part(c, r);
    file_part *p = &r->parts[r->part];
    size_t left = p->len - r->file_off;
    off_t off = (off_t)(p->pos + (int64_t)r->file_off);
    ssize_t n = sendfile(c->fd, p->f->fd, &off, left > SENDFILE_MAX ? SENDFILE_MAX : left);
    if (n < 0) {
        if (errno == EINTR)
            return 1;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        char why[160];
        snprintf(why, sizeof why, "sendfile failed: %s", strerror(errno));
        st_conn__close_at(c, ST_LOG_INFO, why);
        return -1;
    }
    if (n == 0) {
        char why[200];
        snprintf(why, sizeof why,
                 "file range ended %zu bytes early at offset %lld (file truncated while a "
                 "response was queued)",
                 left, (long long)off);
        st_conn__close_at(c, ST_LOG_WARN, why);
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

/* Advances the send cursors over n bytes of memory runs just written. */
void st_conn__consume_memory(st_conn *c, size_t n)
{
    size_t left = n;
    while (left > 0) {
        st_resp *q = c->out_head;
        size_t take = st_conn__mem_end(q) - q->mem_off;
        if (take > left)
            take = left;
        q->mem_off += take;
        left -= take;
        st_conn__pop_done(c);
    }
    st_conn__pop_done(c); /* responses whose last bytes were exactly this write */
}

/* Sends memory runs of as many queued responses as one sendmsg can carry, up to the
 * next file part. Same returns as send_file_part. */
static int send_memory(st_conn *c)
{
    if (c->tls)
        return st_conn__tls_send_memory(c);
    struct iovec iov[MAX_IOV];
    int niov = 0;
    int flags = MSG_NOSIGNAL;
    for (st_resp *q = c->out_head; q && niov < MAX_IOV; q = q->next) {
        size_t end = st_conn__mem_end(q);
        if (end > q->mem_off)
            iov[niov++] = (struct iovec){q->buf.data + q->mem_off, end - q->mem_off};
        if (q->part < q->nparts) {
            /* A file part follows: sendfile it before anything later. MSG_MORE lets
             * the kernel put these bytes and the file's in the same TCP segments
             * (the socket is TCP_NODELAY), so a fetch answer of many small
             * partitions is not one segment per header and one per slice. */
            flags |= MSG_MORE;
            break;
        }
    }
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
    ssize_t n = sendmsg(c->fd, &msg, flags);
    if (n < 0) {
        if (errno == EINTR)
            return 1;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        char why[160];
        snprintf(why, sizeof why, "write failed: %s", strerror(errno));
        st_conn__close_at(c, errno == EPIPE || errno == ECONNRESET ? ST_LOG_DEBUG : ST_LOG_INFO,
                          why);
        return -1;
    }
    st_conn__consume_memory(c, (size_t)n);
    return 1;
}

/* Writes queued responses until the queue is empty or the socket is full. */
static void flush(st_conn *c)
{
    while (c->out_head) {
        st_resp *r = c->out_head;
        int rc = in_file_part(r) ? send_file_part(c, r) : send_memory(c);
        if (rc <= 0)
            return;
    }
}

static void conn_io(st_loop *loop, int fd, uint32_t events, void *arg);

static void update_watch(st_conn *c)
{
    uint32_t want = 0;
    bool reading = !c->held && !c->muted && !c->out_head && !c->close_reason;
    if (reading)
        want |= EPOLLIN;
    if (c->out_head)
        want |= EPOLLOUT;
    /* TLS: a handshake step inside a read may need to write, and a write may need to
     * read; wait only for what OpenSSL asked for (watching the other direction too would
     * spin: level-triggered epoll reports it ready again and again). */
    if (c->tls && reading && c->tls_read_want == ST_TLS_WANT_WRITE)
        want = EPOLLOUT;
    if (c->tls && c->out_head && c->tls_write_want == ST_TLS_WANT_READ)
        want = EPOLLIN;
    /* A held connection reads nothing, but must still learn that its peer left: a
     * fetch parked for max_wait_ms (or a produce waiting for fsync) is then freed at
     * once instead of holding memory for a client that is gone. Kafka clients never
     * half-close while waiting for an answer, so a read hang-up means gone. */
    if (c->held || c->muted)
        want |= EPOLLRDHUP;
    if (want == c->watched)
        return;
    if (st_loop_watch(c->s->loop, c->fd, want, conn_io, c) < 0) {
        char why[160];
        snprintf(why, sizeof why, "cannot watch the socket: %s", strerror(errno));
        st_conn__close_at(c, ST_LOG_ERROR, why);
        return;
    }
    c->watched = want;
}

/* ---- connections: reading ---- */

static bool big_ready(const st_conn *c)
{
    return c->big && c->big_have == c->big_len;
}

/* Calls on_request with frame (handing it over) and applies its answer. Returns false
 * when the connection was closed. */
static bool deliver(st_conn *c, uint8_t *frame, size_t len)
{
    st_server *s = c->s;
    c->resumed = false;
    int rc = s->cb.on_request(s->ctx, c, frame, len);
    if (c->closed)
        return false;
    if (rc == ST_CONN_CLOSE) {
        st_conn__close_at(c, ST_LOG_DEBUG, "closed by the request handler");
        return false;
    }
    /* An answer sent before on_request even returned means nothing is awaited. */
    if (rc == ST_CONN_WAIT && !c->resumed)
        c->held = true;
    return true;
}

/* Hands every whole frame to on_request until the connection is held or closed, starts
 * reading a large frame whose size prefix is in, then compacts the small buffer. */
static void process_frames(st_conn *c)
{
    st_server *s = c->s;
    while (!c->held && !c->muted && !c->closed && !c->close_reason) {
        if (c->big) {
            if (!big_ready(c))
                break; /* the rest is read straight into it */
            uint8_t *frame = c->big;
            size_t len = c->big_len;
            c->big = NULL;
            c->big_len = c->big_have = 0;
            if (!deliver(c, frame, len))
                return;
            continue;
        }
        if (c->rend - c->rstart < 4)
            break;
        int32_t size = (int32_t)st_be32(c->rbuf + c->rstart);
        if (size < 0 || (size_t)size > s->max_request_bytes) {
            char why[160];
            if (size < 0)
                snprintf(why, sizeof why, "request size %d is negative (not Kafka framing?)", size);
            else
                snprintf(why, sizeof why,
                         "request of %d bytes exceeds socket.request.max.bytes (%zu)", size,
                         s->max_request_bytes);
            st_conn__close_at(c, ST_LOG_WARN, why);
            return;
        }
        size_t have = c->rend - c->rstart - 4;
        if ((size_t)size >= LARGE_FRAME) {
            /* Its own buffer now; the one copy of what arrived with the prefix. */
            size_t take = have < (size_t)size ? have : (size_t)size;
            c->big = st_conn__xalloc(NULL, (size_t)size);
            c->big_len = (size_t)size;
            c->big_have = take;
            memcpy(c->big, c->rbuf + c->rstart + 4, take);
            c->rstart += 4 + take;
            continue;
        }
        if (have < (size_t)size)
            break;
        uint8_t *frame = st_conn__xalloc(NULL, (size_t)size);
        memcpy(frame, c->rbuf + c->rstart + 4, (size_t)size);
        c->rstart += 4 + (size_t)size;
        if (!deliver(c, frame, (size_t)size))
            return;
    }
    if (c->rstart == c->rend) {
        c->rstart = c->rend = 0;
    } else if (c->rstart > 0) {
        /* Move what is left to the front so the rest of a partial frame fits. Unless
         * held, that is one partial small frame (under LARGE_FRAME + 4 bytes), so the
         * move is short and the room after it enough. */
        memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
        c->rend -= c->rstart;
        c->rstart = 0;
    }
}

/* One read: into the large frame in progress and, in the same call, the small buffer
 * behind it; else into the small buffer. Returns 0, or -1 when the connection was
 * closed. */
static int read_some(st_conn *c)
{
    if (!c->rbuf)
        c->rbuf = st_conn__xalloc(NULL, RBUF_SIZE);
    if (c->tls)
        return st_conn__tls_read_some(c);
    /* process_frames left the unconsumed bytes at the front (rstart == 0). */
    struct iovec iov[2];
    int niov = 0;
    size_t big_want = 0;
    if (c->big && c->big_have < c->big_len) {
        big_want = c->big_len - c->big_have;
        iov[niov++] = (struct iovec){c->big + c->big_have, big_want};
    }
    if (c->rend < RBUF_SIZE)
        iov[niov++] = (struct iovec){c->rbuf + c->rend, RBUF_SIZE - c->rend};
    if (niov == 0)
        return 0; /* only whole frames buffered: process them before reading more */
    ssize_t n = niov == 1 ? read(c->fd, iov[0].iov_base, iov[0].iov_len) : readv(c->fd, iov, niov);
    if (n > 0) {
        size_t got = (size_t)n;
        size_t to_big = got < big_want ? got : big_want;
        c->big_have += to_big;
        c->rend += got - to_big;
        return 0;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n == 0) {
        st_conn__close_at(c, ST_LOG_DEBUG, "peer closed the connection");
    } else {
        char why[160];
        snprintf(why, sizeof why, "read failed: %s", strerror(errno));
        st_conn__close_at(c, errno == ECONNRESET ? ST_LOG_DEBUG : ST_LOG_INFO, why);
    }
    return -1;
}

static void conn_io(st_loop *loop, int fd, uint32_t events, void *arg)
{
    st_conn *c = arg;
    conn_enter(c);
    if (events & EPOLLERR) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        char why[160];
        snprintf(why, sizeof why, "socket error: %s", strerror(soerr ? soerr : EIO));
        st_conn__close_at(c, soerr == ECONNRESET || soerr == EPIPE ? ST_LOG_DEBUG : ST_LOG_INFO,
                          why);
    } else if (((events & (EPOLLIN | EPOLLHUP)) && (c->watched & EPOLLIN) && !c->out_head) ||
               (c->tls && (events & EPOLLOUT) && c->tls_read_want == ST_TLS_WANT_WRITE &&
                !c->out_head)) {
        if (read_some(c) == 0)
            process_frames(c);
    } else if (events & (EPOLLHUP | EPOLLRDHUP)) {
        st_conn__close_at(c, ST_LOG_DEBUG, "peer hung up");
    }
    /* EPOLLOUT needs nothing here: conn_leave flushes. */
    conn_leave(c);
}

static void resume_timer_cb(st_loop *loop, st_timer *t)
{
    st_conn *c = CONTAINER(t, st_conn, resume_timer);
    conn_enter(c);
    process_frames(c);
    /* TLS: bytes OpenSSL already decrypted never wake epoll (see conn_leave). */
    if (!c->closed && c->tls && !c->held && !c->muted && !c->out_head && st_tls_pending(c->tls) &&
        read_some(c) == 0)
        process_frames(c);
    conn_leave(c);
}

/* Ends a hold; buffered frames are handed over from the next loop iteration. */
static void unhold(st_conn *c)
{
    c->resumed = true;
    if (!c->held)
        return;
    c->held = false;
    if (c->rend > c->rstart || big_ready(c))
        st_timer_start(c->s->loop, &c->resume_timer, 0);
}

void st_conn_send(st_conn *c, st_resp *r)
{
    if (c->closed) {
        st_resp_free(r);
        return;
    }
    size_t size = st_resp_size(r);
    if (size > INT32_MAX) {
        st_resp_free(r);
        char why[160];
        snprintf(why, sizeof why, "response of %zu bytes does not fit Kafka framing", size);
        st_conn__close_at(c, ST_LOG_ERROR, why);
        return;
    }
    st_buf_patch_i32(&r->buf, 0, (int32_t)size);
    r->next = NULL;
    if (c->out_tail)
        c->out_tail->next = r;
    else
        c->out_head = r;
    c->out_tail = r;
    unhold(c);
    conn_enter(c);
    conn_leave(c); /* sends now unless a callback of c is on the stack (it will) */
}

static void mute_timer_cb(st_loop *loop, st_timer *t)
{
    st_conn *c = CONTAINER(t, st_conn, mute_timer);
    c->muted = false;
    conn_enter(c);
    process_frames(c); /* frames that arrived before the mute */
    conn_leave(c);     /* watches the socket again */
}

void st_conn_mute(st_conn *c, int64_t ms)
{
    if (c->closed || ms <= 0)
        return;
    /* A longer mute already running stands; a shorter one is extended. */
    if (c->muted && st_timer_armed(&c->mute_timer) && c->mute_timer.due_ms >= st_mono_ms() + ms)
        return;
    c->muted = true;
    st_timer_start(c->s->loop, &c->mute_timer, ms);
    conn_enter(c);
    conn_leave(c);
}

void st_conn_close_after_send(st_conn *c, const char *reason)
{
    if (c->closed || c->close_reason)
        return;
    c->close_reason = strdup(reason ? reason : "closing after the last answer");
    if (!c->close_reason)
        abort();
    conn_enter(c);
    conn_leave(c); /* closes now if nothing is queued (unless a callback is on the stack) */
}

void st_conn_send_and_close(st_conn *c, st_resp *r, const char *reason)
{
    if (c->closed) {
        st_resp_free(r);
        return;
    }
    conn_enter(c);
    st_conn_send(c, r); /* queued; sent by the conn_leave below, not inside */
    if (!c->closed && !c->close_reason) {
        c->close_reason = strdup(reason ? reason : "closing after the last answer");
        if (!c->close_reason)
            abort();
    }
    conn_leave(c);
}

int st_conn_listener_tag(const st_conn *c)
{
    return c->tag;
}

int st_conn_listener_port(const st_conn *c)
{
    return c->lport;
}

void st_conn_resume(st_conn *c)
{
    if (c->closed)
        return;
    unhold(c);
    conn_enter(c);
    conn_leave(c);
}

const char *st_conn_peer(const st_conn *c)
{
    return c->peer;
}

uint64_t st_conn_id(const st_conn *c)
{
    return c->id;
}

void *st_conn_get_data(const st_conn *c)
{
    return c->data;
}

void st_conn_set_data(st_conn *c, void *data)
{
    c->data = data;
}

/* ---- accepted connections (listen.c accepts) ---- */

void st_conn__new(listener *l, int fd, const struct sockaddr *peer)
{
    st_server *s = l->s;
    int one = 1;
    /* Responses are whole frames written at once: Nagle would only delay them. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    st_conn *c = st_conn__xalloc(NULL, sizeof *c);
    memset(c, 0, sizeof *c);
    c->s = s;
    c->fd = fd;
    c->id = ++s->next_id;
    format_addr(peer, c->peer, sizeof c->peer);
    c->resume_timer.cb = resume_timer_cb;
    c->mute_timer.cb = mute_timer_cb;
    c->tag = l->tag;
    c->lport = l->port;
    if (l->tls && !(c->tls = st_tls_new(l->tls, fd))) {
        st_warn("refusing connection from %s: cannot start a TLS session", c->peer);
        close(fd);
        conn_free(c);
        return;
    }
    if (st_loop_watch(s->loop, fd, EPOLLIN, conn_io, c) < 0) {
        st_warn("refusing connection from %s: cannot watch its socket: %s", c->peer,
                strerror(errno));
        close(fd);
        conn_free(c);
        return;
    }
    c->watched = EPOLLIN;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    st_debug("accepted connection %llu from %s", (unsigned long long)c->id, c->peer);
}
