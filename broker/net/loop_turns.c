/*
 * The loop-turn histogram (loop.h): log-linear buckets — exact below 8 µs, then each
 * power of two cut into 8 — so 320 counters cover up to 2^40 µs (12 days) and a
 * percentile read from them is within 12.5% (upwards) of the truth. Recording is one
 * count_leading_zeros and an increment: cheap enough for every turn.
 */
#include "broker/net/loop.h"

static int bucket_of(int64_t us)
{
    if (us < 8)
        return us < 0 ? 0 : (int)us;
    int e = 63 - __builtin_clzll((unsigned long long)us); /* 2^e <= us */
    int sub = (int)((us >> (e - 3)) & 7);
    int idx = 8 + (e - 3) * 8 + sub;
    return idx < ST_LOOP_TURN_BUCKETS ? idx : ST_LOOP_TURN_BUCKETS - 1;
}

/* The largest value that lands in bucket idx. */
static int64_t bucket_top(int idx)
{
    if (idx < 8)
        return idx;
    int e = (idx - 8) / 8 + 3, sub = (idx - 8) % 8;
    return ((int64_t)(8 + sub) << (e - 3)) + ((int64_t)1 << (e - 3)) - 1;
}

void st_loop_turn_record(st_loop_turn_hist *h, int64_t us)
{
    h->turns++;
    h->count[bucket_of(us)]++;
    if (us > h->longest_us)
        h->longest_us = us;
}

/* The upper edge of the bucket holding the turn of rank ceil(turns * permille / 1000)
 * (the nearest-rank percentile), never above the longest turn seen. */
static int64_t quantile(const st_loop_turn_hist *h, uint64_t permille)
{
    if (h->turns == 0)
        return 0;
    uint64_t rank = (h->turns * permille + 999) / 1000;
    uint64_t seen = 0;
    for (int i = 0; i < ST_LOOP_TURN_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= rank) {
            int64_t top = bucket_top(i);
            return top < h->longest_us ? top : h->longest_us;
        }
    }
    return h->longest_us;
}

void st_loop_turn_summary(const st_loop_turn_hist *h, st_loop_turns *out)
{
    out->turns = h->turns;
    out->longest_us = h->longest_us;
    out->p50_us = quantile(h, 500);
    out->p99_us = quantile(h, 990);
    out->p999_us = quantile(h, 999);
}
