/*
 * raw_group: the group coordinator's edge cases that no client library provokes on
 * purpose, byte by byte over plain sockets (request header v1, non-flexible versions).
 *
 *   raw_group sync-timeout PORT GROUP REBALANCE_MS
 *       Two members join (JoinGroup v3, rebalance timeout REBALANCE_MS, both within the
 *       broker's initial delay). The follower sends its SyncGroup and waits; the leader
 *       never sends one but heartbeats every 500 ms (so its session never expires). The
 *       follower's SyncGroup must be answered REBALANCE_IN_PROGRESS (27) once the
 *       rebalance timeout has passed (not before REBALANCE_MS after the JoinGroups, and
 *       within REBALANCE_MS + 10 s of the SyncGroup), the leader's next heartbeat
 *       UNKNOWN_MEMBER_ID (25), and the
 *       follower, rejoining, forms the next generation alone and syncs. Prints
 *       "FIGURE ..." with the time the follower waited.
 *
 *   raw_group fenced PORT GROUP TOPIC MEMBER_ID INSTANCE_ID GENERATION
 *       MEMBER_ID is a static member's id that a newer instance with INSTANCE_ID has
 *       replaced: JoinGroup v5, Heartbeat v3, SyncGroup v3, OffsetCommit v7 (TOPIC
 *       partition 0) and LeaveGroup v3 naming it with the instance id must all answer
 *       FENCED_INSTANCE_ID (82).
 *
 *   raw_group max-size PORT GROUP MAX
 *       The broker's groups.max_size is MAX (at most 16). MAX static members join
 *       (JoinGroup v5, instance ids inst-0.., one connection each, parked in the join
 *       phase); then a new instance id, a JoinGroup v3 without member id and a v4 one
 *       asking for an id must each be answered GROUP_MAX_SIZE_REACHED (81); inst-0
 *       restarting (member id "") is not refused: it takes its own place, its old
 *       JoinGroup is answered FENCED_INSTANCE_ID (82); the join phase then ends with MAX
 *       members, every JoinGroup answered 0 in one generation.
 *
 *   raw_group static-away PORT GROUP
 *       A static member (JoinGroup v5, instance inst-away) with a rebalance timeout of 0
 *       and a dynamic one form a generation and sync; the dynamic one leaves. The static
 *       member, alone, does not rejoin: for 1.5 s it only heartbeats (answered
 *       REBALANCE_IN_PROGRESS), while the join phase waits for it (the shell counts the
 *       broker's log lines meanwhile). Then it rejoins and must be answered, in the next
 *       generation, within 5 s. Prints "FIGURE ...".
 *
 *   raw_group leave-instance PORT GROUP INSTANCE_ID
 *       LeaveGroup v3 with member id "" and INSTANCE_ID (an admin removing a static
 *       member): the member's error must be 0.
 *
 * Prints "ok: ..." per check; exits 1 at the first surprise.
 */
#include <poll.h>
#include <time.h>

#include "tests/integration/raw_util.h"

#define API_OFFSET_COMMIT 8
#define API_JOIN_GROUP    11
#define API_HEARTBEAT     12
#define API_LEAVE_GROUP   13
#define API_SYNC_GROUP    14

#define ERR_ILLEGAL_GENERATION 22
#define ERR_UNKNOWN_MEMBER     25
#define ERR_REBALANCE          27
#define ERR_GROUP_MAX_SIZE     81
#define ERR_FENCED_INSTANCE    82

static int32_t correlation;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void begin(wbuf *b, int16_t key, int16_t version)
{
    b->len = 0;
    put_i32(b, 0); /* size, patched by raw_exchange / finish */
    put_i16(b, key);
    put_i16(b, version);
    put_i32(b, ++correlation);
    put_string(b, "raw_group");
}

static void put_nullable(wbuf *b, const char *s)
{
    if (s)
        put_string(b, s);
    else
        put_i16(b, -1);
}

static void put_bytes(wbuf *b, const void *p, int32_t n)
{
    put_i32(b, n);
    if (n > 0)
        put(b, p, (size_t)n);
}

static void skip_string(raw_rd *r)
{
    int16_t n = raw_i16(r);
    if (n > 0) {
        raw_need(r, (size_t)n);
        r->p += n;
    }
}

static void skip_bytes(raw_rd *r)
{
    int32_t n = raw_i32(r);
    if (n > 0) {
        raw_need(r, (size_t)n);
        r->p += n;
    }
}

/* ---- the requests ---- */

typedef struct joined {
    int16_t error;
    int32_t generation;
    char leader[256], member_id[256];
    int32_t nmembers;
} joined;

