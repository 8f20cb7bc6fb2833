/*
 * Kafka 2.x's znodes: our encoders write the bytes a Kafka 2.x broker writes (the
 * expected strings are what `zkCli.sh get` shows on a Kafka 2.x cluster), and the
 * decoders read Kafka's other versions and shrug off fields they do not know, but refuse
 * what cannot be right (gaps in partitions, duplicate replicas, numbers out of range).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/zk_layout.h"

static void expect_json(char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fail_msg("encoded\n  %s\nexpected\n  %s", got, want);
    free(got);
}

static void test_broker_encode(void **state)
{
    st_zk_broker_info b = {.id = 0, .jmx_port = -1, .timestamp_ms = 1614570663881LL};
    b.nendpoints = 1;
    strcpy(b.endpoints[0].listener, "PLAINTEXT");
    strcpy(b.endpoints[0].security_protocol, "PLAINTEXT");
    strcpy(b.endpoints[0].host, "zjj101");
    b.endpoints[0].port = 9092;
    expect_json(st_zk_broker_encode(&b),
                "{\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\"},"
                "\"endpoints\":[\"PLAINTEXT://zjj101:9092\"],\"jmx_port\":-1,\"host\":\"zjj101\","
                "\"timestamp\":\"1614570663881\",\"port\":9092,\"version\":4}");

    /* two listeners, a rack: the map keeps the listeners' order, the rack comes after
     * the endpoints */
    b.nendpoints = 2;
    b.timestamp_ms = 1567506643562LL;
    strcpy(b.endpoints[0].host, "kafka");
    b.endpoints[0].port = 443;
    strcpy(b.endpoints[1].listener, "INTERNAL");
    strcpy(b.endpoints[1].security_protocol, "PLAINTEXT");
    strcpy(b.endpoints[1].host, "localhost");
    b.endpoints[1].port = 9093;
    expect_json(st_zk_broker_encode(&b),
                "{\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\",\"INTERNAL\":"
                "\"PLAINTEXT\"},\"endpoints\":[\"PLAINTEXT://kafka:443\",\"INTERNAL://"
                "localhost:9093\"],\"jmx_port\":-1,\"host\":\"kafka\",\"timestamp\":"
                "\"1567506643562\",\"port\":443,\"version\":4}");
    b.has_rack = true;
    strcpy(b.rack, "a");
    b.nendpoints = 1;
    strcpy(b.endpoints[0].host, "10.0.1.100");
    b.endpoints[0].port = 9092;
    b.jmx_port = 9999;
    b.timestamp_ms = 1530886155628LL;
    expect_json(st_zk_broker_encode(&b),
                "{\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\"},"
                "\"endpoints\":[\"PLAINTEXT://10.0.1.100:9092\"],\"rack\":\"a\",\"jmx_port\":9999,"
                "\"host\":\"10.0.1.100\",\"timestamp\":\"1530886155628\",\"port\":9092,"
                "\"version\":4}");

    /* no PLAINTEXT listener: Kafka writes a null host and port -1 */
    st_zk_broker_info s = {.id = 3, .jmx_port = -1, .timestamp_ms = 5, .nendpoints = 1};
    strcpy(s.endpoints[0].listener, "SECURE");
    strcpy(s.endpoints[0].security_protocol, "SASL_SSL");
    strcpy(s.endpoints[0].host, "::1");
    s.endpoints[0].port = 9094;
    expect_json(st_zk_broker_encode(&s),
                "{\"listener_security_protocol_map\":{\"SECURE\":\"SASL_SSL\"},\"endpoints\":"
                "[\"SECURE://[::1]:9094\"],\"jmx_port\":-1,\"host\":null,\"timestamp\":\"5\","
                "\"port\":-1,\"version\":4}");
}

