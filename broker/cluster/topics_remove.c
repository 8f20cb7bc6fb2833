/*
 * Deleting partition directories off the loop thread: a deleted topic's partitions (or
 * the new ones of a creation or growth that was undone) are closed on the loop, and
 * their files unlinked and directories removed by one job on the registry's worker
 * (topics.c starts it; one thread, so a creation queued after a deletion of the same
 * name finds the directories gone). A 1,000-partition topic is several thousand
 * unlinks: they held the loop before.
 *
 *   loop: close logs, note the name ──job──▶ worker: unlink, rmdir ──post──▶ loop: forget
 *
 * Until the job is done the name is "being removed": the registry's own creations on the
 * loop (auto-creation, management commands, CreatePartitions) refuse it rather than
 * make a directory the worker may be deleting (st_topics_removing). With no worker
 * (tests, tools, shutdown) or a full queue the files go at once, on this thread.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker/cluster/topics_int.h"
#include "common/logging.h"

struct st_topics_removal {
    st_workq_job wq;
    st_topics *t; /* NULL once the registry is gone: done then only frees */
    char *name;   /* the topic's, owned */
    char **dirs;  /* owned, each freed by st_log_remove_dir */
    int32_t n;
    struct st_topics_removal *next;
};

static void removal_work(void *arg)
{
    struct st_topics_removal *r = arg;
    for (int32_t i = 0; i < r->n; i++) {
        st_log_remove_dir(r->dirs[i]);
        r->dirs[i] = NULL;
    }
}

static void removal_free(struct st_topics_removal *r)
{
    for (int32_t i = 0; i < r->n; i++)
        free(r->dirs[i]);
    free(r->dirs);
    free(r->name);
    free(r);
}

static void removal_done(void *arg)
{
    struct st_topics_removal *r = arg;
    if (r->t) {
        struct st_topics_removal **pp = st_topics_removals(r->t);
        while (*pp && *pp != r)
            pp = &(*pp)->next;
        if (*pp)
            *pp = r->next;
    }
    removal_free(r);
}

void st_topics_remove_partitions(st_topics *t, st_topic *topic, int32_t from, int32_t to)
{
    struct st_topics_removal *r = calloc(1, sizeof *r);
    char **dirs = calloc(to > from ? (size_t)(to - from) : 1, sizeof *dirs);
    char *name = strdup(topic->name);
    for (int32_t p = from; p < to; p++) {
        char *dir = st_log_close_for_removal(topic->partitions[p].log);
        topic->partitions[p].log = NULL;
        if (!dir)
            continue;
        if (!r || !dirs || !name) { /* out of memory: delete here */
            st_log_remove_dir(dir);
            continue;
        }
        dirs[r->n++] = dir;
    }
    if (!r || !dirs || !name) {
        free(r);
        free(dirs);
        free(name);
        return;
    }
    *r = (struct st_topics_removal){.t = t, .name = name, .dirs = dirs, .n = r->n};
    r->wq = (st_workq_job){.work = removal_work, .done = removal_done, .arg = r};
    st_workq *q = st_topics_workq(t);
    if (r->n == 0 || !q || st_workq_submit(q, &r->wq) != 0) {
        removal_work(r);
        removal_free(r);
        return;
    }
    struct st_topics_removal **head = st_topics_removals(t);
    r->next = *head;
    *head = r;
}

bool st_topics_removing(st_topics *t, const char *name)
{
    for (struct st_topics_removal *r = *st_topics_removals(t); r; r = r->next)
        if (strcmp(r->name, name) == 0)
            return true;
    return false;
}

size_t st_topics_removing_names(st_topics *t, const char **out, size_t cap)
{
    size_t n = 0;
    for (struct st_topics_removal *r = *st_topics_removals(t); r; r = r->next, n++)
        if (n < cap)
            out[n] = r->name;
    return n;
}

void st_topics_remove_leftovers(const char *data_dir, const char *name)
{
    DIR *d = opendir(data_dir);
    if (d == NULL)
        return;
    size_t len = strlen(name), removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *num = e->d_name + len + 1;
        if (strncmp(e->d_name, name, len) != 0 || e->d_name[len] != '-' || *num == '\0' ||
            strspn(num, "0123456789") != strlen(num) || strlen(num) > 9)
            continue;
        char *path = NULL;
        struct stat st;
        if (asprintf(&path, "%s/%s", data_dir, e->d_name) < 0)
            break;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(path);
            continue;
        }
        st_log_remove_dir(path); /* frees path */
        removed++;
    }
    closedir(d);
    if (removed > 0)
        st_info("removed %zu partition directories left of deleted topic \"%s\" (the broker "
                "stopped before they were deleted)",
                removed, name);
}

void st_topics_removals_orphan(st_topics *t)
{
    for (struct st_topics_removal *r = *st_topics_removals(t); r; r = r->next)
        r->t = NULL;
    *st_topics_removals(t) = NULL;
}