/* JoinGroup v3 (no instance id) or v5 (instance may be NULL), protocol "range" with
 * empty subscription bytes. Sends only; read_join reads the answer. */
static void send_join(int fd, int16_t version, const char *group, const char *member_id,
                      const char *instance, int32_t rebalance_ms)
{
    wbuf b;
    begin(&b, API_JOIN_GROUP, version);
    put_string(&b, group);
    put_i32(&b, 6000); /* session timeout: the broker's minimum */
    put_i32(&b, rebalance_ms);
    put_string(&b, member_id);
    if (version >= 5)
        put_nullable(&b, instance);
    put_string(&b, "consumer");
    put_i32(&b, 1);
    put_string(&b, "range");
    put_bytes(&b, "sub", 3);
    patch_i32(&b, 0, (int32_t)(b.len - 4));
    send_all(fd, b.data, b.len, "JoinGroup");
}

static joined read_join(int fd, int16_t version, const char *what)
{
    uint8_t buf[8192], size[4];
    raw_read_full(fd, size, 4, what);
    uint32_t n =
        (uint32_t)size[0] << 24 | (uint32_t)size[1] << 16 | (uint32_t)size[2] << 8 | size[3];
    if (n < 4 || n > sizeof buf)
        fail("%s: response size %u out of range", what, n);
    raw_read_full(fd, buf, n, what);
    raw_rd r = {buf, buf + n, what};
    raw_i32(&r); /* correlation id: one request in flight per connection */
    joined j = {0};
    raw_i32(&r); /* throttle */
    j.error = raw_i16(&r);
    j.generation = raw_i32(&r);
    skip_string(&r); /* protocol */
    raw_string(&r, j.leader, sizeof j.leader);
    raw_string(&r, j.member_id, sizeof j.member_id);
    j.nmembers = raw_i32(&r);
    for (int32_t i = 0; i < j.nmembers; i++) {
        skip_string(&r);
        if (version >= 5)
            skip_string(&r);
        skip_bytes(&r);
    }
    return j;
}

/* SyncGroup v3; assignment (may be NULL) is given to `member` only. Sends only. */
static void send_sync(int fd, const char *group, int32_t generation, const char *member,
                      const char *instance, const char *assignment)
{
    wbuf b;
    begin(&b, API_SYNC_GROUP, 3);
    put_string(&b, group);
    put_i32(&b, generation);
    put_string(&b, member);
    put_nullable(&b, instance);
    put_i32(&b, assignment ? 1 : 0);
    if (assignment) {
        put_string(&b, member);
        put_bytes(&b, assignment, (int32_t)strlen(assignment));
    }
    patch_i32(&b, 0, (int32_t)(b.len - 4));
    send_all(fd, b.data, b.len, "SyncGroup");
}

/* Reads a SyncGroup answer: its error, the assignment into out. */
static int16_t read_sync(int fd, char *out, size_t cap, const char *what)
{
    uint8_t buf[4096], size[4];
    raw_read_full(fd, size, 4, what);
    uint32_t n =
        (uint32_t)size[0] << 24 | (uint32_t)size[1] << 16 | (uint32_t)size[2] << 8 | size[3];
    if (n < 4 || n > sizeof buf)
        fail("%s: response size %u out of range", what, n);
    raw_read_full(fd, buf, n, what);
    raw_rd r = {buf, buf + n, what};
    raw_i32(&r);
    raw_i32(&r);
    int16_t err = raw_i16(&r);
    int32_t len = raw_i32(&r);
    out[0] = 0;
    if (len > 0)
        raw_copy(&r, (size_t)len, out, cap);
    return err;
}

static int16_t heartbeat(int fd, const char *group, int32_t generation, const char *member,
                         const char *instance)
{
    wbuf b;
    uint8_t buf[256];
    begin(&b, API_HEARTBEAT, 3);
    put_string(&b, group);
    put_i32(&b, generation);
    put_string(&b, member);
    put_nullable(&b, instance);
    raw_rd r = raw_exchange(fd, &b, correlation, buf, sizeof buf, "Heartbeat");
    raw_i32(&r);
    return raw_i16(&r);
}

/* LeaveGroup v3 for one member; returns that member's error (the top-level must be 0). */
static int16_t leave(int fd, const char *group, const char *member, const char *instance)
{
    wbuf b;
    uint8_t buf[1024];
    begin(&b, API_LEAVE_GROUP, 3);
    put_string(&b, group);
    put_i32(&b, 1);
    put_string(&b, member);
    put_nullable(&b, instance);
    raw_rd r = raw_exchange(fd, &b, correlation, buf, sizeof buf, "LeaveGroup");
    raw_i32(&r);
    int16_t top = raw_i16(&r);
    if (top != 0)
        fail("LeaveGroup: top-level error %d, expected 0", top);
    if (raw_i32(&r) != 1)
        fail("LeaveGroup: expected one member in the answer");
    skip_string(&r);
    skip_string(&r);
    return raw_i16(&r);
}

