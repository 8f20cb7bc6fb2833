/*
 * Listeners and connections: Kafka framing over non-blocking TCP on an st_loop.
 *
 * Reading (conn_read.c): a connection has one small buffer of fixed size (RBUF_SIZE),
 * held only while bytes of it are unconsumed: a connection that sent its requests and
 * went quiet holds none, and the server keeps one spare so that the usual read (whole
 * frames, all handed over) allocates nothing. Small
 * frames are parsed out of it, many per read, and each is copied into its own allocation
 * for on_request. A frame of LARGE_FRAME bytes or more (Produce requests are typically
 * ~1 MB) gets its own buffer once its size prefix is seen, sized by what has arrived
 * rather than by what was announced and grown as the rest comes (within the budget for
 * partly read requests); the bytes already buffered are moved into it once, the rest is
 * read straight into it, and it is handed to on_request as is. The read that finishes it
 * is a readv into [rest of the frame, small buffer], so the next frame's head comes in
 * the same syscall. Each connection gets a bounded share of every loop turn (bytes read,
 * frames handed over), so one busy peer cannot delay the others.
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
 * Every entry point that can run callbacks brackets itself with st_conn__enter/__leave.
 * The outermost st_conn__leave flushes the output queue, updates the epoll interest and
 * frees a connection that was closed meanwhile, so st_conn_close is safe anywhere.
 *
 * File ranges go out with sendfile(2), which cannot be told MSG_NOSIGNAL: the process
 * must ignore SIGPIPE (memory parts use sendmsg with MSG_NOSIGNAL).
 *
 * Connections also end by themselves: after limits.idle_ms without I/O, and on an
 * authenticating listener when not authenticated limits.auth_timeout_ms after accept
 * (both with one lazily re-armed timer each, no work per byte).
 *
 * Files: conn.c (this: connections, responses, writing), conn_read.c (reading, framing,
 * fair share, budget), conn_tls.c (the TLS path), listen.c (listeners, accepting, the
 * connection caps); conn_int.h holds what they share.
 *
 * TLS connections (a listener with an st_tls_ctx) read and write through broker/net/tls.h
 * instead: the same buffers and cursors, but file ranges are copied through a buffer
 * (pread, then encrypt) since the kernel cannot encrypt for us. OpenSSL may hold
 * decrypted bytes the socket no longer signals, so st_conn__leave re-arms a read for them.
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
    c->rstart = c->rend = 0;
    st_conn__rbuf_release(c);
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
    st_timer_stop(s->loop, &c->idle_timer);
    st_timer_stop(s->loop, &c->auth_timer);
    st_conn__budget_release(c);
    st_ip_counts_dec(s->per_ip, &c->ip);
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

void st_conn__enter(st_conn *c)
{
    c->depth++;
}

static void flush(st_conn *c);
static void update_watch(st_conn *c);

/* Leaves a callback scope; the outermost one sends what was queued and frees a
 * connection closed meanwhile. Do not touch c after this. */
void st_conn__leave(st_conn *c)
{
    if (c->depth == 1 && !c->closed) {
        flush(c);
        if (!c->closed && c->close_reason && !c->out_head)
            st_conn__close_at(c, ST_LOG_INFO, c->close_reason);
        if (!c->closed)
            update_watch(c);
        /* Decrypted bytes waiting inside OpenSSL raise no epoll event: read them from
         * the next loop iteration (resume_timer_cb reads for TLS connections). */
        if (!c->closed && c->tls && st_conn__reading(c) && st_tls_pending(c->tls) &&
            !st_timer_armed(&c->resume_timer))
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
        c->last_active_ms = st_loop_now_ms(c->s->loop);
    }
}

bool st_conn__reading(const st_conn *c)
{
    return !c->held && !c->muted && !c->out_head && !c->close_reason && !c->budget_wait &&
           !c->deferred;
}

static void conn_io(st_loop *loop, int fd, uint32_t events, void *arg);

static void update_watch(st_conn *c)
{
    uint32_t want = 0;
    bool reading = st_conn__reading(c);
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
     * half-close while waiting for an answer, so a read hang-up means gone. The same
     * for a connection paused for the budget. */
    if (c->held || c->muted || c->budget_wait || c->deferred)
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

/* ---- connections: reading (conn_read.c reads and frames) ---- */

static void conn_io(st_loop *loop, int fd, uint32_t events, void *arg)
{
    st_conn *c = arg;
    st_conn__enter(c);
    if (events & EPOLLERR) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        char why[160];
        snprintf(why, sizeof why, "socket error: %s", strerror(soerr ? soerr : EIO));
        st_conn__close_at(c, soerr == ECONNRESET || soerr == EPIPE ? ST_LOG_DEBUG : ST_LOG_INFO,
                          why);
    } else if (((events & (EPOLLIN | EPOLLHUP)) && (c->watched & EPOLLIN) && !c->out_head &&
                !c->budget_wait && !c->deferred) ||
               (c->tls && (events & EPOLLOUT) && c->tls_read_want == ST_TLS_WANT_WRITE &&
                !c->out_head)) {
        if (st_conn__read_some(c) == 0)
            st_conn__process_frames(c);
    } else if (events & (EPOLLHUP | EPOLLRDHUP)) {
        st_conn__close_at(c, ST_LOG_DEBUG, "peer hung up");
    }
    /* EPOLLOUT needs nothing here: st_conn__leave flushes. */
    st_conn__leave(c);
}

