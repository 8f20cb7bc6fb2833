/* The transaction state machine; see txn_state.h. */
#include "broker/txn/txn_state.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"

static const char *const status_names[ST_TXN_STATUS_COUNT] = {
    "Empty",          "Ongoing",       "PrepareCommit", "PrepareAbort",
    "CompleteCommit", "CompleteAbort", "Dead",          "PrepareEpochFence",
};

const char *st_txn_status_name(int status)
{
    return status >= 0 && status < ST_TXN_STATUS_COUNT ? status_names[status] : "Unknown";
}

bool st_txn_status_from_name(st_str name, st_txn_status *out)
{
    for (int i = 0; i < ST_TXN_STATUS_COUNT; i++)
        if (st_str_eq(name, status_names[i])) {
            *out = (st_txn_status)i;
            return true;
        }
    return false;
}

bool st_txn_transition_valid(st_txn_status from, st_txn_status to)
{
    /* the states each state may be entered from (Kafka's TransactionState) */
    static const uint8_t from_mask[ST_TXN_STATUS_COUNT] = {
        [ST_TXN_EMPTY] =
            1 << ST_TXN_EMPTY | 1 << ST_TXN_COMPLETE_COMMIT | 1 << ST_TXN_COMPLETE_ABORT,
        [ST_TXN_ONGOING] = 1 << ST_TXN_ONGOING | 1 << ST_TXN_EMPTY | 1 << ST_TXN_COMPLETE_COMMIT |
                           1 << ST_TXN_COMPLETE_ABORT,
        [ST_TXN_PREPARE_COMMIT] = 1 << ST_TXN_ONGOING,
        [ST_TXN_PREPARE_ABORT] = 1 << ST_TXN_ONGOING | 1 << ST_TXN_PREPARE_EPOCH_FENCE,
        [ST_TXN_COMPLETE_COMMIT] = 1 << ST_TXN_PREPARE_COMMIT,
        [ST_TXN_COMPLETE_ABORT] = 1 << ST_TXN_PREPARE_ABORT,
        [ST_TXN_DEAD] =
            1 << ST_TXN_EMPTY | 1 << ST_TXN_COMPLETE_COMMIT | 1 << ST_TXN_COMPLETE_ABORT,
        [ST_TXN_PREPARE_EPOCH_FENCE] = 1 << ST_TXN_ONGOING,
    };
    if ((int)from < 0 || from >= ST_TXN_STATUS_COUNT || (int)to < 0 || to >= ST_TXN_STATUS_COUNT)
        return false;
    return (from_mask[to] >> from) & 1;
}

/* Moves m to `to`; the machine never takes a transition Kafka does not allow. */
static void transit(st_txn_meta *m, st_txn_status to, int64_t now_ms)
{
    assert(st_txn_transition_valid(m->status, to));
    m->status = to;
    m->last_update_ms = now_ms;
}

st_txn_meta *st_txn_meta_new(const char *id, size_t idlen, int64_t producer_id, int64_t now_ms)
{
    st_txn_meta *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->transactional_id = malloc(idlen + 1);
    if (!m->transactional_id) {
        free(m);
        return NULL;
    }
    memcpy(m->transactional_id, id, idlen);
    m->transactional_id[idlen] = '\0';
    m->producer_id = producer_id;
    m->producer_epoch = -1;
    m->last_producer_epoch = -1;
    m->status = ST_TXN_EMPTY;
    m->start_ms = -1;
    m->last_update_ms = now_ms;
    return m;
}

static void clear_partitions(st_txn_meta *m)
{
    for (int32_t i = 0; i < m->npartitions; i++)
        free(m->partitions[i].topic);
    m->npartitions = 0;
}

void st_txn_meta_free(st_txn_meta *m)
{
    if (!m)
        return;
    clear_partitions(m);
    free(m->partitions);
    free(m->transactional_id);
    free(m);
}

bool st_txn_has_partition(const st_txn_meta *m, st_str topic, int32_t partition)
{
    for (int32_t i = 0; i < m->npartitions; i++)
        if (m->partitions[i].partition == partition &&
            (size_t)topic.len == strlen(m->partitions[i].topic) &&
            memcmp(m->partitions[i].topic, topic.ptr, (size_t)topic.len) == 0)
            return true;
    return false;
}

