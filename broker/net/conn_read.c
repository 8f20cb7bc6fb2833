/*
 * The reading side of a connection (see conn.c's header for the whole picture): one read
 * at a time into the small buffer and the large frame in progress, frames handed to
 * on_request, and the two things that keep one peer from costing everyone else:
 *
 * - Fair service. Per connection and loop turn, one read of at most READ_PER_TURN bytes
 *   and at most REQUESTS_PER_TURN frames handed over; per server and turn, at most
 *   LARGE_READ_BYTES_PER_TURN bytes read into large frames, and large frames handed over
 *   only while the turn has spent under HANDLER_US_PER_TURN in on_request (the first one
 *   always goes). A whole large frame that misses its turn waits in a queue, first come
 *   first served, and the deferred pass at the start of the next turn hands it over
 *   before any newer one. What is left waits for the next turn (resume timer, deferred
 *   pass, or the socket still being readable), after every other connection had its
 *   share. Small frames (a Metadata request) are never deferred, so they are answered
 *   within about one short turn however many producers flood the broker.
 *
 * - Memory. A large frame's buffer is allocated as its bytes arrive (BIG_FIRST, growing
 *   BIG_GROWTH-fold, never past the announced size), not as the 4-byte prefix announces,
 *   and before authentication only frames up to max_unauth_request_bytes are taken at
 *   all. Every large-frame buffer is charged to a broker-wide budget
 *   (queued_max_request_bytes), of which connections not yet authenticated may hold only
 *   a share (1/UNAUTH_BUDGET_DIVISOR): peers that never log in cannot fill it and pause
 *   the producers that did. A connection that needs more when the budget (or its class's
 *   share) is spent waits, not reading, first come first served within its class, and is
 *   woken when a frame completes or a connection closes. In each class the connection
 *   that started its frame first may always grow, so some frame always completes: the
 *   budget can be exceeded by at most one frame of each class, and never deadlocks.
 *
 *   A connection's budget states:
 *
 *     (none) --frame >= LARGE_FRAME, budget has room--> reader --frame whole--> (none)
 *        |                                               |  ^
 *        +--budget spent--> waiter <--budget spent, to grow-+  |
 *                             +--woken (resume timer): retries--+
 *
 * Loop thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "broker/net/conn_int.h"
#include "common/clock.h"

/* ---- the budget for partly read requests ---- */

static budget_class *class_of(const st_conn *c)
{
    return &c->s->budget[c->budget_unauth ? BUDGET_UNAUTHENTICATED : BUDGET_AUTHENTICATED];
}

static void readers_append(st_conn *c)
{
    budget_class *b = class_of(c);
    c->rprev = b->readers_tail;
    c->rnext = NULL;
    if (b->readers_tail)
        b->readers_tail->rnext = c;
    else
        b->readers_head = c;
    b->readers_tail = c;
    c->reading_big = true;
}

static void readers_remove(st_conn *c)
{
    if (!c->reading_big)
        return;
    budget_class *b = class_of(c);
    if (c->rprev)
        c->rprev->rnext = c->rnext;
    else
        b->readers_head = c->rnext;
    if (c->rnext)
        c->rnext->rprev = c->rprev;
    else
        b->readers_tail = c->rprev;
    c->rprev = c->rnext = NULL;
    c->reading_big = false;
}

static void waiters_remove(st_conn *c)
{
    if (!c->budget_wait)
        return;
    budget_class *b = class_of(c);
    if (c->wprev)
        c->wprev->wnext = c->wnext;
    else
        b->waiters_head = c->wnext;
    if (c->wnext)
        c->wnext->wprev = c->wprev;
    else
        b->waiters_tail = c->wprev;
    c->wprev = c->wnext = NULL;
    c->budget_wait = false;
    c->s->stats.budget_waiting--;
}

/* Would n more bytes fit, for class b, counting bytes already handed to woken waiters
 * (`promised` of them in all, `promised_here` to b's)? Both the whole budget and b's
 * share must have room. */
static bool budget_fits(const st_server *s, const budget_class *b, size_t promised,
                        size_t promised_here, size_t n)
{
    size_t limit = s->lim.queued_max_request_bytes;
    size_t used = s->queued_bytes + promised;
    if (used > limit || n > limit - used)
        return false;
    size_t used_here = b->bytes + promised_here;
    return used_here <= b->limit && n <= b->limit - used_here;
}

/* Charges n bytes of large-frame buffer to the budget for c, in its class. False when c
 * must wait: it is then queued (a connection that was just woken keeps its place at the
 * front). */
