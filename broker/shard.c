/*
 * The shards and who owns what: the few places that know how many loops there are.
 * See shard.h.
 */
#include "broker/shard.h"

#include "broker/broker_int.h"

st_shard *st_shard_main(st_broker *b)
{
    return &b->shards[0];
}

st_shard *st_shard_owner(st_broker *b, const st_log *log)
{
    (void)log; /* one loop: it owns every partition */
    return &b->shards[0];
}

void st_shard_stats_sum(const st_broker *b, st_shard_stats *out)
{
    *out = (st_shard_stats){0};
    for (uint32_t i = 0; i < b->nshards; i++) {
        const st_shard_stats *s = &b->shards[i].stats;
        out->bytes_in += s->bytes_in;
        out->bytes_out += s->bytes_out;
        out->records_in += s->records_in;
        out->auth_abandoned += s->auth_abandoned;
    }
}