static bool in_prepare(const st_txn_meta *m)
{
    return m->status == ST_TXN_PREPARE_COMMIT || m->status == ST_TXN_PREPARE_ABORT ||
           m->status == ST_TXN_PREPARE_EPOCH_FENCE;
}

/* Bumps the epoch, remembering the old one; false (nothing changed) when the epoch is
 * exhausted and the id needs a new producer id. Kafka stops one short of INT16_MAX. */
static bool bump_epoch(st_txn_meta *m)
{
    if (m->producer_epoch >= INT16_MAX - 1)
        return false;
    m->last_producer_epoch = m->producer_epoch;
    m->producer_epoch++;
    return true;
}

st_txn_init_action st_txn_init_pid(st_txn_meta *m, const st_txn_limits *lim, int32_t timeout_ms,
                                   int64_t pid, int16_t epoch, int64_t now_ms, int16_t *error)
{
    *error = ST_ERR_NONE;
    if (timeout_ms <= 0 || timeout_ms > lim->max_timeout_ms) {
        *error = ST_ERR_INVALID_TRANSACTION_TIMEOUT;
        return ST_TXN_INIT_ANSWER;
    }
    if (in_prepare(m) || m->status == ST_TXN_DEAD) {
        *error = ST_ERR_CONCURRENT_TRANSACTIONS;
        return ST_TXN_INIT_ANSWER;
    }
    bool has_expectation = pid >= 0 && m->producer_epoch >= 0;
    if (has_expectation) {
        bool current = pid == m->producer_id && epoch == m->producer_epoch;
        bool retry = pid == m->producer_id && epoch >= 0 && epoch == m->last_producer_epoch;
        if (!current && !retry) {
            *error = ST_ERR_PRODUCER_FENCED;
            return ST_TXN_INIT_ANSWER;
        }
        if (retry && m->status != ST_TXN_ONGOING) {
            /* its answer was lost: the bump it asked for is the current epoch */
            m->timeout_ms = timeout_ms;
            return ST_TXN_INIT_ANSWER;
        }
    }
    if (m->status == ST_TXN_ONGOING) {
        bool needs_new_pid;
        m->timeout_ms = timeout_ms;
        st_txn_fence(m, now_ms, &needs_new_pid);
        return ST_TXN_INIT_ABORT_FIRST;
    }
    /* Empty, CompleteCommit or CompleteAbort: a new epoch, nothing pending */
    m->timeout_ms = timeout_ms;
    m->start_ms = -1;
    clear_partitions(m);
    if (!bump_epoch(m))
        return ST_TXN_INIT_NEW_PID;
    transit(m, ST_TXN_EMPTY, now_ms);
    return ST_TXN_INIT_ANSWER;
}

void st_txn_meta_new_pid(st_txn_meta *m, int64_t producer_id, int64_t now_ms)
{
    assert(!in_prepare(m) && m->status != ST_TXN_ONGOING);
    m->producer_id = producer_id;
    m->producer_epoch = 0;
    m->last_producer_epoch = -1;
    m->start_ms = -1;
    clear_partitions(m);
    transit(m, ST_TXN_EMPTY, now_ms);
}

int16_t st_txn_check_producer(const st_txn_meta *m, int64_t pid, int16_t epoch)
{
    if (pid != m->producer_id)
        return ST_ERR_INVALID_PRODUCER_ID_MAPPING;
    if (epoch != m->producer_epoch)
        return ST_ERR_PRODUCER_FENCED;
    return ST_ERR_NONE;
}

