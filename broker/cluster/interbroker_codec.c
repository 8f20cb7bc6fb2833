/*
 * The inter-broker codecs (see interbroker_codec.h for versions and ownership). Field
 * order follows Kafka's message definitions for the versions named there; every
 * structure ends with its tagged-field block (we write none and skip any we read).
 */
#include "broker/cluster/interbroker_codec.h"

#include <stdlib.h>
#include <string.h>

#include "common/errors.h"

#define F true /* every version here is flexible */

/* ---- helpers ---- */

static void wr_str(st_buf *b, st_str s)
{
    st_wr_str(b, F, s.len < 0 ? NULL : s.ptr, s.len < 0 ? 0 : s.len);
}

static void wr_ids(st_buf *b, st_ib_ids ids)
{
    st_wr_array(b, F, ids.n);
    for (int32_t i = 0; i < ids.n; i++)
        st_buf_put_i32(b, ids.ids[i]);
}

/* A null array reads as empty: none of these fields is nullable on the wire, and the
 * broker treats "none" and "empty" alike. */
static int32_t rd_count(st_rd *rd, size_t min_elem)
{
    int32_t n = st_rd_array(rd, F, min_elem);
    return n < 0 ? 0 : n;
}

static void *rd_alloc(st_ib_arena *a, int32_t n, size_t size)
{
    return n > 0 ? st_ib_alloc(a, (size_t)n * size) : NULL;
}

static void rd_ids(st_rd *rd, st_ib_arena *a, st_ib_ids *ids)
{
    ids->n = rd_count(rd, 4);
    ids->ids = rd_alloc(a, ids->n, sizeof *ids->ids);
    for (int32_t i = 0; i < ids->n; i++)
        ids->ids[i] = st_rd_i32(rd);
}

/* The end of a message: no error, nothing left over. */
static int finish(st_rd *rd)
{
    st_rd_tags(rd, F);
    return rd->err || st_rd_left(rd) != 0 ? ST_ERR__MALFORMED : 0;
}

/* Partition errors (LeaderAndIsr v4 and StopReplica v3 answer alike). */
static void errors_resp_encode(st_buf *b, const st_ib_partition_errors_resp *m)
{
    st_buf_put_i16(b, m->error_code);
    st_wr_array(b, F, m->npartitions);
    for (int32_t i = 0; i < m->npartitions; i++) {
        const st_ib_partition_error *p = &m->partitions[i];
        wr_str(b, p->topic);
        st_buf_put_i32(b, p->partition_index);
        st_buf_put_i16(b, p->error_code);
        st_wr_tags(b, F);
    }
    st_wr_tags(b, F);
}

static int errors_resp_decode(st_rd *rd, st_ib_arena *a, st_ib_partition_errors_resp *m)
{
    memset(m, 0, sizeof *m);
    m->error_code = st_rd_i16(rd);
    m->npartitions = rd_count(rd, 8);
    m->partitions = rd_alloc(a, m->npartitions, sizeof *m->partitions);
    for (int32_t i = 0; i < m->npartitions && !rd->err; i++) {
        st_ib_partition_error *p = &m->partitions[i];
        p->topic = st_rd_str(rd, F);
        p->partition_index = st_rd_i32(rd);
        p->error_code = st_rd_i16(rd);
        st_rd_tags(rd, F);
    }
    return finish(rd);
}

/* ---- LeaderAndIsr ---- */