static bool budget_take(st_conn *c, size_t n)
{
    st_server *s = c->s;
    budget_class *b = class_of(c);
    bool woken = c->budget_woken;
    c->budget_woken = false;
    /* The oldest reader of the class always may (progress is guaranteed); nobody of the
     * class reading means nothing of it would ever be freed, so its first frame may too.
     * Others wait their turn behind earlier waiters of their class. */
    bool first = b->readers_head == c || b->readers_head == NULL;
    if (first || ((woken || !b->waiters_head) && budget_fits(s, b, 0, 0, n))) {
        s->queued_bytes += n;
        b->bytes += n;
        return true;
    }
    c->budget_wait = true;
    c->budget_need = n;
    if (woken) {
        c->wprev = NULL;
        c->wnext = b->waiters_head;
        if (b->waiters_head)
            b->waiters_head->wprev = c;
        else
            b->waiters_tail = c;
        b->waiters_head = c;
    } else {
        c->wnext = NULL;
        c->wprev = b->waiters_tail;
        if (b->waiters_tail)
            b->waiters_tail->wnext = c;
        else
            b->waiters_head = c;
        b->waiters_tail = c;
    }
    s->stats.budget_waits++;
    s->stats.budget_waiting++;
    if (c->budget_unauth)
        net_log(&s->logs.budget, ST_LOG_INFO,
                "%s: reading paused: partly read requests of connections not yet "
                "authenticated hold %zu bytes, their share (1/%d) of queued.max.request.bytes "
                "(%zu), %zu more needed; it resumes as they complete",
                c->peer, b->bytes, UNAUTH_BUDGET_DIVISOR, s->lim.queued_max_request_bytes, n);
    else
        net_log(&s->logs.budget, ST_LOG_INFO,
                "%s: reading paused: partly read requests hold %zu bytes of "
                "queued.max.request.bytes (%zu), %zu more needed; it resumes as they complete",
                c->peer, s->queued_bytes, s->lim.queued_max_request_bytes, n);
    return false;
}

static void wake(st_conn *w)
{
    waiters_remove(w);
    w->budget_woken = true;
    st_timer_start(w->s->loop, &w->resume_timer, 0);
}

/* Wakes waiters, first come first served within each class, while what they asked for
 * fits (the authenticated first: room freed goes to them before the others). Each
 * retries from its resume timer, i.e. from the next loop turn, never from inside the
 * callback of the connection that freed the room. */
static void budget_wake(st_server *s)
{
    size_t promised = 0;
    for (int k = 0; k < BUDGET_CLASSES; k++) {
        budget_class *b = &s->budget[k];
        size_t promised_here = 0;
        /* The oldest reader may always grow, but it may have queued to grow while it was
         * not the oldest yet, behind waiters that do not fit: it goes first, whatever the
         * room, or nothing of its class would ever be freed again. */
        st_conn *oldest = b->readers_head;
        if (oldest && oldest->budget_wait) {
            promised += oldest->budget_need;
            promised_here += oldest->budget_need;
            wake(oldest);
        }
        while (b->waiters_head) {
            st_conn *w = b->waiters_head;
            bool nobody_reading = b->readers_head == NULL && promised_here == 0;
            if (!nobody_reading && !budget_fits(s, b, promised, promised_here, w->budget_need))
                break;
            promised += w->budget_need;
            promised_here += w->budget_need;
            wake(w);
        }
    }
}

/* c's large frame is whole (or c is closing): its buffer leaves the budget. */
static void budget_done(st_conn *c)
{
    st_server *s = c->s;
    if (!c->reading_big)
        return;
    s->queued_bytes -= c->big_cap;
    class_of(c)->bytes -= c->big_cap;
    readers_remove(c);
    budget_wake(s);
}

/* ---- the turn's share ---- */

static void deferred_remove(st_server *s, st_conn *c)
{
    if (!c->deferred)
        return;
    if (c->dprev)
        c->dprev->dnext = c->dnext;
    else
        s->deferred_head = c->dnext;
    if (c->dnext)
        c->dnext->dprev = c->dprev;
    else
        s->deferred_tail = c->dprev;
    c->dprev = c->dnext = NULL;
    c->deferred = false;
}

/* Queues c's whole large frame for a later turn: at the front when it was already first
 * in line (it keeps its place), else at the back. */
static void defer(st_server *s, st_conn *c, bool front)
{
    c->deferred = true;
    if (front) {
        c->dprev = NULL;
        c->dnext = s->deferred_head;
        if (s->deferred_head)
            s->deferred_head->dprev = c;
        else
            s->deferred_tail = c;
        s->deferred_head = c;
    } else {
        c->dnext = NULL;
        c->dprev = s->deferred_tail;
        if (s->deferred_tail)
            s->deferred_tail->dnext = c;
        else
            s->deferred_head = c;
        s->deferred_tail = c;
    }
    if (!st_timer_armed(&s->deferred_timer))
        st_timer_start(s->loop, &s->deferred_timer, 0);
}

