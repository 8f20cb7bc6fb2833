/*
 * The controller's pure decisions (see controller_logic.h for the rules and their
 * origin). Everything is bounded by ST_CTL_MAX_REPLICAS per partition; brokers lists
 * are sorted copies on the stack or the heap, never the caller's.
 */
#include "broker/cluster/controller_logic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"

bool st_ctl_ids_has(st_ctl_ids set, int32_t id)
{
    for (int32_t i = 0; i < set.n; i++)
        if (set.ids[i] == id)
            return true;
    return false;
}

static bool has(const int32_t *ids, int32_t n, int32_t id)
{
    return st_ctl_ids_has((st_ctl_ids){ids, n}, id);
}

static const char *rack_of(const st_ctl_broker *b)
{
    return b->rack && b->rack[0] ? b->rack : NULL;
}

static int by_id(const void *a, const void *b)
{
    int32_t x = ((const st_ctl_broker *)a)->id, y = ((const st_ctl_broker *)b)->id;
    return (x > y) - (x < y);
}

static int by_rack_then_id(const void *a, const void *b)
{
    int c = strcmp(rack_of(a), rack_of(b));
    return c ? c : by_id(a, b);
}

/* The broker at which follower j of a partition led by `first` sits: a shift of 1 to
 * n-1 past the leader, so a follower never lands on its own leader. */
static int32_t follower_index(int32_t first, int32_t shift, int32_t j, int32_t n)
{
    int32_t step = 1 + (int32_t)(((int64_t)shift + j) % (n - 1));
    return (first + step) % n;
}

/* Brokers ordered rack by rack in turn: with racks a:{1,2} b:{3} c:{4,5} → 1,3,4,2,5. */
static void rack_alternated(st_ctl_broker *sorted, int32_t n, st_ctl_broker *out)
{
    qsort(sorted, (size_t)n, sizeof *sorted, by_rack_then_id);
    /* start of each rack's run in `sorted`, and how much of it was taken */
    int32_t *start = calloc((size_t)n + 1, sizeof *start);
    int32_t *taken = calloc((size_t)n + 1, sizeof *taken);
    if (!start || !taken)
        abort();
    int32_t nracks = 0;
    for (int32_t i = 0; i < n; i++)
        if (i == 0 || strcmp(rack_of(&sorted[i]), rack_of(&sorted[i - 1])) != 0)
            start[nracks++] = i;
    start[nracks] = n;
    int32_t placed = 0;
    for (int32_t r = 0; placed < n; r = (r + 1) % nracks) {
        if (start[r] + taken[r] < start[r + 1])
            out[placed++] = sorted[start[r] + taken[r]++];
    }
    free(start);
    free(taken);
}

int st_ctl_assign(const st_ctl_broker *brokers, int32_t nbrokers, int32_t npartitions,
                  int32_t replication_factor, int32_t first_partition, int32_t start_index,
                  st_ctl_rand_fn *rnd, void *rnd_ctx, int32_t *out, char *err, size_t errlen)
{
    if (npartitions <= 0) {
        snprintf(err, errlen, "number of partitions must be larger than 0 (asked for %d)",
                 npartitions);
        return ST_ERR_INVALID_PARTITIONS;
    }
    if (replication_factor <= 0) {
        snprintf(err, errlen, "replication factor must be larger than 0 (asked for %d)",
                 replication_factor);
        return ST_ERR_INVALID_REPLICATION_FACTOR;
    }
    if (replication_factor > nbrokers) {
        snprintf(err, errlen,
                 "replication factor %d is larger than the %d available broker%s: lower it, or "
                 "start more brokers",
                 replication_factor, nbrokers, nbrokers == 1 ? "" : "s");
        return ST_ERR_INVALID_REPLICATION_FACTOR;
    }
    if (replication_factor > ST_CTL_MAX_REPLICAS) {
        snprintf(err, errlen, "replication factor %d is larger than the most supported (%d)",
                 replication_factor, ST_CTL_MAX_REPLICAS);
        return ST_ERR_INVALID_REPLICATION_FACTOR;
    }
    int32_t with_rack = 0;
    for (int32_t i = 0; i < nbrokers; i++)
        with_rack += rack_of(&brokers[i]) != NULL;
    if (with_rack != 0 && with_rack != nbrokers) {
        snprintf(err, errlen,
                 "%d of the %d live brokers have broker.rack set and %d do not: set it on every "
                 "broker (or on none) for rack-aware assignment",
                 with_rack, nbrokers, nbrokers - with_rack);
        return ST_ERR_INVALID_REPLICA_ASSIGNMENT;
    }

    st_ctl_broker *sorted = malloc((size_t)nbrokers * sizeof *sorted);
    st_ctl_broker *order = malloc((size_t)nbrokers * sizeof *order);
    if (!sorted || !order)
        abort();
    memcpy(sorted, brokers, (size_t)nbrokers * sizeof *sorted);
    int32_t nracks = 1;
    if (with_rack) {
        rack_alternated(sorted, nbrokers, order);
        nracks = 0;
        for (int32_t i = 0; i < nbrokers; i++)
            nracks += i == 0 || strcmp(rack_of(&sorted[i]), rack_of(&sorted[i - 1])) != 0;
    } else {
        qsort(sorted, (size_t)nbrokers, sizeof *sorted, by_id);
        memcpy(order, sorted, (size_t)nbrokers * sizeof *order);
    }
    int32_t n = nbrokers;
    int32_t start = start_index >= 0 ? start_index % n : (int32_t)rnd(rnd_ctx, (uint32_t)n);
    int32_t shift = start_index >= 0 ? start_index % n : (int32_t)rnd(rnd_ctx, (uint32_t)n);
    const char *racks_used[ST_CTL_MAX_REPLICAS];
    for (int32_t i = 0; i < npartitions; i++) {
        int32_t p = first_partition + i;
        if (p > 0 && p % n == 0)
            shift++;
        int32_t first = (int32_t)(((int64_t)p + start) % n);
        int32_t *row = &out[(int64_t)i * replication_factor];
        row[0] = order[first].id;
        if (!with_rack) {
            for (int32_t j = 0; j < replication_factor - 1; j++)
                row[j + 1] = order[follower_index(first, shift, j, n)].id;
            continue;
        }
        /* rack-aware: walk the shifted sequence, skipping brokers (racks) that already
         * hold a replica while others do not */
        int32_t placed = 1, nused = 1;
        racks_used[0] = rack_of(&order[first]);
        for (int32_t k = 0; placed < replication_factor; k++) {
            const st_ctl_broker *b = &order[follower_index(
                first, (int32_t)(((int64_t)shift * nracks) % (n - 1 ? n - 1 : 1)), k, n)];
            bool rack_taken = false;
            for (int32_t u = 0; u < nused; u++)
                rack_taken |= strcmp(racks_used[u], rack_of(b)) == 0;
            bool broker_taken = has(row, placed, b->id);
            if ((!rack_taken || nused == nracks) && (!broker_taken || placed == n)) {
                row[placed++] = b->id;
                if (!rack_taken)
                    racks_used[nused++] = rack_of(b);
            }
        }
    }
    free(sorted);
    free(order);
    return ST_ERR_NONE;
}