static void test_broker_decode(void **state)
{
    char err[256];
    st_zk_broker_info b;
    /* Kafka 2.8 on Scala 2.13: version 5 with features, other field order */
    const char *v5 = "{\"features\":{},\"listener_security_protocol_map\":{\"PLAINTEXT\":"
                     "\"PLAINTEXT\",\"PLAINTEXT_HOST\":\"PLAINTEXT\"},\"endpoints\":"
                     "[\"PLAINTEXT://kafka-1:9092\",\"PLAINTEXT_HOST://localhost:29092\"],"
                     "\"jmx_port\":-1,\"port\":9092,\"host\":\"kafka-1\",\"version\":5,"
                     "\"timestamp\":\"1625336133848\"}";
    assert_int_equal(st_zk_broker_decode(1, v5, strlen(v5), &b, err, sizeof err), 0);
    assert_int_equal(b.id, 1);
    assert_int_equal(b.version, 5);
    assert_int_equal(b.nendpoints, 2);
    assert_string_equal(b.endpoints[1].listener, "PLAINTEXT_HOST");
    assert_string_equal(b.endpoints[1].host, "localhost");
    assert_int_equal(b.endpoints[1].port, 29092);
    assert_string_equal(b.endpoints[1].security_protocol, "PLAINTEXT");
    assert_int_equal(b.timestamp_ms, 1625336133848LL);
    assert_false(b.has_rack);

    /* round trip of what we write, rack and IPv6 included */
    st_zk_broker_info in = {
        .id = 7, .jmx_port = -1, .timestamp_ms = 42, .nendpoints = 2, .has_rack = true};
    strcpy(in.rack, "eu-1a");
    strcpy(in.endpoints[0].listener, "CLIENT");
    strcpy(in.endpoints[0].security_protocol, "SASL_PLAINTEXT");
    strcpy(in.endpoints[0].host, "fe80::1");
    in.endpoints[0].port = 9092;
    strcpy(in.endpoints[1].listener, "INTER_BROKER");
    strcpy(in.endpoints[1].security_protocol, "PLAINTEXT");
    strcpy(in.endpoints[1].host, "");
    in.endpoints[1].port = 9093;
    char *json = st_zk_broker_encode(&in);
    assert_int_equal(st_zk_broker_decode(7, json, strlen(json), &b, err, sizeof err), 0);
    free(json);
    assert_int_equal(b.nendpoints, 2);
    assert_string_equal(b.endpoints[0].host, "fe80::1");
    assert_string_equal(b.endpoints[0].security_protocol, "SASL_PLAINTEXT");
    assert_string_equal(b.endpoints[1].host, "");
    assert_int_equal(b.endpoints[1].port, 9093);
    assert_true(b.has_rack);
    assert_string_equal(b.rack, "eu-1a");

    /* version 1: host and port only */
    const char *v1 = "{\"version\":1,\"host\":\"h\",\"port\":9092,\"jmx_port\":9999,"
                     "\"timestamp\":\"2233345666\"}";
    assert_int_equal(st_zk_broker_decode(2, v1, strlen(v1), &b, err, sizeof err), 0);
    assert_int_equal(b.nendpoints, 1);
    assert_string_equal(b.endpoints[0].security_protocol, "PLAINTEXT");
    assert_int_equal(b.jmx_port, 9999);
    /* version 3, no protocol map: the listener name is the protocol; null rack */
    const char *v3 = "{\"version\":3,\"endpoints\":[\"SSL://h:9093\"],\"rack\":null}";
    assert_int_equal(st_zk_broker_decode(2, v3, strlen(v3), &b, err, sizeof err), 0);
    assert_string_equal(b.endpoints[0].security_protocol, "SSL");
    assert_false(b.has_rack);

    const char *bad[] = {
        "",
        "[1]",
        "{\"version\":4}",
        "{\"version\":4,\"endpoints\":[]}",
        "{\"version\":4,\"endpoints\":[\"nohostport\"]}",
        "{\"version\":4,\"endpoints\":[\"PLAINTEXT://h:99999\"]}",
        ("{\"version\":4,\"endpoints\":[\"PLAINTEXT://h:1\",\"A://h:1\",\"B://h:1\",\"C://h:1\","
         "\"D://h:1\",\"E://h:1\",\"F://h:1\",\"G://h:1\",\"H://h:1\"]}"),
        "{\"version\":\"x\",\"endpoints\":[\"PLAINTEXT://h:1\"]}",
        "{\"version\":0,\"endpoints\":[\"PLAINTEXT://h:1\"]}",
        "{\"version\":1,\"port\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (st_zk_broker_decode(1, bad[i], strlen(bad[i]), &b, err, sizeof err) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_true(err[0] != 0);
    }
    assert_int_equal(st_zk_broker_decode(1, NULL, 0, &b, err, sizeof err), -1);
}