void st_leader_and_isr_req_encode(st_buf *b, const st_leader_and_isr_req *m)
{
    st_buf_put_i32(b, m->controller_id);
    st_buf_put_i32(b, m->controller_epoch);
    st_buf_put_i64(b, m->broker_epoch);
    st_wr_array(b, F, m->ntopics);
    for (int32_t t = 0; t < m->ntopics; t++) {
        const st_lai_topic *topic = &m->topics[t];
        wr_str(b, topic->name);
        st_wr_array(b, F, topic->npartitions);
        for (int32_t i = 0; i < topic->npartitions; i++) {
            const st_lai_partition *p = &topic->partitions[i];
            st_buf_put_i32(b, p->partition_index);
            st_buf_put_i32(b, p->controller_epoch);
            st_buf_put_i32(b, p->leader);
            st_buf_put_i32(b, p->leader_epoch);
            wr_ids(b, p->isr);
            st_buf_put_i32(b, p->zk_version);
            wr_ids(b, p->replicas);
            wr_ids(b, p->adding_replicas);
            wr_ids(b, p->removing_replicas);
            st_wr_bool(b, p->is_new);
            st_wr_tags(b, F);
        }
        st_wr_tags(b, F);
    }
    st_wr_array(b, F, m->nlive_leaders);
    for (int32_t i = 0; i < m->nlive_leaders; i++) {
        st_buf_put_i32(b, m->live_leaders[i].broker_id);
        wr_str(b, m->live_leaders[i].host);
        st_buf_put_i32(b, m->live_leaders[i].port);
        st_wr_tags(b, F);
    }
    st_wr_tags(b, F);
}

int st_leader_and_isr_req_decode(st_rd *rd, st_ib_arena *a, st_leader_and_isr_req *m)
{
    memset(m, 0, sizeof *m);
    m->controller_id = st_rd_i32(rd);
    m->controller_epoch = st_rd_i32(rd);
    m->broker_epoch = st_rd_i64(rd);
    m->ntopics = rd_count(rd, 3);
    m->topics = rd_alloc(a, m->ntopics, sizeof *m->topics);
    for (int32_t t = 0; t < m->ntopics && !rd->err; t++) {
        st_lai_topic *topic = &m->topics[t];
        topic->name = st_rd_str(rd, F);
        topic->npartitions = rd_count(rd, 26);
        topic->partitions = rd_alloc(a, topic->npartitions, sizeof *topic->partitions);
        for (int32_t i = 0; i < topic->npartitions && !rd->err; i++) {
            st_lai_partition *p = &topic->partitions[i];
            p->partition_index = st_rd_i32(rd);
            p->controller_epoch = st_rd_i32(rd);
            p->leader = st_rd_i32(rd);
            p->leader_epoch = st_rd_i32(rd);
            rd_ids(rd, a, &p->isr);
            p->zk_version = st_rd_i32(rd);
            rd_ids(rd, a, &p->replicas);
            rd_ids(rd, a, &p->adding_replicas);
            rd_ids(rd, a, &p->removing_replicas);
            p->is_new = st_rd_bool(rd);
            st_rd_tags(rd, F);
        }
        st_rd_tags(rd, F);
    }
    m->nlive_leaders = rd_count(rd, 10);
    m->live_leaders = rd_alloc(a, m->nlive_leaders, sizeof *m->live_leaders);
    for (int32_t i = 0; i < m->nlive_leaders && !rd->err; i++) {
        m->live_leaders[i].broker_id = st_rd_i32(rd);
        m->live_leaders[i].host = st_rd_str(rd, F);
        m->live_leaders[i].port = st_rd_i32(rd);
        st_rd_tags(rd, F);
    }
    return finish(rd);
}

void st_leader_and_isr_resp_encode(st_buf *b, const st_ib_partition_errors_resp *m)
{
    errors_resp_encode(b, m);
}

int st_leader_and_isr_resp_decode(st_rd *rd, st_ib_arena *a, st_ib_partition_errors_resp *m)
{
    return errors_resp_decode(rd, a, m);
}

/* ---- StopReplica ---- */

void st_stop_replica_req_encode(st_buf *b, const st_stop_replica_req *m)
{
    st_buf_put_i32(b, m->controller_id);
    st_buf_put_i32(b, m->controller_epoch);
    st_buf_put_i64(b, m->broker_epoch);
    st_wr_array(b, F, m->ntopics);
    for (int32_t t = 0; t < m->ntopics; t++) {
        wr_str(b, m->topics[t].name);
        st_wr_array(b, F, m->topics[t].npartitions);
        for (int32_t i = 0; i < m->topics[t].npartitions; i++) {
            const st_sr_partition *p = &m->topics[t].partitions[i];
            st_buf_put_i32(b, p->partition_index);
            st_buf_put_i32(b, p->leader_epoch);
            st_wr_bool(b, p->delete_partition);
            st_wr_tags(b, F);
        }
        st_wr_tags(b, F);
    }
    st_wr_tags(b, F);
}

