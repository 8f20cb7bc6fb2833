/*
 * rk_txn: librdkafka's transactional producer against straitd (test_transactions.sh).
 *
 *   rk_txn BOOTSTRAP commit-abort TOPIC TXN_ID N
 *       one producer: a transaction of N records "c-<i>" committed, one of N "a-<i>"
 *       aborted, one of N "d-<i>" committed; each transaction's records are delivered
 *       (in the log) before it ends. Prints "done".
 *   rk_txn BOOTSTRAP commit TOPIC TXN_ID N PREFIX
 *       one committed transaction of N records "<PREFIX>-<i>". Prints "done".
 *   rk_txn BOOTSTRAP open TOPIC TXN_ID N TIMEOUT_MS
 *       begins a transaction (transaction.timeout.ms=TIMEOUT_MS), produces N records
 *       "o-<i>", waits for their delivery (so they are in the log), prints "open" and
 *       then waits up to 120 s without ending it: the test kills the broker or lets the
 *       coordinator time the transaction out, then stops this process by its pid.
 *   rk_txn BOOTSTRAP zombie TOPIC TXN_ID N
 *       producer A begins a transaction and produces N records "z1-<i>"; producer B with
 *       the same transactional id then initialises, which must fence A: A's commit must
 *       fail with a fatal fenced error. B commits N records "z2-<i>". Prints "fenced".
 *   rk_txn BOOTSTRAP late TOPIC TXN_ID TIMEOUT_MS
 *       begins a transaction (transaction.timeout.ms=TIMEOUT_MS), delivers "o-0", prints
 *       "open", then waits for a line on stdin (the test sends it once the coordinator
 *       has aborted the transaction) and produces "late-0" in the same transaction;
 *       its delivery report goes to stderr. Prints "late sent".
 *   rk_txn BOOTSTRAP denied TOPIC TXN_ID -
 *       init_transactions must fail; prints the error code's name.
 *   rk_txn BOOTSTRAP denied-topic TOPIC TXN_ID -
 *       a transaction producing one record to TOPIC must fail to commit; prints why.
 *   rk_txn BOOTSTRAP ctp IN OUT GROUP TXN_ID BATCH
 *       consume-transform-produce: reads IN (group GROUP, read_committed, from the
 *       group's committed offsets or the beginning) and for every record v writes
 *       "out-<v>" to OUT, committing the records and the consumed offsets
 *       (send_offsets_to_transaction) together every BATCH inputs, until IN has nothing
 *       more for 3 s after the partitions are assigned. Prints "processed <n>".
 *   rk_txn BOOTSTRAP ctp-assign IN OUT GROUP TXN_ID BATCH
 *       the same with partition 0 of IN assigned (no group membership, so a run killed
 *       with kill -9 leaves no member behind for the next to wait out): the producer
 *       initialises first (fencing a killed run and aborting its open transaction), then
 *       the consumer starts at the group's committed offset.
 *       RK_TXN_DELAY_MS in the environment (both ctp modes): each record takes that long.
 *   rk_txn BOOTSTRAP offsets-open TOPIC TXN_ID GROUP OFFSET
 *       begins a transaction that only sends offsets (send_offsets_to_transaction: GROUP
 *       at OFFSET on TOPIC partition 0), prints "open", waits for a line on stdin, then
 *       commits it and prints "committed".
 *   rk_txn BOOTSTRAP script TOPIC TXN_ID -
 *       one producer runs the lines of stdin: "begin", "put KEY VALUE" (to partition 0),
 *       "commit", "abort" (each transaction's records are delivered before it ends).
 *       Prints "done <transactions>".
 *
 * RK_SASL_USER / RK_SASL_PASSWORD in the environment: SASL/PLAIN (SASL_PLAINTEXT).
 * Any unexpected error fails (exit 1) with the librdkafka error text.
 */
#include "rk_util.h"

#include <stdbool.h>
#include <unistd.h>

static void check(rd_kafka_error_t *e, const char *what)
{
    if (e) {
        rk_fail("%s: %s%s", what, rd_kafka_error_string(e),
                rd_kafka_error_is_fatal(e) ? " (fatal)" : "");
    }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err && !opaque)
        fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
}

/* SASL/PLAIN as RK_SASL_USER / RK_SASL_PASSWORD when set (the ACL test). */
static rd_kafka_conf_t *conf_for(const char *bootstrap)
{
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    const char *user = getenv("RK_SASL_USER"), *password = getenv("RK_SASL_PASSWORD");
    if (user && *user) {
        rk_set(conf, "security.protocol", "SASL_PLAINTEXT");
        rk_set(conf, "sasl.mechanisms", "PLAIN");
        rk_set(conf, "sasl.username", user);
        rk_set(conf, "sasl.password", password ? password : "");
    }
    return conf;
}

