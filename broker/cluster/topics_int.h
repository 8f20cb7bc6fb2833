/*
 * Private to broker/cluster/: the pieces of the topic registry that topics.c (the
 * registry) and topics_store.c (topics.json and the file system) share.
 */
#ifndef ST_TOPICS_INT_H
#define ST_TOPICS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/cluster/topics.h"
#include "common/workq.h"

#define ST_TOPICS_MAX_PARTITIONS 10000

struct st_partition {
    struct st_topic *topic; /* owner */
    int32_t id;
    st_log *log;
};

/* An override set on a topic, e.g. {"retention.ms", "60000"}. */
typedef struct st_config_kv {
    char *name; /* owned by the topic */
    char *value;
} st_config_kv;

struct st_topic {
    char *name;
    uint8_t id[16]; /* topic UUID, random at creation */
    int32_t npartitions;
    st_partition *partitions; /* npartitions entries */
    st_log_config cfg;        /* effective settings: defaults + overrides */
    st_config_kv *overrides;
    size_t noverrides;
    bool internal; /* name starts with "__" */
    /* Record bytes produced to and fetched from the topic since start, for the console's
     * per-topic rates (topics.stats). */
    uint64_t bytes_in, bytes_out;
};

/* Frees a topic's memory (name, partitions array, overrides); its logs must already be
 * closed or removed. Takes ownership; NULL is ignored. */
void st_topic_free(st_topic *topic);
/* Frees n overrides and the array. Takes ownership. */
void st_config_kv_free(st_config_kv *kv, size_t n);

/* Rewrites <meta_dir>/topics.json atomically from topics[0..n), and the names of deleted
 * topics whose partition directories may not be removed yet (removing[0..nremoving), as
 * "removing": a start after a crash removes what is left of them). Borrows all. 0, or -1
 * with err saying which step failed on which file. */
int st_topics_store_save(const char *meta_dir, st_topic *const *topics, size_t n,
                         const char *const *removing, size_t nremoving, char *err, size_t errlen);

/* Called once per topic read from topics.json, which it takes ownership of: name, id,
 * npartitions, overrides and internal are set; partitions is NULL and cfg unset.
 * Returns 0 to go on, or -1 (with err set) to stop the load. */
typedef int st_topics_store_cb(void *arg, st_topic *topic, char *err, size_t errlen);

/* Called once per name of topics.json's "removing" (borrowed), after every topic. */
typedef void st_topics_store_removing_cb(void *arg, const char *name);

/* Reads <meta_dir>/topics.json (a missing file means no topics). 0, or -1 with err
 * naming the file and what is wrong with it. */
int st_topics_store_load(const char *meta_dir, st_topics_store_cb *cb,
                         st_topics_store_removing_cb *removing_cb, void *arg, char *err,
                         size_t errlen);

/* ---- creation in steps (topics.c), for the creation jobs (topics_create.c) ---- */

struct st_topics_job;
/* The registry's worker (one thread, so its jobs run in order), or NULL. */
st_workq *st_topics_workq(const st_topics *t);
/* The list of creation jobs in flight (their names are reserved). */
struct st_topics_job **st_topics_jobs(st_topics *t);
/* The names of topics being created: reserved from st_topics_job_add until the job is
 * done (or freed unstarted), so no other creation takes them. name is borrowed (the
 * job's topic's) until unreserved. O(log n) lookups. */
bool st_topics_reserved(const st_topics *t, const char *name);
void st_topics_reserve(st_topics *t, const char *name);
void st_topics_unreserve(st_topics *t, const char *name);
/* Every check of st_topics_create but the partition directories' (they are the file
 * system's: st_topics_make_partitions). Validate only: 0 or the error, *out NULL. Else
 * *out is a new topic (its logs not open) the caller owns. Loop thread. */
int st_topics_prepare(st_topics *t, const char *name, int32_t partitions,
                      int16_t replication_factor, const st_config_set *configs, size_t nconfigs,
                      bool validate_only, st_topic **out, char *err, size_t errlen);
/* Makes and opens the prepared topic's partition logs (refusing directories already
 * there); on failure removes those it made and returns ST_ERR_KAFKA_STORAGE_ERROR with
 * err. Touches only topic, the file system and t's constant fields: any thread. */
int st_topics_make_partitions(const st_topics *t, st_topic *topic, char *err, size_t errlen);
/* Registers a topic whose partitions are made and journals it (the next
 * st_topics_persist writes it). Takes ownership. Loop thread. */
void st_topics_adopt(st_topics *t, st_topic *topic);

/* ---- partition directories deleted on the worker (topics_remove.c) ---- */

struct st_topics_removal;
/* The list of removals in flight. */
struct st_topics_removal **st_topics_removals(st_topics *t);
/* Closes partitions [from, to) of topic (their log pointers become NULL) and deletes
 * their directories on the worker (at once without one). Loop thread. */
void st_topics_remove_partitions(st_topics *t, st_topic *topic, int32_t from, int32_t to);
/* Are some of name's partition directories still being deleted? */
bool st_topics_removing(st_topics *t, const char *name);
/* Puts the names of the removals in flight into out[0..cap) (borrowed: valid until the
 * loop runs completions) and returns how many there are (cap 0: only counts). */
size_t st_topics_removing_names(st_topics *t, const char **out, size_t cap);
/* At start, before any topic of the name is made: deletes what is left of the deleted
 * topic name's partition directories (<data_dir>/<name>-<n>) and says how many. */
void st_topics_remove_leftovers(const char *data_dir, const char *name);
/* The registry is going: removals in flight forget it (their completions only free). */
void st_topics_removals_orphan(st_topics *t);

#endif