/* OffsetCommit v7 of offset 1 for TOPIC partition 0; returns the partition's error. */
static int16_t offset_commit(int fd, const char *group, int32_t generation, const char *member,
                             const char *instance, const char *topic)
{
    wbuf b;
    uint8_t buf[1024];
    begin(&b, API_OFFSET_COMMIT, 7);
    put_string(&b, group);
    put_i32(&b, generation);
    put_string(&b, member);
    put_nullable(&b, instance);
    put_i32(&b, 1);
    put_string(&b, topic);
    put_i32(&b, 1);
    put_i32(&b, 0);  /* partition */
    put_i64(&b, 1);  /* offset */
    put_i32(&b, -1); /* leader epoch */
    put_nullable(&b, NULL);
    raw_rd r = raw_exchange(fd, &b, correlation, buf, sizeof buf, "OffsetCommit");
    raw_i32(&r);
    if (raw_i32(&r) != 1)
        fail("OffsetCommit: expected one topic");
    skip_string(&r);
    if (raw_i32(&r) != 1)
        fail("OffsetCommit: expected one partition");
    raw_i32(&r);
    return raw_i16(&r);
}

static void expect(const char *what, int got, int want)
{
    if (got != want)
        fail("%s: error %d, expected %d", what, got, want);
    printf("ok: %s: error %d\n", what, got);
}

/* ---- the scenarios ---- */

static int sync_timeout(int port, const char *group, int32_t rebalance_ms)
{
    int fa = connect_loopback(port, 30), fb = connect_loopback(port, 30);
    int64_t t_join = now_ms(); /* the sync phase cannot start before this */
    send_join(fa, 3, group, "", NULL, rebalance_ms);
    send_join(fb, 3, group, "", NULL, rebalance_ms);
    joined ja = read_join(fa, 3, "JoinGroup a"), jb = read_join(fb, 3, "JoinGroup b");
    if (ja.error || jb.error)
        fail("JoinGroup: errors %d and %d, expected 0", ja.error, jb.error);
    if (ja.generation != jb.generation || strcmp(ja.leader, jb.leader) != 0)
        fail("JoinGroup: the two members were answered different generations (%d, %d): both "
             "must join within the broker's initial rebalance delay",
             ja.generation, jb.generation);
    /* Whoever the broker made leader plays the leader that never syncs. */
    bool a_leads = strcmp(ja.leader, ja.member_id) == 0;
    int lfd = a_leads ? fa : fb, ffd = a_leads ? fb : fa;
    joined *lead = a_leads ? &ja : &jb, *follow = a_leads ? &jb : &ja;
    if (strcmp(lead->leader, lead->member_id) != 0 || follow->nmembers != 0)
        fail("JoinGroup: no leader among the two members");
    int32_t gen = lead->generation;
    printf("ok: generation %d, leader %s, follower %s\n", gen, lead->member_id, follow->member_id);

    int64_t t0 = now_ms();
    send_sync(ffd, group, gen, follow->member_id, NULL, NULL);
    int64_t next_beat = t0, deadline = t0 + rebalance_ms + 10000;
    for (;;) {
        int64_t now = now_ms();
        if (now >= deadline)
            fail("the follower's SyncGroup is still unanswered %lld ms after it was sent (the "
                 "leader heartbeats but never syncs; rebalance timeout %d ms): the group is "
                 "stuck",
                 (long long)(now - t0), rebalance_ms);
        if (now >= next_beat) {
            int16_t err = heartbeat(lfd, group, gen, lead->member_id, NULL);
            if (err != 0)
                fail("the leader's heartbeat while the follower waits: error %d, expected 0", err);
            next_beat = now + 500;
        }
        struct pollfd p = {.fd = ffd, .events = POLLIN};
        int wait = (int)(next_beat - now_ms());
        if (poll(&p, 1, wait > 0 ? wait : 0) > 0)
            break;
    }
    char assignment[64];
    int16_t err = read_sync(ffd, assignment, sizeof assignment, "the follower's SyncGroup");
    int64_t waited = now_ms() - t0;
    expect("the follower's parked SyncGroup", err, ERR_REBALANCE);
    if (now_ms() - t_join < rebalance_ms)
        fail("the follower was answered %lld ms after the JoinGroups were sent, before the "
             "rebalance timeout (%d ms) can have passed",
             (long long)(now_ms() - t_join), rebalance_ms);
    printf("FIGURE the follower's SyncGroup was answered REBALANCE_IN_PROGRESS after %lld ms "
           "(rebalance timeout %d ms; the leader heartbeated but never synced)\n",
           (long long)waited, rebalance_ms);
    expect("the leader's heartbeat after it was removed",
           heartbeat(lfd, group, gen, lead->member_id, NULL), ERR_UNKNOWN_MEMBER);

    send_join(ffd, 3, group, follow->member_id, NULL, rebalance_ms);
    joined again = read_join(ffd, 3, "the follower's JoinGroup");
    expect("the follower rejoins", again.error, 0);
    if (again.generation != gen + 1 || strcmp(again.leader, follow->member_id) != 0 ||
        again.nmembers != 1)
        fail("the follower's new generation: %d led by %s with %d member(s); expected %d led by "
             "itself, alone",
             again.generation, again.leader, again.nmembers, gen + 1);
    send_sync(ffd, group, again.generation, follow->member_id, NULL, "mine");
    expect("its SyncGroup as the new leader",
           read_sync(ffd, assignment, sizeof assignment, "SyncGroup"), 0);
    if (strcmp(assignment, "mine") != 0)
        fail("its assignment came back as \"%s\", expected \"mine\"", assignment);
    expect("the old generation's heartbeat", heartbeat(ffd, group, gen, follow->member_id, NULL),
           ERR_ILLEGAL_GENERATION);
    close(fa);
    close(fb);
    return 0;
}