static void resume_timer_cb(st_loop *loop, st_timer *t)
{
    st_conn *c = CONTAINER(t, st_conn, resume_timer);
    st_conn__enter(c);
    st_conn__process_frames(c);
    /* TLS: bytes OpenSSL already decrypted never wake epoll (see st_conn__leave). */
    if (!c->closed && c->tls && st_conn__reading(c) && st_tls_pending(c->tls) &&
        st_conn__read_some(c) == 0)
        st_conn__process_frames(c);
    st_conn__leave(c);
}

/* Ends a hold; buffered frames are handed over from the next loop iteration. */
static void unhold(st_conn *c)
{
    c->resumed = true;
    if (!c->held)
        return;
    c->held = false;
    if (c->rend > c->rstart || (c->big && c->big_have == c->big_len))
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
    st_conn__enter(c);
    st_conn__leave(c); /* sends now unless a callback of c is on the stack (it will) */
}

static void mute_timer_cb(st_loop *loop, st_timer *t)
{
    st_conn *c = CONTAINER(t, st_conn, mute_timer);
    c->muted = false;
    st_conn__enter(c);
    st_conn__process_frames(c); /* frames that arrived before the mute */
    st_conn__leave(c);          /* watches the socket again */
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
    st_conn__enter(c);
    st_conn__leave(c);
}

void st_conn_close_after_send(st_conn *c, const char *reason)
{
    if (c->closed || c->close_reason)
        return;
    c->close_reason = strdup(reason ? reason : "closing after the last answer");
    if (!c->close_reason)
        abort();
    st_conn__enter(c);
    st_conn__leave(c); /* closes now if nothing is queued (unless a callback is on the stack) */
}

void st_conn_send_and_close(st_conn *c, st_resp *r, const char *reason)
{
    if (c->closed) {
        st_resp_free(r);
        return;
    }
    st_conn__enter(c);
    st_conn_send(c, r); /* queued; sent by the st_conn__leave below, not inside */
    if (!c->closed && !c->close_reason) {
        c->close_reason = strdup(reason ? reason : "closing after the last answer");
        if (!c->close_reason)
            abort();
    }
    st_conn__leave(c);
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
    st_conn__enter(c);
    st_conn__leave(c);
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

/* ---- timeouts ---- */

/* connections.max.idle.ms: fires idle_ms after the connection started or last fired;
 * closes it if nothing was read or written since idle_ms ago, else re-arms for the rest.
 * A connection waiting for us (an answer held, a throttle, the budget) is not idle. */
static void idle_timer_cb(st_loop *loop, st_timer *t)
{
    st_conn *c = CONTAINER(t, st_conn, idle_timer);
    st_server *s = c->s;
    int64_t now = st_loop_now_ms(loop);
    int64_t due = c->last_active_ms + s->lim.idle_ms;
    if (c->held || c->muted || c->budget_wait || c->deferred) {
        c->last_active_ms = now;
        due = now + s->lim.idle_ms;
    }
    if (now < due) {
        st_timer_start(loop, t, due - now);
        return;
    }
    s->stats.closed_idle++;
    net_log(&s->logs.idle, ST_LOG_INFO,
            "closing %s: idle for %lld ms (connections.max.idle.ms = %lld)", c->peer,
            (long long)(now - c->last_active_ms), (long long)s->lim.idle_ms);
    st_conn__enter(c);
    st_conn__close_at(c, ST_LOG_DEBUG, "idle (connections.max.idle.ms)");
    st_conn__leave(c);
}

/* The authentication deadline of a connection on an authenticating listener. */
static void auth_timer_cb(st_loop *loop, st_timer *t)
{
    st_conn *c = CONTAINER(t, st_conn, auth_timer);
    st_server *s = c->s;
    if (c->authenticated)
        return;
    s->stats.closed_auth_timeout++;
    net_log(&s->logs.auth_timeout, ST_LOG_WARN,
            "closing %s: not authenticated within %lld ms of connecting (%s; "
            "socket.auth_timeout_ms)",
            c->peer, (long long)s->lim.auth_timeout_ms,
            c->tls ? "TLS handshake and SASL exchange" : "SASL exchange");
    st_conn__enter(c);
    st_conn__close_at(c, ST_LOG_DEBUG, "authentication deadline");
    st_conn__leave(c);
}

void st_conn_set_authenticated(st_conn *c)
{
    if (c->closed || c->authenticated)
        return;
    c->authenticated = true;
    st_timer_stop(c->s->loop, &c->auth_timer);
}

bool st_conn_authenticated(const st_conn *c)
{
    return c->authenticated;
}

/* ---- accepted connections (listen.c accepts) ---- */

void st_conn__new(listener *l, int fd, const struct sockaddr *peer, const st_ip *ip)
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
    c->idle_timer.cb = idle_timer_cb;
    c->auth_timer.cb = auth_timer_cb;
    c->tag = l->tag;
    c->lport = l->port;
    c->ip = *ip;
    c->authenticated = !l->authenticate;
    c->last_active_ms = st_loop_now_ms(s->loop);
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
    s->stats.accepted++;
    st_ip_counts_inc(s->per_ip, ip);
    if (s->lim.idle_ms > 0)
        st_timer_start(s->loop, &c->idle_timer, s->lim.idle_ms);
    if (!c->authenticated && s->lim.auth_timeout_ms > 0)
        st_timer_start(s->loop, &c->auth_timer, s->lim.auth_timeout_ms);
    st_debug("accepted connection %llu from %s", (unsigned long long)c->id, c->peer);
}
