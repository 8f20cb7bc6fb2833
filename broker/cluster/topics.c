/*
 * The topic registry (see topics.h): topics kept sorted by name in an array of
 * pointers (binary search; a topic's address never changes while it exists), each
 * partition an st_log in <data_dir>/<topic>-<partition>.
 *
 * <data_dir>/meta/topics.json (read and written by topics_store.c) is the source of
 * truth for which topics exist:
 *
 *   {"version": 1, "topics": [{"name": "orders", "id": "<32 hex digits>",
 *                              "partitions": 3, "overrides": {"retention.ms": "60000"}}]}
 *
 * It is rewritten whole, atomically, once per batch of changes: each change takes
 * effect in memory and is journalled (struct change); st_topics_persist writes the file
 * and then commits the journal (deleted topics' data goes only now) or, if the write
 * fails, undoes it, so memory never promises what topics.json does not hold. Outside
 * a batch (st_topics_defer) every change persists at once.
 * Partition directories on disk that topics.json does not name are reported and left
 * alone: they may be an operator's data, and deleting data on a guess is worse than a
 * warning.
 */
#include "broker/cluster/topics.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/cluster/topic_config.h"
#include "broker/cluster/topics_int.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/logging.h"

#define MAX_PARTITIONS ST_TOPICS_MAX_PARTITIONS
#define MAX_NAME_LEN   249
#define CLEAN_MARKER   ".clean_shutdown"

struct load_ctx {
    st_topics *t;
    bool clean;
};

/* One change since topics.json was last written, with what undoing it needs. */
typedef enum { CH_CREATED, CH_DELETED, CH_GREW, CH_ALTERED } change_kind;

typedef struct change {
    change_kind kind;
    st_topic *topic;         /* CH_DELETED: owned here (logs still open) until commit */
    int32_t old_npartitions; /* CH_GREW */
    st_config_kv *old_kv;    /* CH_ALTERED: owned */
    size_t old_n;
    st_log_config old_cfg;
} change;

struct st_topics {
    char *data_dir;
    char meta_dir[PATH_MAX];
    char meta_path[PATH_MAX]; /* meta/topics.json */
    st_log_config defaults;
    st_flusher *flusher;
    st_topic **topics; /* sorted by name */
    size_t count;
    size_t cap;
    change *changes; /* journal since the last write of topics.json */
    size_t nchanges, changes_cap;
    bool deferred;              /* in a batch: st_topics_persist writes */
    bool dirty;                 /* topics.json may differ from memory */
    st_workq *workq;            /* one thread: partition directories made off the loop */
    struct st_topics_job *jobs; /* creations in flight (topics_create.c) */
    const char **reserved;      /* their names, sorted (borrowed from their topics) */
    size_t nreserved, reserved_cap;
    struct st_topics_removal *removals; /* deletions in flight (topics_remove.c) */
};

st_workq *st_topics_workq(const st_topics *t)
{
    return t->workq;
}

struct st_topics_job **st_topics_jobs(st_topics *t)
{
    return &t->jobs;
}

struct st_topics_removal **st_topics_removals(st_topics *t)
{
    return &t->removals;
}

int st_topics_start_worker(st_topics *t, st_workq_post_fn *post, void *post_ctx, char *err,
                           size_t errlen)
{
    if (t->workq)
        return 0;
    st_workq_config cfg = {.threads = 1, .max_queued = ST_TOPICS_QUEUE_MAX, .name = "straitd-meta"};
    t->workq = st_workq_new(&cfg, post, post_ctx, err, errlen);
    return t->workq ? 0 : -1;
}

void st_topics_stop_worker(st_topics *t)
{
    st_workq_free(t->workq);
    t->workq = NULL;
}

static void partition_dir(const st_topics *t, const char *topic, int32_t partition, char *buf,
                          size_t cap)
{
    snprintf(buf, cap, "%s/%s-%d", t->data_dir, topic, partition);
}

/* ---- lookup ---- */

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Binary search: true and *idx = position if found, else false and *idx = where it
 * would be inserted. */