static void turn_refresh(st_server *s)
{
    uint64_t turn = st_loop_iteration(s->loop);
    if (s->turn != turn) {
        s->turn = turn;
        s->turn_handler_us = 0;
        s->turn_large = 0;
        s->turn_read_bytes = 0;
    }
}

size_t st_conn__large_read_allowance(st_conn *c)
{
    st_server *s = c->s;
    turn_refresh(s);
    if (s->turn_read_bytes >= LARGE_READ_BYTES_PER_TURN)
        return 0;
    size_t left = LARGE_READ_BYTES_PER_TURN - s->turn_read_bytes;
    return left < READ_PER_TURN ? left : READ_PER_TURN;
}

void st_conn__large_read_done(st_conn *c, size_t n)
{
    c->s->turn_read_bytes += n;
}

/* May c hand over a large frame in this turn? If not, it is deferred. `first_in_line`:
 * called from the deferred pass for the connection at the head. */
static bool turn_share(st_conn *c, bool first_in_line)
{
    st_server *s = c->s;
    turn_refresh(s);
    bool fits = s->turn_large == 0 || s->turn_handler_us < HANDLER_US_PER_TURN;
    /* Nobody overtakes the connections already waiting. */
    if (fits && (first_in_line || !s->deferred_head))
        return true;
    defer(s, c, first_in_line);
    return false;
}

void st_conn__deferred_timer_cb(st_loop *loop, st_timer *t)
{
    st_server *s = CONTAINER(t, st_server, deferred_timer);
    while (s->deferred_head) {
        st_conn *c = s->deferred_head;
        deferred_remove(s, c);
        c->turn_first = true;
        st_conn__enter(c);
        st_conn__process_frames(c);
        bool again = !c->closed && c->deferred;
        c->turn_first = false;
        st_conn__leave(c); /* may free c */
        if (again)
            break; /* the turn's share is spent: the rest next turn */
    }
    if (s->deferred_head && !st_timer_armed(t))
        st_timer_start(loop, t, 0);
}

void st_conn__budget_release(st_conn *c)
{
    st_server *s = c->s;
    waiters_remove(c);
    deferred_remove(s, c);
    if (c->reading_big)
        budget_done(c);
    else if (c->budget_woken)
        budget_wake(s); /* the room it was woken for goes to the next in line */
}

bool st_conn__big_room(st_conn *c)
{
    if (c->big_have < c->big_cap || c->big_cap == c->big_len)
        return true;
    size_t grown = c->big_cap > c->big_len / BIG_GROWTH ? c->big_len : c->big_cap * BIG_GROWTH;
    if (!budget_take(c, grown - c->big_cap))
        return false;
    c->big = st_conn__xalloc(c->big, grown);
    c->big_cap = grown;
    return true;
}

/* ---- frames ---- */

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
    c->turn_frames++;
    turn_refresh(s);
    int64_t t0 = st_mono_us();
    int rc = s->cb.on_request(s->ctx, c, frame, len);
    s->turn_handler_us += st_mono_us() - t0;
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

/* A size prefix the connection may not send: closes it with a log line (rate-limited
 * before authentication, where it costs an attacker nothing to repeat). */
static void refuse_size(st_conn *c, int32_t size, size_t limit)
{
    st_server *s = c->s;
    char why[200];
    if (size < 0)
        snprintf(why, sizeof why, "request size %d is negative (not Kafka framing?)", size);
    else if (c->authenticated)
        snprintf(why, sizeof why, "request of %d bytes exceeds socket.request.max.bytes (%zu)",
                 size, limit);
    else
        snprintf(why, sizeof why,
                 "request of %d bytes before authentication exceeds "
                 "sasl.server.max.receive.size (%zu)",
                 size, limit);
    if (c->authenticated) {
        st_conn__close_at(c, ST_LOG_WARN, why);
        return;
    }
    s->stats.closed_unauth_frame++;
    net_log(&s->logs.unauth_frame, ST_LOG_WARN, "closing %s: %s", c->peer, why);
    st_conn__close_at(c, ST_LOG_DEBUG, why);
}