int st_stop_replica_req_decode(st_rd *rd, st_ib_arena *a, st_stop_replica_req *m)
{
    memset(m, 0, sizeof *m);
    m->controller_id = st_rd_i32(rd);
    m->controller_epoch = st_rd_i32(rd);
    m->broker_epoch = st_rd_i64(rd);
    m->ntopics = rd_count(rd, 3);
    m->topics = rd_alloc(a, m->ntopics, sizeof *m->topics);
    for (int32_t t = 0; t < m->ntopics && !rd->err; t++) {
        st_sr_topic *topic = &m->topics[t];
        topic->name = st_rd_str(rd, F);
        topic->npartitions = rd_count(rd, 10);
        topic->partitions = rd_alloc(a, topic->npartitions, sizeof *topic->partitions);
        for (int32_t i = 0; i < topic->npartitions && !rd->err; i++) {
            topic->partitions[i].partition_index = st_rd_i32(rd);
            topic->partitions[i].leader_epoch = st_rd_i32(rd);
            topic->partitions[i].delete_partition = st_rd_bool(rd);
            st_rd_tags(rd, F);
        }
        st_rd_tags(rd, F);
    }
    return finish(rd);
}

void st_stop_replica_resp_encode(st_buf *b, const st_ib_partition_errors_resp *m)
{
    errors_resp_encode(b, m);
}

int st_stop_replica_resp_decode(st_rd *rd, st_ib_arena *a, st_ib_partition_errors_resp *m)
{
    return errors_resp_decode(rd, a, m);
}

/* ---- UpdateMetadata ---- */

void st_update_metadata_req_encode(st_buf *b, const st_update_metadata_req *m)
{
    st_buf_put_i32(b, m->controller_id);
    st_buf_put_i32(b, m->controller_epoch);
    st_buf_put_i64(b, m->broker_epoch);
    st_wr_array(b, F, m->ntopics);
    for (int32_t t = 0; t < m->ntopics; t++) {
        wr_str(b, m->topics[t].name);
        st_wr_array(b, F, m->topics[t].npartitions);
        for (int32_t i = 0; i < m->topics[t].npartitions; i++) {
            const st_um_partition *p = &m->topics[t].partitions[i];
            st_buf_put_i32(b, p->partition_index);
            st_buf_put_i32(b, p->controller_epoch);
            st_buf_put_i32(b, p->leader);
            st_buf_put_i32(b, p->leader_epoch);
            wr_ids(b, p->isr);
            st_buf_put_i32(b, p->zk_version);
            wr_ids(b, p->replicas);
            wr_ids(b, p->offline_replicas);
            st_wr_tags(b, F);
        }
        st_wr_tags(b, F);
    }
    st_wr_array(b, F, m->nlive_brokers);
    for (int32_t i = 0; i < m->nlive_brokers; i++) {
        const st_um_broker *br = &m->live_brokers[i];
        st_buf_put_i32(b, br->id);
        st_wr_array(b, F, br->nendpoints);
        for (int32_t e = 0; e < br->nendpoints; e++) {
            st_buf_put_i32(b, br->endpoints[e].port);
            wr_str(b, br->endpoints[e].host);
            wr_str(b, br->endpoints[e].listener);
            st_buf_put_i16(b, br->endpoints[e].security_protocol);
            st_wr_tags(b, F);
        }
        wr_str(b, br->rack);
        st_wr_tags(b, F);
    }
    st_wr_tags(b, F);
}