static bool find_index(const st_topics *t, const char *name, size_t len, size_t *idx)
{
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *m = t->topics[mid]->name;
        int c = name_cmp(name, len, m, strlen(m));
        if (c == 0) {
            *idx = mid;
            return true;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *idx = lo;
    return false;
}

/* Binary search in the reserved names, as find_index. */
static bool find_reserved(const st_topics *t, const char *name, size_t *idx)
{
    size_t lo = 0, hi = t->nreserved, len = strlen(name);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(name, len, t->reserved[mid], strlen(t->reserved[mid]));
        if (c == 0) {
            *idx = mid;
            return true;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *idx = lo;
    return false;
}

bool st_topics_reserved(const st_topics *t, const char *name)
{
    size_t idx;
    return find_reserved(t, name, &idx);
}

void st_topics_reserve(st_topics *t, const char *name)
{
    size_t idx;
    if (find_reserved(t, name, &idx))
        return;
    if (t->nreserved == t->reserved_cap) {
        size_t cap = t->reserved_cap ? t->reserved_cap * 2 : 16;
        const char **n = realloc(t->reserved, cap * sizeof(*n));
        if (n == NULL)
            abort(); /* as insert_at */
        t->reserved = n;
        t->reserved_cap = cap;
    }
    memmove(&t->reserved[idx + 1], &t->reserved[idx], (t->nreserved - idx) * sizeof(*t->reserved));
    t->reserved[idx] = name;
    t->nreserved++;
}

void st_topics_unreserve(st_topics *t, const char *name)
{
    size_t idx;
    if (!find_reserved(t, name, &idx))
        return;
    t->nreserved--;
    memmove(&t->reserved[idx], &t->reserved[idx + 1], (t->nreserved - idx) * sizeof(*t->reserved));
}

size_t st_topics_count(const st_topics *t)
{
    return t->count;
}

st_topic *st_topics_at(const st_topics *t, size_t i)
{
    return i < t->count ? t->topics[i] : NULL;
}

st_topic *st_topics_find(const st_topics *t, const char *name, size_t len)
{
    size_t idx;
    return find_index(t, name, len, &idx) ? t->topics[idx] : NULL;
}

st_partition *st_topics_partition(const st_topics *t, const char *name, size_t len,
                                  int32_t partition)
{
    st_topic *topic = st_topics_find(t, name, len);
    if (topic == NULL || partition < 0 || partition >= topic->npartitions)
        return NULL;
    return &topic->partitions[partition];
}

static void insert_at(st_topics *t, size_t idx, st_topic *topic)
{
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        st_topic **n = realloc(t->topics, cap * sizeof(*n));
        if (n == NULL)
            abort(); /* as st_buf: a broker that cannot grow a small array is done */
        t->topics = n;
        t->cap = cap;
    }
    memmove(&t->topics[idx + 1], &t->topics[idx], (t->count - idx) * sizeof(*t->topics));
    t->topics[idx] = topic;
    t->count++;
}

static void remove_at(st_topics *t, size_t idx)
{
    memmove(&t->topics[idx], &t->topics[idx + 1], (t->count - idx - 1) * sizeof(*t->topics));
    t->count--;
}

/* ---- names ---- */

int st_topic_name_check(const char *name, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "topic name is empty");
        return ST_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (len > MAX_NAME_LEN) {
        snprintf(err, errlen, "topic name is %zu characters long; the limit is %d", len,
                 MAX_NAME_LEN);
        return ST_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
        snprintf(err, errlen, "topic name \"%.*s\" is not allowed", (int)len, name);
        return ST_ERR_INVALID_TOPIC_EXCEPTION;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '_' || c == '-')
            continue;
        if (c >= ' ' && c < 0x7f)
            snprintf(err, errlen,
                     "topic name \"%.*s\" contains '%c': only a-z, A-Z, 0-9, '.', '_' and '-' "
                     "are allowed",
                     (int)len, name, c);
        else
            snprintf(err, errlen,
                     "topic name contains byte 0x%02x at position %zu: only a-z, A-Z, 0-9, '.', "
                     "'_' and '-' are allowed",
                     c, i);
        return ST_ERR_INVALID_TOPIC_EXCEPTION;
    }
    return 0;
}

/* Kafka maps '.' to '_' in metric names, so "a.b" and "a_b" would share metrics. */
static bool names_collide(const char *a, const char *b)
{
    size_t len = strlen(a);
    if (len != strlen(b))
        return false;
    for (size_t i = 0; i < len; i++) {
        char x = a[i] == '.' ? '_' : a[i];
        char y = b[i] == '.' ? '_' : b[i];
        if (x != y)
            return false;
    }
    return true;
}

/* ---- topics in memory ---- */

