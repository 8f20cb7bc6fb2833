/*
 * What the rest of the broker may know of a topic (topics.h): the struct itself is the
 * registry's (topics_int.h). Loop thread only.
 */
#include <string.h>

#include "broker/cluster/topics_int.h"

const char *st_topic_name(const st_topic *t)
{
    return t->name;
}

const uint8_t *st_topic_id(const st_topic *t)
{
    return t->id;
}

bool st_topic_internal(const st_topic *t)
{
    return t->internal;
}

int32_t st_topic_partition_count(const st_topic *t)
{
    return t->npartitions;
}

st_log *st_topic_log(const st_topic *t, int32_t index)
{
    return index >= 0 && index < t->npartitions ? t->partitions[index].log : NULL;
}

const st_log_config *st_topic_config(const st_topic *t)
{
    return &t->cfg;
}

const char *st_topic_override(const st_topic *t, const char *config)
{
    for (size_t i = 0; i < t->noverrides; i++)
        if (strcmp(t->overrides[i].name, config) == 0)
            return t->overrides[i].value;
    return NULL;
}

void st_topic_count_in(st_topic *t, uint64_t bytes)
{
    t->bytes_in += bytes;
}

void st_topic_count_out(st_topic *t, uint64_t bytes)
{
    t->bytes_out += bytes;
}

uint64_t st_topic_bytes_in(const st_topic *t)
{
    return t->bytes_in;
}

uint64_t st_topic_bytes_out(const st_topic *t)
{
    return t->bytes_out;
}

st_log *st_partition_log(const st_partition *p)
{
    return p->log;
}