static void test_controller(void **state)
{
    expect_json(st_zk_controller_encode(0, 1535943857541LL),
                "{\"version\":1,\"brokerid\":0,\"timestamp\":\"1535943857541\"}");
    char err[256];
    int32_t id = -1;
    const char *c = "{\"version\":1,\"brokerid\":101,\"timestamp\":\"1614570663255\"}";
    assert_int_equal(st_zk_controller_decode(c, strlen(c), &id, err, sizeof err), 0);
    assert_int_equal(id, 101);
    const char *bad = "{\"version\":1,\"brokerid\":-3}";
    assert_int_equal(st_zk_controller_decode(bad, strlen(bad), &id, err, sizeof err), -1);

    char buf[12];
    st_zk_controller_epoch_encode(7, buf);
    assert_string_equal(buf, "7");
    int32_t epoch;
    assert_int_equal(st_zk_controller_epoch_decode("33", 2, &epoch, err, sizeof err), 0);
    assert_int_equal(epoch, 33);
    assert_int_equal(st_zk_controller_epoch_decode("3x", 2, &epoch, err, sizeof err), -1);
    assert_int_equal(st_zk_controller_epoch_decode("-1", 2, &epoch, err, sizeof err), -1);
    assert_int_equal(st_zk_controller_epoch_decode("99999999999", 11, &epoch, err, sizeof err), -1);
    assert_int_equal(st_zk_controller_epoch_decode("", 0, &epoch, err, sizeof err), -1);
}