static rd_kafka_t *producer(const char *bootstrap, const char *txn_id, const char *timeout_ms,
                            bool quiet_failures)
{
    rd_kafka_conf_t *conf = conf_for(bootstrap);
    rk_set(conf, "transactional.id", txn_id);
    rk_set(conf, "transaction.timeout.ms", timeout_ms);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    if (quiet_failures)
        rd_kafka_conf_set_opaque(conf, (void *)1);
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);
    check(rd_kafka_init_transactions(rk, 30000), "init_transactions");
    return rk;
}

static void produce_n(rd_kafka_t *rk, const char *topic, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char v[64];
        int len = snprintf(v, sizeof v, "%s-%d", prefix, i);
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                        RD_KAFKA_V_VALUE(v, (size_t)len),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 100);
        if (err)
            rk_fail("produce %s: %s", v, rd_kafka_err2str(err));
    }
}

static void one_txn(rd_kafka_t *rk, const char *topic, const char *prefix, int n, bool commit)
{
    check(rd_kafka_begin_transaction(rk), "begin_transaction");
    produce_n(rk, topic, prefix, n);
    /* delivered before the end, so an aborted transaction's records are in the log (an
     * abort would otherwise purge them unsent) */
    if (rd_kafka_flush(rk, 30000))
        rk_fail("records of %s not delivered within 30 s", prefix);
    if (commit)
        check(rd_kafka_commit_transaction(rk, 30000), "commit_transaction");
    else
        check(rd_kafka_abort_transaction(rk, 30000), "abort_transaction");
}

/* The script mode (see the top of the file). */
static int script(const char *bootstrap, const char *topic, const char *txn_id)
{
    rd_kafka_t *rk = producer(bootstrap, txn_id, "60000", false);
    char line[512], key[256], value[256];
    int txns = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "begin") == 0) {
            check(rd_kafka_begin_transaction(rk), "begin_transaction");
        } else if (sscanf(line, "put %255s %255s", key, value) == 2) {
            rd_kafka_resp_err_t err;
            while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                            RD_KAFKA_V_KEY(key, strlen(key)),
                                            RD_KAFKA_V_VALUE(value, strlen(value)),
                                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                            RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 100);
            if (err)
                rk_fail("produce %s: %s", key, rd_kafka_err2str(err));
        } else if (strcmp(line, "commit") == 0 || strcmp(line, "abort") == 0) {
            if (rd_kafka_flush(rk, 30000))
                rk_fail("records not delivered within 30 s");
            if (line[0] == 'c')
                check(rd_kafka_commit_transaction(rk, 30000), "commit_transaction");
            else
                check(rd_kafka_abort_transaction(rk, 30000), "abort_transaction");
            txns++;
        } else if (line[0]) {
            rk_fail("script line \"%s\": expected begin, put KEY VALUE, commit or abort", line);
        }
    }
    rd_kafka_destroy(rk);
    printf("done %d\n", txns);
    return 0;
}