int st_ctl_check_assignment(const int32_t *const *replicas, const int32_t *counts,
                            int32_t npartitions, st_ctl_ids live, char *err, size_t errlen)
{
    if (npartitions <= 0) {
        snprintf(err, errlen, "a manual assignment must name at least one partition");
        return ST_ERR_INVALID_REPLICA_ASSIGNMENT;
    }
    for (int32_t p = 0; p < npartitions; p++) {
        if (counts[p] <= 0 || counts[p] > ST_CTL_MAX_REPLICAS) {
            snprintf(err, errlen, "partition %d: %d replicas; give 1 to %d broker ids", p,
                     counts[p], ST_CTL_MAX_REPLICAS);
            return ST_ERR_INVALID_REPLICATION_FACTOR;
        }
        if (counts[p] != counts[0]) {
            snprintf(err, errlen,
                     "partition %d has %d replicas but partition 0 has %d: every partition "
                     "needs the same replication factor",
                     p, counts[p], counts[0]);
            return ST_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
        for (int32_t r = 0; r < counts[p]; r++) {
            if (has(replicas[p], r, replicas[p][r])) {
                snprintf(err, errlen, "partition %d names broker %d twice", p, replicas[p][r]);
                return ST_ERR_INVALID_REPLICA_ASSIGNMENT;
            }
            if (!st_ctl_ids_has(live, replicas[p][r])) {
                snprintf(err, errlen, "partition %d names broker %d, which is not a live broker", p,
                         replicas[p][r]);
                return ST_ERR_INVALID_REPLICA_ASSIGNMENT;
            }
        }
    }
    return ST_ERR_NONE;
}

/* ---- elections ---- */

static void keep(const st_ctl_partition *p, st_ctl_decision *out)
{
    memset(out, 0, sizeof *out);
    out->leader = p->leader;
    out->leader_epoch = p->leader_epoch;
    out->nisr = p->nisr < ST_CTL_MAX_REPLICAS ? p->nisr : ST_CTL_MAX_REPLICAS;
    memcpy(out->isr, p->isr, (size_t)out->nisr * sizeof *out->isr);
}

static bool same_isr(const st_ctl_partition *p, const st_ctl_decision *d)
{
    if (p->nisr != d->nisr)
        return false;
    for (int32_t i = 0; i < d->nisr; i++)
        if (!has(p->isr, p->nisr, d->isr[i]))
            return false;
    return true;
}

static void finish(const st_ctl_partition *p, st_ctl_decision *out)
{
    out->changed = out->leader != p->leader || !same_isr(p, out);
    out->leader_epoch = p->leader_epoch + (out->changed ? 1 : 0);
}

void st_ctl_elect_offline(const st_ctl_partition *p, st_ctl_ids live, bool unclean_enabled,
                          st_ctl_decision *out)
{
    keep(p, out);
    int32_t leader = ST_CTL_NO_LEADER;
    for (int32_t i = 0; i < p->nreplicas && leader < 0; i++)
        if (st_ctl_ids_has(live, p->replicas[i]) && has(p->isr, p->nisr, p->replicas[i]))
            leader = p->replicas[i];
    if (leader >= 0) {
        out->nisr = 0;
        for (int32_t i = 0; i < p->nisr && i < ST_CTL_MAX_REPLICAS; i++)
            if (st_ctl_ids_has(live, p->isr[i]))
                out->isr[out->nisr++] = p->isr[i];
    } else if (unclean_enabled) {
        for (int32_t i = 0; i < p->nreplicas && leader < 0; i++)
            if (st_ctl_ids_has(live, p->replicas[i]))
                leader = p->replicas[i];
        if (leader >= 0) {
            out->unclean = true;
            out->isr[0] = leader;
            out->nisr = 1;
        }
    }
    out->leader = leader;
    finish(p, out);
}

void st_ctl_elect_preferred(const st_ctl_partition *p, st_ctl_ids live, st_ctl_decision *out)
{
    keep(p, out);
    if (p->nreplicas > 0) {
        int32_t preferred = p->replicas[0];
        if (preferred != p->leader && st_ctl_ids_has(live, preferred) &&
            has(p->isr, p->nisr, preferred))
            out->leader = preferred;
    }
    finish(p, out);
}

/* The ISR less `gone`, but never empty: the last member stays to say who had the data. */
static void isr_without(const st_ctl_partition *p, st_ctl_ids gone, st_ctl_decision *out)
{
    int32_t n = 0;
    for (int32_t i = 0; i < p->nisr && i < ST_CTL_MAX_REPLICAS; i++)
        if (!st_ctl_ids_has(gone, p->isr[i]))
            out->isr[n++] = p->isr[i];
    if (n == 0 && p->nisr > 0) {
        /* keep the leader if it was a member, else the last member */
        int32_t last = p->isr[p->nisr - 1];
        if (has(p->isr, p->nisr, p->leader))
            last = p->leader;
        out->isr[n++] = last;
    }
    out->nisr = n;
}

void st_ctl_on_brokers_dead(const st_ctl_partition *p, st_ctl_ids dead, st_ctl_ids live,
                            bool unclean_enabled, st_ctl_decision *out)
{
    if (p->leader < 0 || st_ctl_ids_has(dead, p->leader) || !st_ctl_ids_has(live, p->leader)) {
        st_ctl_elect_offline(p, live, unclean_enabled, out);
        if (out->leader < 0) {
            /* offline: no leader, and the ISR shrinks to its last member */
            isr_without(p, dead, out);
            finish(p, out);
        }
        return;
    }
    keep(p, out);
    isr_without(p, dead, out);
    finish(p, out);
}

bool st_ctl_controlled_shutdown(const st_ctl_partition *p, int32_t broker, st_ctl_ids shutting_down,
                                st_ctl_ids live, st_ctl_decision *out)
{
    keep(p, out);
    int32_t self[1] = {broker};
    st_ctl_ids gone = {self, 1};
    if (p->leader == broker) {
        int32_t leader = ST_CTL_NO_LEADER;
        for (int32_t i = 0; i < p->nreplicas && leader < 0; i++) {
            int32_t r = p->replicas[i];
            if (r != broker && has(p->isr, p->nisr, r) && st_ctl_ids_has(live, r) &&
                !st_ctl_ids_has(shutting_down, r))
                leader = r;
        }
        if (leader < 0) {
            finish(p, out); /* unchanged: it keeps leading */
            return true;
        }
        out->leader = leader;
        isr_without(p, gone, out);
        finish(p, out);
        return false;
    }
    if (has(p->isr, p->nisr, broker))
        isr_without(p, gone, out);
    finish(p, out);
    return false;
}

int st_ctl_affected(const st_ctl_partition *p, st_ctl_ids dead, st_ctl_ids returned,
                    st_ctl_ids live)
{
    int what = 0;
    bool offline = p->leader < 0 || !st_ctl_ids_has(live, p->leader);
    if (p->leader >= 0 && st_ctl_ids_has(dead, p->leader))
        what |= ST_CTL_LEADER_LOST;
    for (int32_t i = 0; i < p->nisr; i++)
        if (p->isr[i] != p->leader && st_ctl_ids_has(dead, p->isr[i]) && p->nisr > 1)
            what |= ST_CTL_ISR_SHRINK;
    for (int32_t i = 0; i < p->nreplicas; i++) {
        if (!st_ctl_ids_has(returned, p->replicas[i]))
            continue;
        what |= ST_CTL_NEW_REPLICA;
        if (offline && !(what & ST_CTL_LEADER_LOST))
            what |= ST_CTL_CAN_ONLINE;
    }
    int32_t live_isr = 0;
    for (int32_t i = 0; i < p->nisr; i++)
        live_isr += st_ctl_ids_has(live, p->isr[i]) && !st_ctl_ids_has(dead, p->isr[i]);
    if (live_isr < p->nreplicas)
        what |= ST_CTL_UNDER_REPLICATED;
    return what;
}