static int fenced(int port, const char *group, const char *topic, const char *member,
                  const char *instance, int32_t generation)
{
    int fd = connect_loopback(port, 30);
    char assignment[64];
    send_join(fd, 5, group, member, instance, 10000);
    expect("JoinGroup v5 with the replaced member id", read_join(fd, 5, "JoinGroup").error,
           ERR_FENCED_INSTANCE);
    expect("Heartbeat v3 with it", heartbeat(fd, group, generation, member, instance),
           ERR_FENCED_INSTANCE);
    send_sync(fd, group, generation, member, instance, NULL);
    expect("SyncGroup v3 with it", read_sync(fd, assignment, sizeof assignment, "SyncGroup"),
           ERR_FENCED_INSTANCE);
    expect("OffsetCommit v7 with it", offset_commit(fd, group, generation, member, instance, topic),
           ERR_FENCED_INSTANCE);
    expect("LeaveGroup v3 with it", leave(fd, group, member, instance), ERR_FENCED_INSTANCE);
    close(fd);
    return 0;
}

static int static_away(int port, const char *group)
{
    int fa = connect_loopback(port, 30), fb = connect_loopback(port, 30);
    send_join(fa, 5, group, "", "inst-away", 0);
    send_join(fb, 3, group, "", NULL, 10000);
    joined ja = read_join(fa, 5, "JoinGroup of the static member"),
           jb = read_join(fb, 3, "JoinGroup of the dynamic member");
    if (ja.error || jb.error || ja.generation != jb.generation)
        fail("JoinGroup: errors %d and %d, generations %d and %d; expected 0 and one generation "
             "(both must join within the broker's initial rebalance delay)",
             ja.error, jb.error, ja.generation, jb.generation);
    int32_t gen = ja.generation;
    bool a_leads = strcmp(ja.leader, ja.member_id) == 0;
    int lfd = a_leads ? fa : fb, ffd = a_leads ? fb : fa;
    joined *lead = a_leads ? &ja : &jb, *follow = a_leads ? &jb : &ja;
    char assignment[64];
    send_sync(ffd, group, gen, follow->member_id, a_leads ? NULL : "inst-away", NULL);
    send_sync(lfd, group, gen, lead->member_id, a_leads ? "inst-away" : NULL, "mine");
    expect("the leader's SyncGroup", read_sync(lfd, assignment, sizeof assignment, "SyncGroup"), 0);
    expect("the follower's SyncGroup", read_sync(ffd, assignment, sizeof assignment, "SyncGroup"),
           0);
    expect("LeaveGroup of the dynamic member", leave(fb, group, jb.member_id, NULL), 0);

    int64_t end = now_ms() + 1500;
    int beats = 0;
    while (now_ms() < end) {
        expect("the static member's heartbeat while it stays away",
               heartbeat(fa, group, gen, ja.member_id, "inst-away"), ERR_REBALANCE);
        beats++;
        struct pollfd p = {.fd = fa, .events = POLLIN};
        poll(&p, 1, 250); /* nothing is expected on fa: this paces the heartbeats */
    }
    int64_t t0 = now_ms();
    send_join(fa, 5, group, ja.member_id, "inst-away", 0);
    joined again = read_join(fa, 5, "the static member's JoinGroup once back");
    int64_t waited = now_ms() - t0;
    expect("the static member rejoins", again.error, 0);
    if (again.generation != gen + 1 || strcmp(again.leader, ja.member_id) != 0)
        fail("the static member's new generation: %d led by %s; expected %d led by itself",
             again.generation, again.leader, gen + 1);
    if (waited > 5000)
        fail("the static member's JoinGroup was answered after %lld ms, expected within 5 s",
             (long long)waited);
    printf("FIGURE the static member, away for 1.5 s (%d heartbeats), rejoined generation %d in "
           "%lld ms\n",
           beats, again.generation, (long long)waited);
    close(fa);
    close(fb);
    return 0;
}