static int ctp(const char *bootstrap, const char *in, const char *out, const char *group,
               const char *txn_id, int batch, bool assign)
{
    /* assign: the producer first, so its init_transactions aborts what a killed run left
     * open before the group's committed offset is read (with require_stable) */
    rd_kafka_t *rk = assign ? producer(bootstrap, txn_id, "60000", false) : NULL;
    rd_kafka_conf_t *cc = conf_for(bootstrap);
    rk_set(cc, "group.id", group);
    rk_set(cc, "isolation.level", "read_committed");
    rk_set(cc, "enable.auto.commit", "false");
    rk_set(cc, "auto.offset.reset", "earliest");
    rd_kafka_t *consumer = rk_new(RD_KAFKA_CONSUMER, cc);
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    if (assign) {
        rd_kafka_topic_partition_list_add(sub, in, 0)->offset = RD_KAFKA_OFFSET_STORED;
        if (rd_kafka_assign(consumer, sub))
            rk_fail("assign %s [0]", in);
    } else {
        rd_kafka_topic_partition_list_add(sub, in, RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(consumer, sub))
            rk_fail("subscribe %s", in);
    }
    rd_kafka_topic_partition_list_destroy(sub);
    if (!rk)
        rk = producer(bootstrap, txn_id, "60000", false);

    long processed = 0;
    int in_txn = 0;
    /* RK_TXN_DELAY_MS: time each record's "processing" takes (the kill test slows the
     * loop so its kills land mid-transaction) */
    const char *delay_env = getenv("RK_TXN_DELAY_MS");
    int delay_ms = delay_env ? atoi(delay_env) : 0;
    /* idle counts from the first assignment: before it, nothing can arrive */
    int64_t idle_since = -1, started = rk_now_ms();
    while (idle_since < 0 ? rk_now_ms() - started < 30000 : rk_now_ms() - idle_since < 3000) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 200);
        if (idle_since < 0) {
            rd_kafka_topic_partition_list_t *a = NULL;
            if (rd_kafka_assignment(consumer, &a) == 0 && a->cnt > 0)
                idle_since = rk_now_ms();
            if (a)
                rd_kafka_topic_partition_list_destroy(a);
        }
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "consume: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        idle_since = rk_now_ms();
        if (in_txn == 0)
            check(rd_kafka_begin_transaction(rk), "begin_transaction");
        if (delay_ms > 0)
            usleep((useconds_t)delay_ms * 1000);
        char v[256];
        int len = snprintf(v, sizeof v, "out-%.*s", (int)m->len, (const char *)m->payload);
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(out), RD_KAFKA_V_PARTITION(0),
                                        RD_KAFKA_V_VALUE(v, (size_t)len),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 100);
        if (err)
            rk_fail("produce %s: %s", v, rd_kafka_err2str(err));
        rd_kafka_message_destroy(m);
        processed++;
        if (++in_txn == batch) {
            rd_kafka_topic_partition_list_t *pos = NULL;
            if (rd_kafka_assignment(consumer, &pos))
                rk_fail("assignment");
            rd_kafka_position(consumer, pos);
            rd_kafka_consumer_group_metadata_t *meta = rd_kafka_consumer_group_metadata(consumer);
            check(rd_kafka_send_offsets_to_transaction(rk, pos, meta, 30000),
                  "send_offsets_to_transaction");
            rd_kafka_consumer_group_metadata_destroy(meta);
            rd_kafka_topic_partition_list_destroy(pos);
            check(rd_kafka_commit_transaction(rk, 30000), "commit_transaction");
            in_txn = 0;
        }
    }
    if (idle_since < 0)
        rk_fail("no partition of %s assigned within 30 s", in);
    if (in_txn)
        check(rd_kafka_abort_transaction(rk, 30000), "abort_transaction (unfinished batch)");
    printf("processed %ld\n", processed - in_txn);
    rd_kafka_destroy(rk);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 6)
        rk_fail("usage: see the top of rk_txn.c");
    const char *bootstrap = argv[1], *mode = argv[2], *topic = argv[3], *txn_id = argv[4];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(mode, "commit-abort") == 0) {
        int n = atoi(argv[5]);
        rd_kafka_t *rk = producer(bootstrap, txn_id, "60000", false);
        one_txn(rk, topic, "c", n, true);
        one_txn(rk, topic, "a", n, false);
        one_txn(rk, topic, "d", n, true);
        rd_kafka_destroy(rk);
        printf("done\n");
    } else if (strcmp(mode, "commit") == 0 && argc == 7) {
        rd_kafka_t *rk = producer(bootstrap, txn_id, "60000", false);
        one_txn(rk, topic, argv[6], atoi(argv[5]), true);
        rd_kafka_destroy(rk);
        printf("done\n");
    } else if (strcmp(mode, "open") == 0 && argc == 7) {
        rd_kafka_t *rk = producer(bootstrap, txn_id, argv[6], true);
        check(rd_kafka_begin_transaction(rk), "begin_transaction");
        produce_n(rk, topic, "o", atoi(argv[5]));
        if (rd_kafka_flush(rk, 30000))
            rk_fail("the open transaction's records were not delivered within 30 s");
        printf("open\n");
        for (int64_t end = rk_now_ms() + 120000; rk_now_ms() < end;)
            rd_kafka_poll(rk, 200);
        rk_fail("still open after 120 s: nobody stopped this process");
    } else if (strcmp(mode, "zombie") == 0) {
        int n = atoi(argv[5]);
        rd_kafka_t *a = producer(bootstrap, txn_id, "60000", true);
        check(rd_kafka_begin_transaction(a), "A begin_transaction");
        produce_n(a, topic, "z1", n);
        if (rd_kafka_flush(a, 30000))
            rk_fail("A's records were not delivered within 30 s");
        rd_kafka_t *b = producer(bootstrap, txn_id, "60000", false);
        rd_kafka_error_t *e = rd_kafka_commit_transaction(a, 30000);
        if (!e)
            rk_fail("the zombie A committed after B initialised the same transactional id");
        char fatal[512] = "";
        rd_kafka_resp_err_t code = rd_kafka_fatal_error(a, fatal, sizeof fatal);
        if (!rd_kafka_error_is_fatal(e) ||
            (code != RD_KAFKA_RESP_ERR__FENCED && code != RD_KAFKA_RESP_ERR_PRODUCER_FENCED &&
             code != RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH))
            rk_fail("A's commit failed with \"%s\" (fatal error %s: %s), expected a fatal fence",
                    rd_kafka_error_string(e), rd_kafka_err2name(code), fatal);
        fprintf(stderr, "A: %s (%s)\n", rd_kafka_error_string(e), rd_kafka_err2name(code));
        rd_kafka_error_destroy(e);
        one_txn(b, topic, "z2", n, true);
        rd_kafka_destroy(a);
        rd_kafka_destroy(b);
        printf("fenced\n");
    } else if (strcmp(mode, "late") == 0 && argc == 6) {
        rd_kafka_t *rk = producer(bootstrap, txn_id, argv[5], false);
        check(rd_kafka_begin_transaction(rk), "begin_transaction");
        produce_n(rk, topic, "o", 1);
        if (rd_kafka_flush(rk, 30000))
            rk_fail("the open transaction's record was not delivered within 30 s");
        printf("open\n");
        char line[64];
        if (!fgets(line, sizeof line, stdin)) /* the test says when the coordinator aborted */
            rk_fail("stdin closed before the go");
        produce_n(rk, topic, "late", 1);
        rd_kafka_flush(rk, 15000); /* the delivery report (stderr) says what happened */
        printf("late sent\n");
        rd_kafka_destroy(rk);
    } else if (strcmp(mode, "denied") == 0) {
        /* init_transactions must fail for want of WRITE on the id */
        rd_kafka_conf_t *conf = conf_for(bootstrap);
        rk_set(conf, "transactional.id", txn_id);
        rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);
        rd_kafka_error_t *e = rd_kafka_init_transactions(rk, 30000);
        if (!e)
            rk_fail("init_transactions with transactional id %s succeeded", txn_id);
        printf("%s\n", rd_kafka_err2name(rd_kafka_error_code(e)));
        rd_kafka_error_destroy(e);
        rd_kafka_destroy(rk);
    } else if (strcmp(mode, "denied-topic") == 0) {
        /* the id is ours but the topic is not: the produce in the transaction fails (the
         * delivery report on stderr says why) */
        rd_kafka_t *rk = producer(bootstrap, txn_id, "60000", false);
        check(rd_kafka_begin_transaction(rk), "begin_transaction");
        produce_n(rk, topic, "x", 1);
        rd_kafka_flush(rk, 10000);
        rd_kafka_error_t *e = rd_kafka_commit_transaction(rk, 30000);
        if (!e)
            rk_fail("a transaction writing to %s committed", topic);
        printf("%s\n", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        rd_kafka_destroy(rk);
    } else if (strcmp(mode, "offsets-open") == 0 && argc == 7) {
        rd_kafka_t *rk = producer(bootstrap, txn_id, "60000", false);
        check(rd_kafka_begin_transaction(rk), "begin_transaction");
        rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(pos, topic, 0)->offset = atoll(argv[6]);
        rd_kafka_consumer_group_metadata_t *meta = rd_kafka_consumer_group_metadata_new(argv[5]);
        check(rd_kafka_send_offsets_to_transaction(rk, pos, meta, 30000),
              "send_offsets_to_transaction");
        rd_kafka_consumer_group_metadata_destroy(meta);
        rd_kafka_topic_partition_list_destroy(pos);
        printf("open\n");
        char line[64];
        if (!fgets(line, sizeof line, stdin))
            rk_fail("stdin closed before the go");
        check(rd_kafka_commit_transaction(rk, 30000), "commit_transaction");
        printf("committed\n");
        rd_kafka_destroy(rk);
    } else if (strcmp(mode, "script") == 0) {
        return script(bootstrap, topic, txn_id);
    } else if ((strcmp(mode, "ctp") == 0 || strcmp(mode, "ctp-assign") == 0) && argc == 8) {
        return ctp(bootstrap, argv[3], argv[4], argv[5], argv[6], atoi(argv[7]),
                   strcmp(mode, "ctp-assign") == 0);
    } else {
        rk_fail("unknown mode %s or wrong arguments (see the top of rk_txn.c)", mode);
    }
    return 0;
}