int st_update_metadata_req_decode(st_rd *rd, st_ib_arena *a, st_update_metadata_req *m)
{
    memset(m, 0, sizeof *m);
    m->controller_id = st_rd_i32(rd);
    m->controller_epoch = st_rd_i32(rd);
    m->broker_epoch = st_rd_i64(rd);
    m->ntopics = rd_count(rd, 3);
    m->topics = rd_alloc(a, m->ntopics, sizeof *m->topics);
    for (int32_t t = 0; t < m->ntopics && !rd->err; t++) {
        st_um_topic *topic = &m->topics[t];
        topic->name = st_rd_str(rd, F);
        topic->npartitions = rd_count(rd, 24);
        topic->partitions = rd_alloc(a, topic->npartitions, sizeof *topic->partitions);
        for (int32_t i = 0; i < topic->npartitions && !rd->err; i++) {
            st_um_partition *p = &topic->partitions[i];
            p->partition_index = st_rd_i32(rd);
            p->controller_epoch = st_rd_i32(rd);
            p->leader = st_rd_i32(rd);
            p->leader_epoch = st_rd_i32(rd);
            rd_ids(rd, a, &p->isr);
            p->zk_version = st_rd_i32(rd);
            rd_ids(rd, a, &p->replicas);
            rd_ids(rd, a, &p->offline_replicas);
            st_rd_tags(rd, F);
        }
        st_rd_tags(rd, F);
    }
    m->nlive_brokers = rd_count(rd, 7);
    m->live_brokers = rd_alloc(a, m->nlive_brokers, sizeof *m->live_brokers);
    for (int32_t i = 0; i < m->nlive_brokers && !rd->err; i++) {
        st_um_broker *br = &m->live_brokers[i];
        br->id = st_rd_i32(rd);
        br->nendpoints = rd_count(rd, 9);
        br->endpoints = rd_alloc(a, br->nendpoints, sizeof *br->endpoints);
        for (int32_t e = 0; e < br->nendpoints && !rd->err; e++) {
            br->endpoints[e].port = st_rd_i32(rd);
            br->endpoints[e].host = st_rd_str(rd, F);
            br->endpoints[e].listener = st_rd_str(rd, F);
            br->endpoints[e].security_protocol = st_rd_i16(rd);
            st_rd_tags(rd, F);
        }
        br->rack = st_rd_str(rd, F);
        st_rd_tags(rd, F);
    }
    return finish(rd);
}

void st_update_metadata_resp_encode(st_buf *b, int16_t error_code)
{
    st_buf_put_i16(b, error_code);
    st_wr_tags(b, F);
}

int st_update_metadata_resp_decode(st_rd *rd, int16_t *error_code)
{
    *error_code = st_rd_i16(rd);
    return finish(rd);
}

/* ---- ControlledShutdown ---- */

void st_controlled_shutdown_req_encode(st_buf *b, const st_controlled_shutdown_req *m)
{
    st_buf_put_i32(b, m->broker_id);
    st_buf_put_i64(b, m->broker_epoch);
    st_wr_tags(b, F);
}

int st_controlled_shutdown_req_decode(st_rd *rd, st_controlled_shutdown_req *m)
{
    m->broker_id = st_rd_i32(rd);
    m->broker_epoch = st_rd_i64(rd);
    return finish(rd);
}

void st_controlled_shutdown_resp_encode(st_buf *b, const st_controlled_shutdown_resp *m)
{
    st_buf_put_i16(b, m->error_code);
    st_wr_array(b, F, m->nremaining);
    for (int32_t i = 0; i < m->nremaining; i++) {
        wr_str(b, m->remaining[i].topic);
        st_buf_put_i32(b, m->remaining[i].partition_index);
        st_wr_tags(b, F);
    }
    st_wr_tags(b, F);
}

int st_controlled_shutdown_resp_decode(st_rd *rd, st_ib_arena *a, st_controlled_shutdown_resp *m)
{
    memset(m, 0, sizeof *m);
    m->error_code = st_rd_i16(rd);
    m->nremaining = rd_count(rd, 6);
    m->remaining = rd_alloc(a, m->nremaining, sizeof *m->remaining);
    for (int32_t i = 0; i < m->nremaining && !rd->err; i++) {
        m->remaining[i].topic = st_rd_str(rd, F);
        m->remaining[i].partition_index = st_rd_i32(rd);
        st_rd_tags(rd, F);
    }
    return finish(rd);
}

/* ---- OffsetForLeaderEpoch ---- */