static int max_size(int port, const char *group, int max)
{
    if (max < 1 || max > 16)
        fail("max-size: MAX must be 1..16, got %d", max);
    int fds[16];
    char instance[32];
    for (int i = 0; i < max; i++) {
        fds[i] = connect_loopback(port, 30);
        snprintf(instance, sizeof instance, "inst-%d", i);
        send_join(fds[i], 5, group, "", instance, 10000);
    }
    int extra = connect_loopback(port, 30);
    snprintf(instance, sizeof instance, "inst-%d", max);
    send_join(extra, 5, group, "", instance, 10000);
    expect("JoinGroup v5 of one more static instance", read_join(extra, 5, "JoinGroup").error,
           ERR_GROUP_MAX_SIZE);
    send_join(extra, 3, group, "", NULL, 10000);
    expect("JoinGroup v3 of a new dynamic member", read_join(extra, 3, "JoinGroup").error,
           ERR_GROUP_MAX_SIZE);
    send_join(extra, 4, group, "", NULL, 10000);
    joined j4 = read_join(extra, 4, "JoinGroup");
    expect("JoinGroup v4 asking for a member id", j4.error, ERR_GROUP_MAX_SIZE);
    if (j4.member_id[0])
        fail("the refused JoinGroup v4 was handed member id %s", j4.member_id);

    int again = connect_loopback(port, 30);
    send_join(again, 5, group, "", "inst-0", 10000);
    expect("inst-0's first JoinGroup, once inst-0 restarted",
           read_join(fds[0], 5, "JoinGroup").error, ERR_FENCED_INSTANCE);
    close(fds[0]);
    fds[0] = again;
    int32_t generation = -1, listed = -1;
    for (int i = 0; i < max; i++) {
        joined j = read_join(fds[i], 5, "a parked JoinGroup");
        if (j.error || (generation >= 0 && j.generation != generation))
            fail("member %d: JoinGroup error %d generation %d; expected 0 in generation %d", i,
                 j.error, j.generation, generation);
        generation = j.generation;
        if (strcmp(j.leader, j.member_id) == 0)
            listed = j.nmembers;
    }
    if (listed != max)
        fail("the leader's JoinGroup answer lists %d member(s), expected %d", listed, max);
    printf("ok: generation %d formed with %d member(s), the most groups.max_size allows\n",
           generation, max);
    for (int i = 0; i < max; i++)
        close(fds[i]);
    close(extra);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "sync-timeout") == 0)
        return sync_timeout(atoi(argv[2]), argv[3], atoi(argv[4]));
    if (argc == 8 && strcmp(argv[1], "fenced") == 0)
        return fenced(atoi(argv[2]), argv[3], argv[4], argv[5], argv[6], atoi(argv[7]));
    if (argc == 4 && strcmp(argv[1], "static-away") == 0)
        return static_away(atoi(argv[2]), argv[3]);
    if (argc == 5 && strcmp(argv[1], "max-size") == 0)
        return max_size(atoi(argv[2]), argv[3], atoi(argv[4]));
    if (argc == 5 && strcmp(argv[1], "leave-instance") == 0) {
        int fd = connect_loopback(atoi(argv[2]), 30);
        expect("LeaveGroup v3 by instance id", leave(fd, argv[3], "", argv[4]), 0);
        close(fd);
        return 0;
    }
    fprintf(stderr, "usage: raw_group sync-timeout PORT GROUP REBALANCE_MS\n"
                    "       raw_group fenced PORT GROUP TOPIC MEMBER_ID INSTANCE_ID GENERATION\n"
                    "       raw_group static-away PORT GROUP\n"
                    "       raw_group max-size PORT GROUP MAX\n"
                    "       raw_group leave-instance PORT GROUP INSTANCE_ID\n");
    return 2;
}