static void test_topic(void **state)
{
    st_zk_topic_assignment t;
    assert_int_equal(st_zk_topic_assignment_init(&t, 1), 0);
    st_zk_replica_list_set(&t.partitions[0].replicas, (int32_t[]){0}, 1);
    expect_json(st_zk_topic_encode(&t), "{\"version\":2,\"partitions\":{\"0\":[0]},"
                                        "\"adding_replicas\":{},\"removing_replicas\":{}}");
    st_zk_topic_assignment_free(&t);

    /* three partitions, one being reassigned, a topic id */
    assert_int_equal(st_zk_topic_assignment_init(&t, 3), 0);
    st_zk_replica_list_set(&t.partitions[0].replicas, (int32_t[]){1, 2, 3}, 3);
    st_zk_replica_list_set(&t.partitions[1].replicas, (int32_t[]){2, 3, 1}, 3);
    st_zk_replica_list_set(&t.partitions[2].replicas, (int32_t[]){3, 1, 2, 4}, 4);
    st_zk_replica_list_set(&t.partitions[2].adding, (int32_t[]){4}, 1);
    st_zk_replica_list_set(&t.partitions[2].removing, (int32_t[]){2}, 1);
    char err[256];
    assert_true(st_zk_uuid_decode("cMr3GpVESX2L3byPGf93lQ", t.topic_id));
    t.has_topic_id = true;
    char *json = st_zk_topic_encode(&t);
    assert_string_equal(json, "{\"version\":2,\"partitions\":{\"0\":[1,2,3],\"1\":[2,3,1],\"2\":"
                              "[3,1,2,4]},\"adding_replicas\":{\"2\":[4]},\"removing_replicas\":"
                              "{\"2\":[2]},\"topic_id\":\"cMr3GpVESX2L3byPGf93lQ\"}");
    st_zk_topic_assignment back;
    assert_int_equal(st_zk_topic_decode(json, strlen(json), &back, err, sizeof err), 0);
    free(json);
    assert_int_equal(back.npartitions, 3);
    assert_int_equal(back.partitions[2].replicas.n, 4);
    assert_int_equal(back.partitions[2].adding.ids[0], 4);
    assert_int_equal(back.partitions[2].removing.ids[0], 2);
    assert_int_equal(back.partitions[1].adding.n, 0);
    assert_true(back.has_topic_id);
    assert_memory_equal(back.topic_id, t.topic_id, 16);
    st_zk_topic_assignment_free(&back);
    st_zk_topic_assignment_free(&t);

    /* Kafka's own: hash-ordered partitions (2.7), version 3 with topic_id (3.x), version 1 */
    const char *kafka[] = {
        "{\"version\":2,\"partitions\":{\"2\":[3,2],\"1\":[2,1],\"0\":[1,3],\"3\":[1,2]},"
        "\"adding_replicas\":{},\"removing_replicas\":{}}",
        "{\"partitions\":{\"0\":[2,3,1],\"1\":[3,1,2],\"2\":[1,2,3]},\"topic_id\":"
        "\"cMr3GpVESX2L3byPGf93lQ\",\"adding_replicas\":{},\"removing_replicas\":{},"
        "\"version\":3}",
        "{\"version\":1,\"partitions\":{\"1\":[101,103],\"0\":[103,102]}}",
    };
    int32_t want_n[] = {4, 3, 2};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(st_zk_topic_decode(kafka[i], strlen(kafka[i]), &back, err, sizeof err), 0);
        assert_int_equal(back.npartitions, want_n[i]);
        st_zk_topic_assignment_free(&back);
    }
    assert_int_equal(st_zk_topic_decode(kafka[0], strlen(kafka[0]), &back, err, sizeof err), 0);
    assert_int_equal(back.partitions[3].replicas.ids[0], 1);
    assert_int_equal(back.partitions[2].replicas.ids[1], 2);
    st_zk_topic_assignment_free(&back);

    const char *bad[] = {
        "{\"version\":2,\"partitions\":{}}",
        "{\"version\":2,\"partitions\":{\"0\":[1],\"2\":[1]}}", /* a gap */
        "{\"version\":2,\"partitions\":{\"0\":[1,1]}}",         /* a broker twice */
        "{\"version\":2,\"partitions\":{\"0\":[]}}",            /* no replicas */
        "{\"version\":2,\"partitions\":{\"00\":[1]}}",          /* not a partition number */
        "{\"version\":2,\"partitions\":{\"-1\":[1]}}",
        "{\"version\":2,\"partitions\":{\"0\":[-1]}}",
        "{\"version\":2,\"partitions\":{\"0\":[1]},\"adding_replicas\":{\"5\":[2]}}",
        "{\"version\":2,\"partitions\":{\"0\":[1]},\"topic_id\":\"short\"}",
        "{\"version\":2,\"partitions\":[1]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (st_zk_topic_decode(bad[i], strlen(bad[i]), &back, err, sizeof err) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_true(err[0] != 0);
        assert_null(back.partitions); /* nothing to free on failure */
    }
}

static void test_uuid(void **state)
{
    uint8_t id[16], back[16];
    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)(i * 37 + 250);
    char text[23];
    st_zk_uuid_encode(id, text);
    assert_int_equal(strlen(text), 22);
    assert_true(st_zk_uuid_decode(text, back));
    assert_memory_equal(id, back, 16);
    memset(id, 0, 16);
    st_zk_uuid_encode(id, text);
    assert_string_equal(text, "AAAAAAAAAAAAAAAAAAAAAA");
    assert_false(st_zk_uuid_decode("AAAAAAAAAAAAAAAAAAAAAB", back)); /* bits past 128 */
    assert_false(st_zk_uuid_decode("AAAAAAAAAAAAAAAAAAAA+A", back)); /* not url-safe */
}