void st_offset_for_leader_epoch_req_encode(st_buf *b, const st_offset_for_leader_epoch_req *m)
{
    st_buf_put_i32(b, m->replica_id);
    st_wr_array(b, F, m->ntopics);
    for (int32_t t = 0; t < m->ntopics; t++) {
        wr_str(b, m->topics[t].topic);
        st_wr_array(b, F, m->topics[t].npartitions);
        for (int32_t i = 0; i < m->topics[t].npartitions; i++) {
            const st_ofle_partition *p = &m->topics[t].partitions[i];
            st_buf_put_i32(b, p->partition);
            st_buf_put_i32(b, p->current_leader_epoch);
            st_buf_put_i32(b, p->leader_epoch);
            st_wr_tags(b, F);
        }
        st_wr_tags(b, F);
    }
    st_wr_tags(b, F);
}

int st_offset_for_leader_epoch_req_decode(st_rd *rd, st_ib_arena *a,
                                          st_offset_for_leader_epoch_req *m)
{
    memset(m, 0, sizeof *m);
    m->replica_id = st_rd_i32(rd);
    m->ntopics = rd_count(rd, 3);
    m->topics = rd_alloc(a, m->ntopics, sizeof *m->topics);
    for (int32_t t = 0; t < m->ntopics && !rd->err; t++) {
        st_ofle_topic *topic = &m->topics[t];
        topic->topic = st_rd_str(rd, F);
        topic->npartitions = rd_count(rd, 13);
        topic->partitions = rd_alloc(a, topic->npartitions, sizeof *topic->partitions);
        for (int32_t i = 0; i < topic->npartitions && !rd->err; i++) {
            topic->partitions[i].partition = st_rd_i32(rd);
            topic->partitions[i].current_leader_epoch = st_rd_i32(rd);
            topic->partitions[i].leader_epoch = st_rd_i32(rd);
            st_rd_tags(rd, F);
        }
        st_rd_tags(rd, F);
    }
    return finish(rd);
}

void st_offset_for_leader_epoch_resp_encode(st_buf *b, const st_offset_for_leader_epoch_resp *m)
{
    st_buf_put_i32(b, m->throttle_time_ms);
    st_wr_array(b, F, m->ntopics);
    for (int32_t t = 0; t < m->ntopics; t++) {
        wr_str(b, m->topics[t].topic);
        st_wr_array(b, F, m->topics[t].npartitions);
        for (int32_t i = 0; i < m->topics[t].npartitions; i++) {
            const st_ofle_partition_result *p = &m->topics[t].partitions[i];
            st_buf_put_i16(b, p->error_code);
            st_buf_put_i32(b, p->partition);
            st_buf_put_i32(b, p->leader_epoch);
            st_buf_put_i64(b, p->end_offset);
            st_wr_tags(b, F);
        }
        st_wr_tags(b, F);
    }
    st_wr_tags(b, F);
}

int st_offset_for_leader_epoch_resp_decode(st_rd *rd, st_ib_arena *a,
                                           st_offset_for_leader_epoch_resp *m)
{
    memset(m, 0, sizeof *m);
    m->throttle_time_ms = st_rd_i32(rd);
    m->ntopics = rd_count(rd, 3);
    m->topics = rd_alloc(a, m->ntopics, sizeof *m->topics);
    for (int32_t t = 0; t < m->ntopics && !rd->err; t++) {
        st_ofle_topic_result *topic = &m->topics[t];
        topic->topic = st_rd_str(rd, F);
        topic->npartitions = rd_count(rd, 19);
        topic->partitions = rd_alloc(a, topic->npartitions, sizeof *topic->partitions);
        for (int32_t i = 0; i < topic->npartitions && !rd->err; i++) {
            st_ofle_partition_result *p = &topic->partitions[i];
            p->error_code = st_rd_i16(rd);
            p->partition = st_rd_i32(rd);
            p->leader_epoch = st_rd_i32(rd);
            p->end_offset = st_rd_i64(rd);
            st_rd_tags(rd, F);
        }
        st_rd_tags(rd, F);
    }
    return finish(rd);
}

/* ---- AlterPartition ---- */