void st_conn__process_frames(st_conn *c)
{
    st_server *s = c->s;
    uint64_t turn = st_loop_iteration(s->loop);
    if (c->turn != turn) {
        c->turn = turn;
        c->turn_frames = 0;
    }
    while (!c->held && !c->muted && !c->closed && !c->close_reason && !c->budget_wait &&
           !c->deferred) {
        if (c->turn_frames >= REQUESTS_PER_TURN) {
            /* This connection's share of the turn is used: the rest next turn. */
            if (big_ready(c) || (!c->big && c->rend - c->rstart >= 4))
                st_timer_start(s->loop, &c->resume_timer, 0);
            break;
        }
        if (c->big) {
            if (!big_ready(c))
                break; /* the rest is read straight into it */
            if (!turn_share(c, c->turn_first))
                break; /* handed over by the deferred pass of a later turn */
            s->turn_large++;
            uint8_t *frame = c->big;
            size_t len = c->big_len;
            budget_done(c);
            c->big = NULL;
            c->big_len = c->big_have = c->big_cap = 0;
            if (!deliver(c, frame, len))
                return;
            continue;
        }
        if (c->rend - c->rstart < 4)
            break;
        int32_t size = (int32_t)st_be32(c->rbuf + c->rstart);
        size_t limit =
            c->authenticated ? s->lim.max_request_bytes : s->lim.max_unauth_request_bytes;
        if (size < 0 || (size_t)size > limit) {
            refuse_size(c, size, limit);
            return;
        }
        size_t have = c->rend - c->rstart - 4;
        if ((size_t)size >= LARGE_FRAME) {
            /* Its own buffer, as large as what arrived (at least BIG_FIRST), not as
             * large as announced; the one copy of what came with the prefix. */
            size_t take = have < (size_t)size ? have : (size_t)size;
            size_t cap = take > BIG_FIRST ? take : BIG_FIRST;
            if (cap > (size_t)size)
                cap = (size_t)size;
            c->budget_unauth = !c->authenticated; /* unchanged until the frame is whole */
            if (!budget_take(c, cap))
                break; /* the prefix stays buffered until the budget has room */
            c->big = st_conn__xalloc(NULL, cap);
            c->big_cap = cap;
            c->big_len = (size_t)size;
            c->big_have = take;
            readers_append(c);
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
        st_conn__rbuf_release(c);
    } else if (c->rstart > 0) {
        /* Move what is left to the front so the rest of a partial frame fits. Unless
         * held (or out of turn), that is one partial small frame (under LARGE_FRAME + 4
         * bytes), so the move is short and the room after it enough. */
        memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
        c->rend -= c->rstart;
        c->rstart = 0;
    }
}

/* ---- reading ---- */

void st_conn__rbuf_release(st_conn *c)
{
    st_server *s = c->s;
    if (!c->rbuf || c->rend > c->rstart)
        return;
    if (s->spare_rbuf)
        free(c->rbuf);
    else
        s->spare_rbuf = c->rbuf;
    c->rbuf = NULL;
    c->rstart = c->rend = 0;
    s->stats.read_buffers--;
}

int st_conn__read_some(st_conn *c)
{
    if (!c->rbuf) {
        st_server *s = c->s;
        c->rbuf = s->spare_rbuf ? s->spare_rbuf : st_conn__xalloc(NULL, RBUF_SIZE);
        s->spare_rbuf = NULL;
        s->stats.read_buffers++;
    }
    if (c->tls)
        return st_conn__tls_read_some(c);
    /* process_frames left the unconsumed bytes at the front (rstart == 0). */
    struct iovec iov[2];
    int niov = 0;
    size_t big_want = 0;
    bool whole_rest = true; /* the big iov holds all the frame still lacks */
    if (c->big && c->big_have < c->big_len) {
        size_t allowed = st_conn__large_read_allowance(c);
        if (allowed == 0)
            return 0; /* the turn's reading is done: next turn (the socket stays readable) */
        if (!st_conn__big_room(c))
            return 0; /* waiting for the budget */
        big_want = c->big_cap - c->big_have;
        if (big_want > allowed)
            big_want = allowed;
        whole_rest = c->big_have + big_want == c->big_len;
        iov[niov++] = (struct iovec){c->big + c->big_have, big_want};
    }
    /* The next frame's head may come in the same call, but only behind the whole rest of
     * this one: bytes past a partial iov belong to the frame, not the small buffer. */
    if (whole_rest && c->rend < RBUF_SIZE)
        iov[niov++] = (struct iovec){c->rbuf + c->rend, RBUF_SIZE - c->rend};
    if (niov == 0)
        return 0; /* only whole frames buffered: process them before reading more */
    ssize_t n = niov == 1 ? read(c->fd, iov[0].iov_base, iov[0].iov_len) : readv(c->fd, iov, niov);
    if (n > 0) {
        size_t got = (size_t)n;
        size_t to_big = got < big_want ? got : big_want;
        c->big_have += to_big;
        st_conn__large_read_done(c, to_big);
        c->rend += got - to_big;
        c->last_active_ms = st_loop_now_ms(c->s->loop);
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
