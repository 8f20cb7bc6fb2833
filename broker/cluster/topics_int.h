/*
 * Private to broker/cluster/: the pieces of the topic registry that topics.c (the
 * registry) and topics_store.c (topics.json and the file system) share.
 */
#ifndef ST_TOPICS_INT_H
#define ST_TOPICS_INT_H

#include <stddef.h>

#include "broker/cluster/topics.h"

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

/* Rewrites <meta_dir>/topics.json atomically from topics[0..n). Borrows all. 0, or -1
 * with err saying which step failed on which file. */
int st_topics_store_save(const char *meta_dir, st_topic *const *topics, size_t n, char *err,
                         size_t errlen);

/* Called once per topic read from topics.json, which it takes ownership of: name, id,
 * npartitions, overrides and internal are set; partitions is NULL and cfg unset.
 * Returns 0 to go on, or -1 (with err set) to stop the load. */
typedef int st_topics_store_cb(void *arg, st_topic *topic, char *err, size_t errlen);

/* Reads <meta_dir>/topics.json (a missing file means no topics). 0, or -1 with err
 * naming the file and what is wrong with it. */
int st_topics_store_load(const char *meta_dir, st_topics_store_cb *cb, void *arg, char *err,
                         size_t errlen);

#endif