static void test_partition_state(void **state)
{
    st_zk_partition_state s = {
        .controller_epoch = 33, .leader = 102, .leader_epoch = 8, .nisr = 2, .isr = {102, 103}};
    expect_json(st_zk_partition_state_encode(&s),
                "{\"controller_epoch\":33,\"leader\":102,\"version\":1,\"leader_epoch\":8,"
                "\"isr\":[102,103]}");
    char err[256];
    st_zk_partition_state d;
    /* KAFKA-NOTES' order, and a 3.x field we do not know */
    const char *j = "{\"version\":1,\"isr\":[0,1],\"leader\":-1,\"controller_epoch\":1,"
                    "\"leader_epoch\":0,\"leader_recovery_state\":0}";
    assert_int_equal(st_zk_partition_state_decode(j, strlen(j), &d, err, sizeof err), 0);
    assert_int_equal(d.leader, -1);
    assert_int_equal(d.nisr, 2);
    assert_int_equal(d.isr[1], 1);
    const char *bad[] = {
        "{\"leader\":1,\"leader_epoch\":0,\"isr\":[1]}",
        "{\"leader\":-2,\"leader_epoch\":0,\"controller_epoch\":0,\"isr\":[1]}",
        "{\"leader\":1,\"leader_epoch\":0,\"controller_epoch\":0,\"isr\":\"1\"}",
        "{\"leader\":1,\"leader_epoch\":2147483648,\"controller_epoch\":0,\"isr\":[1]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (st_zk_partition_state_decode(bad[i], strlen(bad[i]), &d, err, sizeof err) == 0)
            fail_msg("accepted %s", bad[i]);
    /* an ISR larger than any cluster: refused, not overrun */
    char big[4096];
    int o = snprintf(big, sizeof big,
                     "{\"leader\":1,\"leader_epoch\":0,\"controller_epoch\":0,"
                     "\"isr\":[");
    for (int i = 0; i < ST_ZK_MAX_REPLICAS + 1; i++)
        o += snprintf(big + o, sizeof big - (size_t)o, "%s%d", i ? "," : "", i);
    snprintf(big + o, sizeof big - (size_t)o, "]}");
    assert_int_equal(st_zk_partition_state_decode(big, strlen(big), &d, err, sizeof err), -1);
}

static void test_cluster_id_and_paths(void **state)
{
    expect_json(st_zk_cluster_id_encode("x_oECR_rT6uGoWuuHulV7A"),
                "{\"version\":\"1\",\"id\":\"x_oECR_rT6uGoWuuHulV7A\"}");
    char id[64], err[256];
    const char *j = "{\"version\":\"1\",\"id\":\"abc\"}";
    assert_int_equal(st_zk_cluster_id_decode(j, strlen(j), id, sizeof id, err, sizeof err), 0);
    assert_string_equal(id, "abc");
    assert_int_equal(st_zk_cluster_id_decode("{}", 2, id, sizeof id, err, sizeof err), -1);

    char p[512];
    assert_true(st_zk_path_broker(p, sizeof p, 3));
    assert_string_equal(p, "/brokers/ids/3");
    assert_true(st_zk_path_partition_state(p, sizeof p, "orders", 12));
    assert_string_equal(p, "/brokers/topics/orders/partitions/12/state");
    assert_true(st_zk_path_delete_topic(p, sizeof p, "a.b-c_d"));
    assert_string_equal(p, "/admin/delete_topics/a.b-c_d");
    assert_false(st_zk_path_topic(p, sizeof p, "../../zookeeper"));
    assert_false(st_zk_path_topic(p, sizeof p, "a/b"));
    assert_false(st_zk_path_topic(p, sizeof p, ".."));
    assert_false(st_zk_path_topic(p, sizeof p, ""));
    assert_false(st_zk_path_broker(p, sizeof p, -1));
    assert_false(st_zk_path_partition(p, 10, "orders", 1)); /* does not fit */
    char longname[251];
    memset(longname, 'a', 250);
    longname[250] = 0;
    assert_false(st_zk_topic_name_ok(longname));
    longname[249] = 0;
    assert_true(st_zk_topic_name_ok(longname));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broker_encode),
        cmocka_unit_test(test_broker_decode),
        cmocka_unit_test(test_controller),
        cmocka_unit_test(test_topic),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_partition_state),
        cmocka_unit_test(test_cluster_id_and_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