void st_alter_partition_req_encode(st_buf *b, const st_alter_partition_req *m)
{
    st_buf_put_i32(b, m->broker_id);
    st_buf_put_i64(b, m->broker_epoch);
    st_wr_array(b, F, m->ntopics);
    for (int32_t t = 0; t < m->ntopics; t++) {
        wr_str(b, m->topics[t].name);
        st_wr_array(b, F, m->topics[t].npartitions);
        for (int32_t i = 0; i < m->topics[t].npartitions; i++) {
            const st_ap_partition *p = &m->topics[t].partitions[i];
            st_buf_put_i32(b, p->partition_index);
            st_buf_put_i32(b, p->leader_epoch);
            wr_ids(b, p->new_isr);
            st_buf_put_i32(b, p->partition_epoch);
            st_wr_tags(b, F);
        }
        st_wr_tags(b, F);
    }
    st_wr_tags(b, F);
}

int st_alter_partition_req_decode(st_rd *rd, st_ib_arena *a, st_alter_partition_req *m)
{
    memset(m, 0, sizeof *m);
    m->broker_id = st_rd_i32(rd);
    m->broker_epoch = st_rd_i64(rd);
    m->ntopics = rd_count(rd, 3);
    m->topics = rd_alloc(a, m->ntopics, sizeof *m->topics);
    for (int32_t t = 0; t < m->ntopics && !rd->err; t++) {
        st_ap_topic *topic = &m->topics[t];
        topic->name = st_rd_str(rd, F);
        topic->npartitions = rd_count(rd, 14);
        topic->partitions = rd_alloc(a, topic->npartitions, sizeof *topic->partitions);
        for (int32_t i = 0; i < topic->npartitions && !rd->err; i++) {
            st_ap_partition *p = &topic->partitions[i];
            p->partition_index = st_rd_i32(rd);
            p->leader_epoch = st_rd_i32(rd);
            rd_ids(rd, a, &p->new_isr);
            p->partition_epoch = st_rd_i32(rd);
            st_rd_tags(rd, F);
        }
        st_rd_tags(rd, F);
    }
    return finish(rd);
}

void st_alter_partition_resp_encode(st_buf *b, const st_alter_partition_resp *m)
{
    st_buf_put_i32(b, m->throttle_time_ms);
    st_buf_put_i16(b, m->error_code);
    st_wr_array(b, F, m->ntopics);
    for (int32_t t = 0; t < m->ntopics; t++) {
        wr_str(b, m->topics[t].name);
        st_wr_array(b, F, m->topics[t].npartitions);
        for (int32_t i = 0; i < m->topics[t].npartitions; i++) {
            const st_ap_partition_result *p = &m->topics[t].partitions[i];
            st_buf_put_i32(b, p->partition_index);
            st_buf_put_i16(b, p->error_code);
            st_buf_put_i32(b, p->leader_id);
            st_buf_put_i32(b, p->leader_epoch);
            wr_ids(b, p->isr);
            st_buf_put_i32(b, p->partition_epoch);
            st_wr_tags(b, F);
        }
        st_wr_tags(b, F);
    }
    st_wr_tags(b, F);
}

int st_alter_partition_resp_decode(st_rd *rd, st_ib_arena *a, st_alter_partition_resp *m)
{
    memset(m, 0, sizeof *m);
    m->throttle_time_ms = st_rd_i32(rd);
    m->error_code = st_rd_i16(rd);
    m->ntopics = rd_count(rd, 3);
    m->topics = rd_alloc(a, m->ntopics, sizeof *m->topics);
    for (int32_t t = 0; t < m->ntopics && !rd->err; t++) {
        st_ap_topic_result *topic = &m->topics[t];
        topic->name = st_rd_str(rd, F);
        topic->npartitions = rd_count(rd, 20);
        topic->partitions = rd_alloc(a, topic->npartitions, sizeof *topic->partitions);
        for (int32_t i = 0; i < topic->npartitions && !rd->err; i++) {
            st_ap_partition_result *p = &topic->partitions[i];
            p->partition_index = st_rd_i32(rd);
            p->error_code = st_rd_i16(rd);
            p->leader_id = st_rd_i32(rd);
            p->leader_epoch = st_rd_i32(rd);
            rd_ids(rd, a, &p->isr);
            p->partition_epoch = st_rd_i32(rd);
            st_rd_tags(rd, F);
        }
        st_rd_tags(rd, F);
    }
    return finish(rd);
}
