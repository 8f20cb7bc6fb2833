/*
 * rk_group_consumer BOOTSTRAP GROUP TOPIC OUT_FILE [COMMIT_EVERY]
 *
 * One member of a consumer group (librdkafka subscribe, session.timeout.ms=6000,
 * enable.auto.commit=false, auto.offset.reset=earliest). For every record it processes
 * it appends "<partition> <offset> <key>" to OUT_FILE and flushes, so the line survives
 * a kill -9; it commits synchronously after every COMMIT_EVERY records [10] of a
 * partition and on revocation. So what a killed member processed past its last commit
 * is processed again by the member that inherits the partition: the only duplicates.
 *
 * Every assignment change goes to stderr as one line: "assignment: P P ..." (sorted
 * partitions, empty when everything was revoked), which the test polls. Runs until
 * SIGTERM/SIGINT, then commits and leaves the group (rd_kafka_consumer_close; a static
 * member does not send LeaveGroup, KIP-345).
 *
 * From the environment:
 *   RK_GROUP_INSTANCE_ID=ID     a static member (group.instance.id, JoinGroup v5)
 *   RK_SESSION_TIMEOUT_MS=N     session.timeout.ms [6000]
 *   RK_EXTRA_COMMIT=T:P:OFFSET  after the first assignment, also commit OFFSET for
 *                               partition P of topic T, which it does not consume
 *                               (prints "extra commit: ok" or the error)
 */
#include "rk_util.h"

#include <signal.h>

#define MAX_PARTITIONS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    stop = 1;
}

typedef struct state {
    const char *topic;
    int commit_every;
    const char *extra_commit;        /* "T:P:OFFSET" or NULL; cleared once done */
    int uncommitted[MAX_PARTITIONS]; /* processed since the last commit, per partition */
} state;

static int cmp_partition(const void *a, const void *b)
{
    const rd_kafka_topic_partition_t *x = a, *y = b;
    return x->partition - y->partition;
}

static void print_assignment(const rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *copy = rd_kafka_topic_partition_list_copy(parts);
    qsort(copy->elems, (size_t)copy->cnt, sizeof(copy->elems[0]), cmp_partition);
    fprintf(stderr, "assignment:");
    for (int i = 0; i < copy->cnt; i++)
        fprintf(stderr, " %d", (int)copy->elems[i].partition);
    fputc('\n', stderr);
    fflush(stderr);
    rd_kafka_topic_partition_list_destroy(copy);
}

/* Commits the consumer's current positions synchronously; a failure is reported but
 * not fatal (a rebalance in progress can refuse it: the records are then processed
 * again elsewhere, and the test counts them as duplicates). */
static void commit_positions(rd_kafka_t *rk, state *st, const char *why)
{
    rd_kafka_resp_err_t err = rd_kafka_commit(rk, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        fprintf(stderr, "commit (%s): %s\n", why, rd_kafka_err2str(err));
    memset(st->uncommitted, 0, sizeof(st->uncommitted));
}

/* Commits RK_EXTRA_COMMIT's offset as a member of the group (generation and member id
 * of the current assignment). */
static void extra_commit(rd_kafka_t *rk, state *st)
{
    char topic[256];
    int partition;
    long long offset;
    if (sscanf(st->extra_commit, "%255[^:]:%d:%lld", topic, &partition, &offset) != 3)
        rk_fail("RK_EXTRA_COMMIT=\"%s\": expected TOPIC:PARTITION:OFFSET", st->extra_commit);
    st->extra_commit = NULL;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    rd_kafka_resp_err_t err = rd_kafka_commit(rk, l, 0);
    if (!err && l->elems[0].err)
        err = l->elems[0].err;
    fprintf(stderr, "extra commit: %s\n", err ? rd_kafka_err2str(err) : "ok");
    fflush(stderr);
    rd_kafka_topic_partition_list_destroy(l);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    state *st = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        print_assignment(parts);
        if (st->extra_commit)
            extra_commit(rk, st);
    } else {
        commit_positions(rk, st, "revoke");
        rd_kafka_assign(rk, NULL);
        fprintf(stderr, "assignment:\n");
        fflush(stderr);
    }
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: rk_group_consumer BOOTSTRAP GROUP TOPIC OUT_FILE [COMMIT_EVERY]\n");
        return 2;
    }
    state st = {.topic = argv[3], .commit_every = argc == 6 ? atoi(argv[5]) : 10};
    if (st.commit_every < 1)
        rk_fail("COMMIT_EVERY must be at least 1, not \"%s\"", argv[5]);
    FILE *out = fopen(argv[4], "a");
    if (!out)
        rk_fail("%s: %s", argv[4], strerror(errno));
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    rd_kafka_conf_t *conf = rk_conf(argv[1]);
    rk_set(conf, "group.id", argv[2]);
    const char *session = getenv("RK_SESSION_TIMEOUT_MS");
    rk_set(conf, "session.timeout.ms", session && *session ? session : "6000");
    const char *instance = getenv("RK_GROUP_INSTANCE_ID");
    if (instance && *instance)
        rk_set(conf, "group.instance.id", instance);
    st.extra_commit = getenv("RK_EXTRA_COMMIT");
    if (st.extra_commit && !*st.extra_commit)
        st.extra_commit = NULL;
    rk_set(conf, "heartbeat.interval.ms", "1000");
    rk_set(conf, "enable.auto.commit", "false");
    rk_set(conf, "auto.offset.reset", "earliest");
    rk_set(conf, "partition.assignment.strategy", "range");
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_t *rk = rk_new(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);

    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, st.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err)
        rk_fail("subscribe %s: %s", st.topic, rd_kafka_err2str(err));

    long processed = 0;
    while (!stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            /* idle: commit what is processed, so a quiet member leaves little behind */
            for (int p = 0; p < MAX_PARTITIONS; p++) {
                if (st.uncommitted[p]) {
                    commit_positions(rk, &st, "idle");
                    break;
                }
            }
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "consumer error: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        fprintf(out, "%d %lld %.*s\n", (int)m->partition, (long long)m->offset, (int)m->key_len,
                m->key ? (const char *)m->key : "");
        fflush(out); /* processed = on record in the page cache, before any commit */
        processed++;
        int p = m->partition;
        if (p >= 0 && p < MAX_PARTITIONS && ++st.uncommitted[p] >= st.commit_every) {
            rd_kafka_resp_err_t cerr = rd_kafka_commit_message(rk, m, 0);
            if (cerr)
                fprintf(stderr, "commit: %s\n", rd_kafka_err2str(cerr));
            st.uncommitted[p] = 0;
        }
        rd_kafka_message_destroy(m);
    }
    commit_positions(rk, &st, "shutdown");
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    fclose(out);
    fprintf(stderr, "processed %ld records\n", processed);
    return 0;
}