/* cfg = defaults + overrides. 0 or ST_ERR_INVALID_CONFIG with err. */
static int effective_config(const st_log_config *defaults, const st_config_kv *kv, size_t n,
                            st_log_config *cfg, char *err, size_t errlen)
{
    *cfg = *defaults;
    for (size_t i = 0; i < n; i++) {
        int rc = st_topic_config_apply(kv[i].name, kv[i].value, cfg, err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void random_id(uint8_t id[16])
{
    if (getrandom(id, 16, 0) != 16) {
        /* Only uniqueness matters here, not secrecy. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
        uint64_t b = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)id;
        memcpy(id, &a, 8);
        memcpy(id + 8, &b, 8);
    }
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* a version 4 UUID, as Kafka makes */
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
}

/* Opens logs [from, to) of topic. On failure closes (or, for new partitions, removes)
 * the ones it opened and returns ST_ERR_KAFKA_STORAGE_ERROR with err. */
static int open_partitions(const st_topics *t, st_topic *topic, int32_t from, int32_t to,
                           bool clean, bool fresh, char *err, size_t errlen)
{
    for (int32_t p = from; p < to; p++) {
        char dir[PATH_MAX], why[256] = "";
        partition_dir(t, topic->name, p, dir, sizeof(dir));
        topic->partitions[p].topic = topic;
        topic->partitions[p].id = p;
        topic->partitions[p].log =
            st_log_open(dir, &topic->cfg, clean, t->flusher, why, sizeof(why));
        if (topic->partitions[p].log == NULL) {
            snprintf(err, errlen, "cannot open partition log %s: %s", dir, why);
            for (int32_t q = from; q < p; q++) {
                if (fresh)
                    st_log_remove(topic->partitions[q].log);
                else
                    st_log_close(topic->partitions[q].log, false);
                topic->partitions[q].log = NULL;
            }
            return ST_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    return 0;
}

/* New partitions must not adopt a directory left on disk by something else. */
static int check_dirs_free(const st_topics *t, const char *name, int32_t from, int32_t to,
                           char *err, size_t errlen)
{
    for (int32_t p = from; p < to; p++) {
        char dir[PATH_MAX];
        struct stat st;
        partition_dir(t, name, p, dir, sizeof(dir));
        if (stat(dir, &st) == 0) {
            snprintf(err, errlen,
                     "partition directory %s already exists but is not part of topic \"%s\": "
                     "move it away or delete it first",
                     dir, name);
            return ST_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    return 0;
}

/* ---- topics.json and the journal ---- */

static void journal(st_topics *t, change c)
{
    if (t->nchanges == t->changes_cap) {
        size_t cap = t->changes_cap ? t->changes_cap * 2 : 16;
        change *n = realloc(t->changes, cap * sizeof(*n));
        if (n == NULL)
            abort(); /* as insert_at */
        t->changes = n;
        t->changes_cap = cap;
    }
    t->changes[t->nchanges++] = c;
    t->dirty = true;
}

/* topics.json holds the journal's changes: make them final, oldest first. */
static void commit(st_topics *t)
{
    for (size_t i = 0; i < t->nchanges; i++) {
        change *c = &t->changes[i];
        switch (c->kind) {
        case CH_CREATED:
            st_info("created topic \"%s\" with %d partitions and %zu config overrides",
                    c->topic->name, c->topic->npartitions, c->topic->noverrides);
            break;
        case CH_DELETED:
            st_topics_remove_partitions(t, c->topic, 0, c->topic->npartitions);
            st_info("deleted topic \"%s\" (%d partitions)", c->topic->name, c->topic->npartitions);
            st_topic_free(c->topic);
            break;
        case CH_GREW:
            st_info("topic \"%s\": partitions %d -> %d", c->topic->name, c->old_npartitions,
                    c->topic->npartitions);
            break;
        case CH_ALTERED:
            st_info("topic \"%s\": config overrides now %zu", c->topic->name, c->topic->noverrides);
            st_config_kv_free(c->old_kv, c->old_n);
            break;
        }
    }
    t->nchanges = 0;
}

/* topics.json does not hold the journal's changes: undo them, newest first. */
static void rollback(st_topics *t)
{
    while (t->nchanges > 0) {
        change *c = &t->changes[--t->nchanges];
        st_topic *topic = c->topic;
        size_t idx;
        bool found = find_index(t, topic->name, strlen(topic->name), &idx);
        switch (c->kind) {
        case CH_CREATED:
            if (found)
                remove_at(t, idx);
            st_topics_remove_partitions(t, topic, 0, topic->npartitions);
            st_warn("topic \"%s\" not created: the registry could not be saved", topic->name);
            st_topic_free(topic);
            break;
        case CH_DELETED:
            if (!found)
                insert_at(t, idx, topic);
            st_warn("topic \"%s\" not deleted: the registry could not be saved", topic->name);
            break;
        case CH_GREW:
            st_topics_remove_partitions(t, topic, c->old_npartitions, topic->npartitions);
            topic->npartitions = c->old_npartitions;
            break;
        case CH_ALTERED:
            st_config_kv_free(topic->overrides, topic->noverrides);
            topic->overrides = c->old_kv;
            topic->noverrides = c->old_n;
            topic->cfg = c->old_cfg;
            for (int32_t p = 0; p < topic->npartitions; p++)
                st_log_set_config(topic->partitions[p].log, &topic->cfg);
            break;
        }
    }
}

void st_topics_defer(st_topics *t)
{
    t->deferred = true;
}

int st_topics_persist(st_topics *t, char *err, size_t errlen)
{
    t->deferred = false;
    if (!t->dirty)
        return 0;
    char why[512];
    /* The topics deleted now and those whose directories are still being removed: if the
     * broker dies before the worker is done, the next start removes the rest. */
    size_t nremoving = st_topics_removing_names(t, NULL, 0), ndeleted = 0;
    for (size_t i = 0; i < t->nchanges; i++)
        ndeleted += t->changes[i].kind == CH_DELETED;
    const char **removing = calloc(nremoving + ndeleted + 1, sizeof(*removing));
    if (removing == NULL)
        abort(); /* as insert_at */
    nremoving = st_topics_removing_names(t, removing, nremoving);
    for (size_t i = 0; i < t->nchanges; i++)
        if (t->changes[i].kind == CH_DELETED)
            removing[nremoving++] = t->changes[i].topic->name;
    int saved = st_topics_store_save(t->meta_dir, t->topics, t->count, removing, nremoving, why,
                                     sizeof(why));
    free(removing);
    if (saved != 0) {
        /* Whether the file holds the old or the new list is not known (the rename may
         * have happened): stay dirty so the next persist writes it again. */
        st_error("saving the topic registry failed: %s; undoing %zu changes", why, t->nchanges);
        snprintf(err, errlen, "the topic registry could not be saved: %s", why);
        rollback(t);
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    t->dirty = false;
    commit(t);
    return 0;
}

/* A change outside a batch persists at once. */
static int changed(st_topics *t, char *err, size_t errlen)
{
    return t->deferred ? 0 : st_topics_persist(t, err, errlen);
}

/* One topic read from topics.json: compute its config, open its logs, register it. */
static int load_topic(void *arg, st_topic *topic, char *err, size_t errlen)
{
    struct load_ctx *ctx = arg;
    st_topics *t = ctx->t;
    size_t idx;
    char why[256];
    int rc = -1;
    if (find_index(t, topic->name, strlen(topic->name), &idx)) {
        snprintf(err, errlen, "%s: topic \"%s\" is listed twice", t->meta_path, topic->name);
        goto out;
    }
    if (effective_config(&t->defaults, topic->overrides, topic->noverrides, &topic->cfg, why,
                         sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: topic \"%s\": %s", t->meta_path, topic->name, why);
        goto out;
    }
    topic->partitions = calloc((size_t)topic->npartitions, sizeof(*topic->partitions));
    if (topic->partitions == NULL) {
        snprintf(err, errlen, "out of memory loading topic \"%s\"", topic->name);
        goto out;
    }
    if (open_partitions(t, topic, 0, topic->npartitions, ctx->clean, false, err, errlen) != 0)
        goto out;
    insert_at(t, idx, topic);
    topic = NULL;
    rc = 0;
out:
    st_topic_free(topic);
    return rc;
}

/* A deleted topic in topics.json's "removing": the worker may not have removed all of
 * its directories before the broker stopped (kill -9). Unless the name was made again
 * (then its directories are the new topic's), remove what is left. */
static void load_removing(void *arg, const char *name)
{
    struct load_ctx *ctx = arg;
    size_t idx;
    if (!find_index(ctx->t, name, strlen(name), &idx))
        st_topics_remove_leftovers(ctx->t->data_dir, name);
}

/* Warns about <name>-<n> directories that belong to no known partition. */
static void report_strays(const st_topics *t)
{
    DIR *d = opendir(t->data_dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "meta") == 0)
            continue;
        const char *dash = strrchr(e->d_name, '-');
        if (dash == NULL || dash == e->d_name || dash[1] == '\0' ||
            strspn(dash + 1, "0123456789") != strlen(dash + 1) || strlen(dash + 1) > 9)
            continue;
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", t->data_dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        int32_t partition = (int32_t)atoi(dash + 1);
        if (st_topics_partition(t, e->d_name, (size_t)(dash - e->d_name), partition) == NULL)
            st_warn("%s: partition directory for a topic or partition not in %s; leaving it "
                    "alone (delete it by hand if it is not needed)",
                    path, t->meta_path);
    }
    closedir(d);
}

/* Closes every log and frees; writes nothing. */
static void topics_free(st_topics *t, bool flush)
{
    st_workq_free(t->workq); /* the broker stopped it first: see st_topics_stop_worker */
    st_topics_removals_orphan(t);
    for (size_t i = 0; i < t->count; i++) {
        st_topic *topic = t->topics[i];
        for (int32_t p = 0; p < topic->npartitions; p++)
            st_log_close(topic->partitions[p].log, flush);
        st_topic_free(topic);
    }
    free(t->topics);
    free(t->reserved);
    free(t->changes);
    free(t->data_dir);
    free(t);
}

st_topics *st_topics_open(const char *data_dir, const st_log_config *defaults, st_flusher *flusher,
                          char *err, size_t errlen)
{
    st_topics *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->data_dir = strdup(data_dir);
    t->defaults = *defaults;
    if (t->data_dir == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    t->flusher = flusher;
    if (snprintf(t->meta_dir, sizeof(t->meta_dir), "%s/meta", data_dir) >=
            (int)sizeof(t->meta_dir) ||
        snprintf(t->meta_path, sizeof(t->meta_path), "%s/topics.json", t->meta_dir) >=
            (int)sizeof(t->meta_path)) {
        snprintf(err, errlen, "data directory path \"%s\" is too long", data_dir);
        goto fail;
    }
    if (st_mkdir_p(data_dir, 0755, err, errlen) != 0 ||
        st_mkdir_p(t->meta_dir, 0755, err, errlen) != 0)
        goto fail;

    /* Consume the marker before opening anything: if we crash from here on, the next
     * start must not trust the logs. */
    char marker[PATH_MAX];
    snprintf(marker, sizeof(marker), "%s/%s", data_dir, CLEAN_MARKER);
    bool clean = access(marker, F_OK) == 0;
    if (clean) {
        if (unlink(marker) != 0 || st_file_fsync_dir(data_dir) != 0) {
            snprintf(err, errlen, "cannot remove %s: %s", marker, strerror(errno));
            goto fail;
        }
    } else {
        st_info("%s: no clean-shutdown marker: partition logs will be checked", data_dir);
    }
    struct load_ctx ctx = {t, clean};
    if (st_topics_store_load(t->meta_dir, load_topic, load_removing, &ctx, err, errlen) != 0)
        goto fail;
    report_strays(t);
    st_info("%s: %zu topics open", data_dir, t->count);
    return t;
fail:
    topics_free(t, false);
    return NULL;
}

void st_topics_close(st_topics *t)
{
    if (t == NULL)
        return;
    char marker[PATH_MAX];
    snprintf(marker, sizeof(marker), "%s/%s", t->data_dir, CLEAN_MARKER);
    char why[600];
    if (st_topics_persist(t, why, sizeof(why)) != 0)
        st_warn("closing the topic registry: %s", why);
    char *data_dir = strdup(t->data_dir);
    topics_free(t, true);
    if (data_dir == NULL)
        return;
    int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || fsync(fd) != 0 || st_file_fsync_dir(data_dir) != 0)
        st_warn("cannot write %s (%s): the next start will check every log", marker,
                strerror(errno));
    if (fd >= 0)
        close(fd);
    free(data_dir);
}

/* ---- changes ---- */

/* Rejects a config named twice: which value was meant is a guess. */
static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *st_config_sets_duplicate(const st_config_set *configs, size_t n)
{
    if (n < 2)
        return NULL;
    const char **names = malloc(n * sizeof *names);
    if (!names)
        abort(); /* as st_buf */
    for (size_t i = 0; i < n; i++)
        names[i] = configs[i].name;
    qsort(names, n, sizeof *names, cmp_name);
    const char *dup = NULL;
    for (size_t i = 1; i < n && !dup; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            dup = names[i];
    free(names);
    return dup;
}

static int check_duplicates(const st_config_set *configs, size_t n, char *err, size_t errlen)
{
    const char *dup = st_config_sets_duplicate(configs, n);
    if (dup) {
        snprintf(err, errlen, "config \"%s\" is given more than once", dup);
        return ST_ERR_INVALID_CONFIG;
    }
    return 0;
}

static int check_partitions(int32_t n, char *err, size_t errlen)
{
    if (n < 1 || n > MAX_PARTITIONS) {
        snprintf(err, errlen, "number of partitions must be between 1 and %d, got %d",
                 MAX_PARTITIONS, n);
        return ST_ERR_INVALID_PARTITIONS;
    }
    return 0;
}

int st_topics_prepare(st_topics *t, const char *name, int32_t partitions,
                      int16_t replication_factor, const st_config_set *configs, size_t nconfigs,
                      bool validate_only, st_topic **out, char *err, size_t errlen)
{
    size_t len = strlen(name), idx;
    *out = NULL;
    int rc = st_topic_name_check(name, len, err, errlen);
    if (rc != 0)
        return rc;
    if (find_index(t, name, len, &idx)) {
        snprintf(err, errlen, "topic \"%s\" already exists", name);
        return ST_ERR_TOPIC_ALREADY_EXISTS;
    }
    if (st_topics_reserved(t, name)) {
        snprintf(err, errlen, "topic \"%s\" already exists (it is being created)", name);
        return ST_ERR_TOPIC_ALREADY_EXISTS;
    }
    /* only a name with '.' or '_' can collide with another (O(n): rare) */
    for (size_t i = 0; strpbrk(name, "._") && i < t->count; i++)
        if (names_collide(name, t->topics[i]->name)) {
            snprintf(err, errlen,
                     "topic \"%s\" collides with existing topic \"%s\": names that differ only "
                     "in '.' and '_' would share metric names",
                     name, t->topics[i]->name);
            return ST_ERR_INVALID_TOPIC_EXCEPTION;
        }
    /* and with the names being made: they are registered only when made, so the loop
     * above misses them, and two colliding topics asked together would both be made */
    for (size_t i = 0; strpbrk(name, "._") && i < t->nreserved; i++)
        if (names_collide(name, t->reserved[i])) {
            snprintf(err, errlen,
                     "topic \"%s\" collides with topic \"%s\", being created: names that differ "
                     "only in '.' and '_' would share metric names",
                     name, t->reserved[i]);
            return ST_ERR_INVALID_TOPIC_EXCEPTION;
        }
    if (partitions == -1)
        partitions = 1; /* callers pass the broker's num.partitions; this is Kafka's */
    if ((rc = check_partitions(partitions, err, errlen)) != 0)
        return rc;
    if (replication_factor == -1)
        replication_factor = 1;
    if (replication_factor < 1) {
        snprintf(err, errlen,
                 "replication factor must be at least 1 (or -1 for the default), "
                 "got %d",
                 replication_factor);
        return ST_ERR_INVALID_REPLICATION_FACTOR;
    }
    if (replication_factor > 1) {
        snprintf(err, errlen, "replication factor %d is larger than the 1 broker available",
                 replication_factor);
        return ST_ERR_INVALID_REPLICATION_FACTOR;
    }
    if ((rc = check_duplicates(configs, nconfigs, err, errlen)) != 0)
        return rc;
    st_log_config cfg = t->defaults;
    for (size_t i = 0; i < nconfigs; i++)
        if ((rc = st_topic_config_apply(configs[i].name, configs[i].value, &cfg, err, errlen)))
            return rc;
    if (validate_only)
        return 0;

    st_topic *topic = calloc(1, sizeof(*topic));
    if (topic == NULL)
        goto nomem;
    topic->name = strdup(name);
    topic->partitions = calloc((size_t)partitions, sizeof(*topic->partitions));
    topic->overrides = calloc(nconfigs ? nconfigs : 1, sizeof(*topic->overrides));
    if (topic->name == NULL || topic->partitions == NULL || topic->overrides == NULL)
        goto nomem;
    for (size_t i = 0; i < nconfigs; i++) {
        topic->overrides[i].name = strdup(configs[i].name);
        topic->overrides[i].value = strdup(configs[i].value);
        topic->noverrides++;
    }
    random_id(topic->id);
    topic->npartitions = partitions;
    topic->cfg = cfg;
    topic->internal = strncmp(name, "__", 2) == 0;
    *out = topic;
    return 0;
nomem:
    st_topic_free(topic);
    snprintf(err, errlen, "out of memory creating topic \"%s\"", name);
    return ST_ERR_UNKNOWN_SERVER_ERROR;
}

int st_topics_make_partitions(const st_topics *t, st_topic *topic, char *err, size_t errlen)
{
    int rc = check_dirs_free(t, topic->name, 0, topic->npartitions, err, errlen);
    if (rc == 0)
        rc = open_partitions(t, topic, 0, topic->npartitions, false, true, err, errlen);
    return rc;
}

void st_topics_adopt(st_topics *t, st_topic *topic)
{
    size_t idx;
    bool found = find_index(t, topic->name, strlen(topic->name), &idx);
    assert(!found); /* the name was reserved while its partitions were made */
    (void)found;
    insert_at(t, idx, topic);
    journal(t, (change){.kind = CH_CREATED, .topic = topic});
}

int st_topics_create(st_topics *t, const char *name, int32_t partitions, int16_t replication_factor,
                     const st_config_set *configs, size_t nconfigs, bool validate_only, char *err,
                     size_t errlen)
{
    st_topic *topic;
    if (st_topics_removing(t, name)) {
        snprintf(err, errlen,
                 "topic \"%s\" is still being deleted (its partitions' files are being "
                 "removed): retry in a moment",
                 name);
        return ST_ERR_TOPIC_ALREADY_EXISTS;
    }
    int rc = st_topics_prepare(t, name, partitions, replication_factor, configs, nconfigs,
                               validate_only, &topic, err, errlen);
    if (rc == 0 && validate_only && partitions != 0)
        rc = check_dirs_free(t, name, 0, partitions == -1 ? 1 : partitions, err, errlen);
    if (rc != 0 || validate_only)
        return rc;
    if ((rc = st_topics_make_partitions(t, topic, err, errlen)) != 0) {
        st_topic_free(topic);
        return rc;
    }
    st_topics_adopt(t, topic);
    return changed(t, err, errlen);
}

static st_topic *find_or_fail(const st_topics *t, const char *name, size_t *idx, char *err,
                              size_t errlen)
{
    if (find_index(t, name, strlen(name), idx))
        return t->topics[*idx];
    snprintf(err, errlen, "topic \"%s\" does not exist", name);
    return NULL;
}

int st_topics_delete(st_topics *t, const char *name, char *err, size_t errlen)
{
    size_t idx;
    st_topic *topic = find_or_fail(t, name, &idx, err, errlen);
    if (topic == NULL)
        return ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (topic->internal) {
        /* The broker's own modules hold these logs (e.g. committed offsets). */
        snprintf(err, errlen, "topic \"%s\" is internal to the broker and cannot be deleted", name);
        return ST_ERR_INVALID_REQUEST;
    }
    /* its data goes once topics.json no longer names it (commit) */
    remove_at(t, idx);
    journal(t, (change){.kind = CH_DELETED, .topic = topic});
    return changed(t, err, errlen);
}

int st_topics_create_partitions(st_topics *t, const char *name, int32_t new_total,
                                bool validate_only, char *err, size_t errlen)
{
    size_t idx;
    st_topic *topic = find_or_fail(t, name, &idx, err, errlen);
    if (topic == NULL)
        return ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    int32_t old = topic->npartitions;
    int rc = check_partitions(new_total, err, errlen);
    if (rc != 0)
        return rc;
    if (new_total <= old) {
        snprintf(err, errlen,
                 "topic \"%s\" has %d partitions; the new count must be larger (got %d): "
                 "partitions can be added, never removed",
                 name, old, new_total);
        return ST_ERR_INVALID_PARTITIONS;
    }
    if (st_topics_removing(t, name)) {
        snprintf(err, errlen,
                 "topic \"%s\": partitions undone a moment ago are still being removed: "
                 "retry in a moment",
                 name);
        return ST_ERR_THROTTLING_QUOTA_EXCEEDED;
    }
    if ((rc = check_dirs_free(t, name, old, new_total, err, errlen)) != 0)
        return rc;
    if (validate_only)
        return 0;
    /* The array may move: st_partition pointers are valid until the registry changes. */
    st_partition *parts = realloc(topic->partitions, (size_t)new_total * sizeof(*parts));
    if (parts == NULL) {
        snprintf(err, errlen, "out of memory adding partitions to \"%s\"", name);
        return ST_ERR_UNKNOWN_SERVER_ERROR;
    }
    topic->partitions = parts;
    memset(&parts[old], 0, (size_t)(new_total - old) * sizeof(*parts));
    if ((rc = open_partitions(t, topic, old, new_total, false, true, err, errlen)) != 0)
        return rc;
    topic->npartitions = new_total;
    journal(t, (change){.kind = CH_GREW, .topic = topic, .old_npartitions = old});
    return changed(t, err, errlen);
}

/* Sets (value non-NULL) or removes (NULL) one override in a list being built. */
static void kv_set(st_config_kv **kv, size_t *n, const char *name, const char *value)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*kv)[i].name, name) != 0)
            continue;
        free((*kv)[i].value);
        if (value != NULL) {
            (*kv)[i].value = strdup(value);
        } else {
            free((*kv)[i].name);
            (*kv)[i] = (*kv)[*n - 1];
            (*n)--;
        }
        return;
    }
    if (value == NULL)
        return;
    (*kv)[*n].name = strdup(name);
    (*kv)[*n].value = strdup(value);
    (*n)++;
}

int st_topics_alter_configs(st_topics *t, const char *name, const st_config_set *configs,
                            size_t nconfigs, bool incremental, bool validate_only, char *err,
                            size_t errlen)
{
    size_t idx, n = 0;
    st_topic *topic = find_or_fail(t, name, &idx, err, errlen);
    if (topic == NULL)
        return ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    int rc = check_duplicates(configs, nconfigs, err, errlen);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < nconfigs; i++)
        if (st_topic_config_find(configs[i].name) == NULL) {
            snprintf(err, errlen, "unknown topic config \"%s\"", configs[i].name);
            return ST_ERR_INVALID_CONFIG;
        }
    st_config_kv *kv = calloc(topic->noverrides + nconfigs + 1, sizeof(*kv));
    if (kv == NULL) {
        snprintf(err, errlen, "out of memory");
        return ST_ERR_UNKNOWN_SERVER_ERROR;
    }
    if (incremental)
        for (size_t i = 0; i < topic->noverrides; i++)
            kv_set(&kv, &n, topic->overrides[i].name, topic->overrides[i].value);
    for (size_t i = 0; i < nconfigs; i++)
        kv_set(&kv, &n, configs[i].name, configs[i].value);
    st_log_config cfg;
    if ((rc = effective_config(&t->defaults, kv, n, &cfg, err, errlen)) != 0 || validate_only)
        goto out;

    journal(t, (change){.kind = CH_ALTERED,
                        .topic = topic,
                        .old_kv = topic->overrides,
                        .old_n = topic->noverrides,
                        .old_cfg = topic->cfg});
    topic->overrides = kv;
    topic->noverrides = n;
    topic->cfg = cfg;
    for (int32_t p = 0; p < topic->npartitions; p++)
        st_log_set_config(topic->partitions[p].log, &topic->cfg);
    kv = NULL; /* the topic's now */
    n = 0;
    rc = changed(t, err, errlen);
out:
    st_config_kv_free(kv, n);
    return rc;
}

void st_topics_set_defaults(st_topics *t, const st_log_config *defaults)
{
    t->defaults = *defaults;
    for (size_t i = 0; i < t->count; i++) {
        st_topic *topic = t->topics[i];
        char why[256];
        /* overrides were valid on their own when set, so this cannot fail */
        if (effective_config(&t->defaults, topic->overrides, topic->noverrides, &topic->cfg, why,
                             sizeof why) != 0)
            st_error("topic \"%s\": %s", topic->name, why);
        for (int32_t p = 0; p < topic->npartitions; p++)
            st_log_set_config(topic->partitions[p].log, &topic->cfg);
    }
}

static const char *override_of(const st_topic *topic, const char *name)
{
    for (size_t i = 0; i < topic->noverrides; i++)
        if (strcmp(topic->overrides[i].name, name) == 0)
            return topic->overrides[i].value;
    return NULL;
}

int st_topics_describe_configs(const st_topics *t, const char *name, st_config_desc **out,
                               size_t *n)
{
    st_topic *topic = st_topics_find(t, name, strlen(name));
    *out = NULL;
    *n = 0;
    if (topic == NULL)
        return ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    size_t count = st_topic_config_count();
    st_config_desc *d = calloc(count, sizeof(*d));
    if (d == NULL)
        return ST_ERR__NOMEM;
    for (size_t i = 0; i < count; i++) {
        const st_topic_config_def *def = st_topic_config_at(i);
        const char *ov = override_of(topic, st_topic_config_name(def));
        d[i].name = st_topic_config_name(def);
        st_topic_config_format(def, &topic->cfg, ov, d[i].value, sizeof(d[i].value));
        d[i].is_default = ov == NULL;
    }
    *out = d;
    *n = count;
    return 0;
}

void st_topics_expire_producers(st_topics *t, int64_t now_ms, int64_t expiration_ms)
{
    for (size_t i = 0; i < t->count; i++) {
        st_topic *topic = t->topics[i];
        for (int32_t p = 0; p < topic->npartitions; p++)
            st_log_expire_producers(topic->partitions[p].log, now_ms, expiration_ms);
    }
}

void st_topics_tick(st_topics *t, int64_t now_ms)
{
    for (size_t i = 0; i < t->count; i++) {
        st_topic *topic = t->topics[i];
        for (int32_t p = 0; p < topic->npartitions; p++)
            st_log_tick(topic->partitions[p].log, now_ms);
    }
}

int st_topics_apply_retention(st_topics *t, int64_t now_ms)
{
    int deleted = 0;
    for (size_t i = 0; i < t->count; i++) {
        st_topic *topic = t->topics[i];
        for (int32_t p = 0; p < topic->npartitions; p++)
            deleted += st_log_apply_retention(topic->partitions[p].log, now_ms);
    }
    return deleted;
}
