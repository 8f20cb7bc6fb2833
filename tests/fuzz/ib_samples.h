/*
 * One representative message of each inter-broker kind (the numbering of
 * fuzz_interbroker.c: even = request, odd = its response), shared by make_seeds (the
 * fuzzer's seed corpus) and tests/unit/cluster/test_interbroker_codec.c.
 */
#ifndef ST_IB_SAMPLES_H
#define ST_IB_SAMPLES_H

#include "broker/cluster/interbroker_codec.h"

#define IB_SAMPLE_KINDS 12
#define IB_STR(s)       ((st_str){(s), (int32_t)(sizeof(s) - 1)})
#define IB_IDS(...)     ((st_ib_ids){(int32_t[]){__VA_ARGS__}, sizeof((int32_t[]){__VA_ARGS__}) / 4})

static inline void ib_sample(int kind, st_buf *b)
{
    switch (kind) {
    case 0: {
        st_lai_partition parts[2] = {
            {.partition_index = 0,
             .controller_epoch = 3,
             .leader = 1,
             .leader_epoch = 7,
             .isr = IB_IDS(1, 2, 3),
             .zk_version = 12,
             .replicas = IB_IDS(1, 2, 3),
             .is_new = true},
            {.partition_index = 1,
             .controller_epoch = 3,
             .leader = 2,
             .leader_epoch = 4,
             .isr = IB_IDS(2),
             .zk_version = 5,
             .replicas = IB_IDS(2, 3, 1),
             .adding_replicas = IB_IDS(4),
             .removing_replicas = IB_IDS(1)},
        };
        st_lai_topic topics[1] = {{IB_STR("orders"), parts, 2}};
        st_lai_leader leaders[2] = {{1, IB_STR("127.0.0.1"), 9092}, {2, IB_STR("b2"), 9093}};
        st_leader_and_isr_req m = {1, 3, 100, topics, 1, leaders, 2};
        st_leader_and_isr_req_encode(b, &m);
        break;
    }
    case 1:
    case 3: {
        st_ib_partition_error errs[2] = {{IB_STR("orders"), 0, 0}, {IB_STR("orders"), 1, 56}};
        st_ib_partition_errors_resp m = {0, errs, 2};
        (kind == 1 ? st_leader_and_isr_resp_encode : st_stop_replica_resp_encode)(b, &m);
        break;
    }
    case 2: {
        st_sr_partition parts[2] = {{0, 7, false}, {1, -1, true}};
        st_sr_topic topics[1] = {{IB_STR("orders"), parts, 2}};
        st_stop_replica_req m = {1, 3, 100, topics, 1};
        st_stop_replica_req_encode(b, &m);
        break;
    }
    case 4: {
        st_um_partition parts[1] = {{.partition_index = 0,
                                     .controller_epoch = 3,
                                     .leader = 1,
                                     .leader_epoch = 7,
                                     .isr = IB_IDS(1, 2),
                                     .zk_version = 9,
                                     .replicas = IB_IDS(1, 2, 3),
                                     .offline_replicas = IB_IDS(3)}};
        st_um_topic topics[1] = {{IB_STR("orders"), parts, 1}};
        st_um_endpoint eps[2] = {{9092, IB_STR("h1"), IB_STR("PLAINTEXT"), 0},
                                 {9094, IB_STR("h1"), IB_STR("INTERNAL"), 2}};
        st_um_broker brokers[2] = {{1, eps, 2, IB_STR("rack-a")}, {2, eps, 1, {NULL, -1}}};
        st_update_metadata_req m = {1, 3, 100, topics, 1, brokers, 2};
        st_update_metadata_req_encode(b, &m);
        break;
    }
    case 5:
        st_update_metadata_resp_encode(b, 11);
        break;
    case 6: {
        st_controlled_shutdown_req m = {2, 77};
        st_controlled_shutdown_req_encode(b, &m);
        break;
    }
    case 7: {
        st_cs_remaining rem[1] = {{IB_STR("orders"), 4}};
        st_controlled_shutdown_resp m = {0, rem, 1};
        st_controlled_shutdown_resp_encode(b, &m);
        break;
    }
    case 8: {
        st_ofle_partition parts[2] = {{0, 7, 5}, {1, -1, 3}};
        st_ofle_topic topics[1] = {{IB_STR("orders"), parts, 2}};
        st_offset_for_leader_epoch_req m = {2, topics, 1};
        st_offset_for_leader_epoch_req_encode(b, &m);
        break;
    }
    case 9: {
        st_ofle_partition_result parts[2] = {{0, 0, 5, 1200}, {74, 1, -1, -1}};
        st_ofle_topic_result topics[1] = {{IB_STR("orders"), parts, 2}};
        st_offset_for_leader_epoch_resp m = {0, topics, 1};
        st_offset_for_leader_epoch_resp_encode(b, &m);
        break;
    }
    case 10: {
        st_ap_partition parts[1] = {{0, 7, IB_IDS(1, 2), 12}};
        st_ap_topic topics[1] = {{IB_STR("orders"), parts, 1}};
        st_alter_partition_req m = {1, 100, topics, 1};
        st_alter_partition_req_encode(b, &m);
        break;
    }
    default: {
        st_ap_partition_result parts[1] = {{0, 0, 1, 7, IB_IDS(1, 2), 13}};
        st_ap_topic_result topics[1] = {{IB_STR("orders"), parts, 1}};
        st_alter_partition_resp m = {0, 0, topics, 1};
        st_alter_partition_resp_encode(b, &m);
        break;
    }
    }
}

#endif