int16_t st_txn_add_partitions(st_txn_meta *m, const st_txn_limits *lim, int64_t pid, int16_t epoch,
                              const st_str *topics, const int32_t *partitions, int32_t n,
                              int64_t now_ms, int32_t *added)
{
    *added = 0;
    int16_t rc = st_txn_check_producer(m, pid, epoch);
    if (rc)
        return rc;
    if (in_prepare(m))
        return ST_ERR_CONCURRENT_TRANSACTIONS;
    if (m->status == ST_TXN_DEAD)
        return ST_ERR_INVALID_TXN_STATE;
    if (n <= 0)
        return ST_ERR_NONE; /* nothing asked: no transaction begins */
    /* count the new ones first, so an error changes nothing */
    int32_t fresh = 0;
    for (int32_t i = 0; i < n; i++) {
        bool dup = st_txn_has_partition(m, topics[i], partitions[i]);
        for (int32_t j = 0; j < i && !dup; j++)
            dup = partitions[j] == partitions[i] && topics[j].len == topics[i].len &&
                  memcmp(topics[j].ptr, topics[i].ptr, (size_t)topics[i].len) == 0;
        if (!dup)
            fresh++;
    }
    if (fresh > lim->max_partitions - m->npartitions)
        return ST_ERR_INVALID_TXN_STATE;
    if (m->npartitions + fresh > m->cap) {
        int32_t cap = m->cap ? m->cap : 8;
        while (cap < m->npartitions + fresh)
            cap *= 2;
        st_txn_tp *grown = realloc(m->partitions, (size_t)cap * sizeof *grown);
        if (!grown)
            abort(); /* as st_buf and st_arena do */
        m->partitions = grown;
        m->cap = cap;
    }
    for (int32_t i = 0; i < n; i++) {
        if (st_txn_has_partition(m, topics[i], partitions[i]))
            continue;
        char *name = malloc((size_t)topics[i].len + 1);
        if (!name)
            abort();
        memcpy(name, topics[i].ptr, (size_t)topics[i].len);
        name[topics[i].len] = '\0';
        m->partitions[m->npartitions++] = (st_txn_tp){name, partitions[i]};
        (*added)++;
    }
    if (m->status != ST_TXN_ONGOING) {
        m->start_ms = now_ms;
        transit(m, ST_TXN_ONGOING, now_ms);
    } else if (*added) {
        m->last_update_ms = now_ms;
    }
    return ST_ERR_NONE;
}

int16_t st_txn_end(st_txn_meta *m, int64_t pid, int16_t epoch, bool commit, int64_t now_ms,
                   bool *write_markers)
{
    *write_markers = false;
    int16_t rc = st_txn_check_producer(m, pid, epoch);
    if (rc)
        return rc;
    switch (m->status) {
    case ST_TXN_ONGOING:
        transit(m, commit ? ST_TXN_PREPARE_COMMIT : ST_TXN_PREPARE_ABORT, now_ms);
        *write_markers = true;
        return ST_ERR_NONE;
    case ST_TXN_COMPLETE_COMMIT:
        return commit ? ST_ERR_NONE : ST_ERR_INVALID_TXN_STATE;
    case ST_TXN_COMPLETE_ABORT:
        return commit ? ST_ERR_INVALID_TXN_STATE : ST_ERR_NONE;
    case ST_TXN_PREPARE_COMMIT:
        return commit ? ST_ERR_CONCURRENT_TRANSACTIONS : ST_ERR_INVALID_TXN_STATE;
    case ST_TXN_PREPARE_ABORT:
        return commit ? ST_ERR_INVALID_TXN_STATE : ST_ERR_CONCURRENT_TRANSACTIONS;
    case ST_TXN_PREPARE_EPOCH_FENCE:
        return ST_ERR_CONCURRENT_TRANSACTIONS;
    default: /* Empty: nothing was begun; Dead */
        return ST_ERR_INVALID_TXN_STATE;
    }
}

void st_txn_complete(st_txn_meta *m, int64_t now_ms)
{
    assert(m->status == ST_TXN_PREPARE_COMMIT || m->status == ST_TXN_PREPARE_ABORT);
    transit(m, m->status == ST_TXN_PREPARE_COMMIT ? ST_TXN_COMPLETE_COMMIT : ST_TXN_COMPLETE_ABORT,
            now_ms);
    clear_partitions(m);
}

bool st_txn_timed_out(const st_txn_meta *m, int64_t now_ms)
{
    return m->status == ST_TXN_ONGOING && m->start_ms >= 0 &&
           now_ms - m->start_ms > (int64_t)m->timeout_ms;
}

void st_txn_fence(st_txn_meta *m, int64_t now_ms, bool *needs_new_pid)
{
    assert(m->status == ST_TXN_ONGOING);
    transit(m, ST_TXN_PREPARE_EPOCH_FENCE, now_ms);
    *needs_new_pid = !bump_epoch(m);
    transit(m, ST_TXN_PREPARE_ABORT, now_ms);
}

bool st_txn_expired(const st_txn_meta *m, const st_txn_limits *lim, int64_t now_ms)
{
    bool idle = m->status == ST_TXN_EMPTY || m->status == ST_TXN_COMPLETE_COMMIT ||
                m->status == ST_TXN_COMPLETE_ABORT;
    return idle && now_ms - m->last_update_ms > lim->id_expiration_ms;
}
