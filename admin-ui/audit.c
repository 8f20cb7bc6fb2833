/*
 * The audit log (see audit.h): an in-memory ring for the view, a queue of lines for the
 * writer thread, and the (daemon, boot) → highest imported seq map that keeps an entry
 * from being imported twice.
 */
#include "admin-ui/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/logging.h"

#define TAIL_BYTES  (1 << 20) /* read back at start */
#define QUEUE_LIMIT 10000     /* lines waiting for the disk before new ones are dropped */

typedef struct line {
    char *text;
    struct line *next;
} line;

struct st_audit {
    char *path;
    int fd;
    json_t *ring[ST_AUDIT_KEEP];
    size_t ring_start, ring_n;
    uint64_t version;
    json_t *seen; /* "daemon|boot" → highest seq */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    line *head, *tail; /* under lock */
    size_t queued;
    bool stopping;
    uint64_t dropped;
};

/* Replaces e[key] by the start of its text when that is longer than max bytes. */
static void bound_field(json_t *e, const char *key, size_t max)
{
    json_t *v = json_object_get(e, key);
    if (!v)
        return;
    char *text = json_is_string(v) ? strdup(json_string_value(v))
                                   : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t len = text ? strlen(text) : 0;
    if (text && len > max) {
        size_t cut = max;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut--; /* not inside a UTF-8 sequence: jansson takes valid UTF-8 only */
        char *shown = malloc(cut + 80);
        if (shown)
            snprintf(shown, cut + 80, "%.*s... (%zu bytes, cut for the audit log)", (int)cut, text,
                     len);
        json_object_set_new(e, key, shown ? json_string(shown) : json_null());
        free(shown);
    }
    free(text);
}

static void bound_entry(json_t *e)
{
    static const char *const texts[] = {"who", "role", "via", "daemon", "action", "error", "boot"};
    bound_field(e, "args", ST_AUDIT_MAX_ARGS);
    bound_field(e, "result", ST_AUDIT_MAX_RESULT);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        bound_field(e, texts[i], ST_AUDIT_MAX_TEXT);
}

static void remember(st_audit *a, json_t *e)
{
    if (a->ring_n == ST_AUDIT_KEEP) {
        json_decref(a->ring[a->ring_start]);
        a->ring[a->ring_start] = json_incref(e);
        a->ring_start = (a->ring_start + 1) % ST_AUDIT_KEEP;
    } else
        a->ring[(a->ring_start + a->ring_n++) % ST_AUDIT_KEEP] = json_incref(e);
    a->version++;
}

static void note_seen(st_audit *a, json_t *e)
{
    const char *daemon = json_string_value(json_object_get(e, "daemon"));
    const char *boot = json_string_value(json_object_get(e, "boot"));
    json_t *seq = json_object_get(e, "seq");
    if (!daemon || !boot || !json_is_integer(seq))
        return;
    char key[512];
    snprintf(key, sizeof key, "%s|%s", daemon, boot);
    json_t *have = json_object_get(a->seen, key);
    if (!have || json_integer_value(have) < json_integer_value(seq))
        json_object_set_new(a->seen, key, json_integer(json_integer_value(seq)));
}

/* The newest entries of the file into the ring (lines that do not parse are skipped:
 * a crash can leave a torn last line). */
static void read_tail(st_audit *a)
{
    struct stat st;
    if (fstat(a->fd, &st) != 0 || st.st_size == 0)
        return;
    off_t from = st.st_size > TAIL_BYTES ? st.st_size - TAIL_BYTES : 0;
    size_t len = (size_t)(st.st_size - from);
    char *buf = malloc(len + 1);
    if (!buf)
        return;
    ssize_t got = pread(a->fd, buf, len, from);
    if (got < 0)
        got = 0;
    buf[got] = '\0';
    char *p = buf;
    if (from > 0) { /* skip the partial first line */
        char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : buf + got;
    }
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        json_t *e = json_loads(p, 0, NULL);
        if (json_is_object(e)) {
            remember(a, e);
            note_seen(a, e);
        }
        json_decref(e);
        if (!nl)
            break;
        p = nl + 1;
    }
    free(buf);
}

static void *writer(void *arg)
{
    st_audit *a = arg;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        while (!a->head && !a->stopping)
            pthread_cond_wait(&a->cond, &a->lock);
        line *batch = a->head;
        a->head = a->tail = NULL;
        a->queued = 0;
        if (!batch && a->stopping)
            break;
        pthread_mutex_unlock(&a->lock);
        bool wrote = false;
        while (batch) {
            line *next = batch->next;
            size_t n = strlen(batch->text), off = 0;
            while (off < n) {
                ssize_t w = write(a->fd, batch->text + off, n - off);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    st_error("audit log %s: write failed: %s (entry lost: %.200s)", a->path,
                             strerror(errno), batch->text);
                    break;
                }
                off += (size_t)w;
            }
            wrote = true;
            free(batch->text);
            free(batch);
            batch = next;
        }
        if (wrote && fdatasync(a->fd) != 0)
            st_error("audit log %s: fdatasync failed: %s", a->path, strerror(errno));
        pthread_mutex_lock(&a->lock);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

st_audit *st_audit_open(const char *path, char *err, size_t errlen)
{
    st_audit *a = calloc(1, sizeof *a);
    if (!a || !(a->path = strdup(path)) || !(a->seen = json_object())) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (a->fd < 0) {
        snprintf(err, errlen, "cannot open the audit log %s: %s", path, strerror(errno));
        goto fail;
    }
    read_tail(a);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    int rc = pthread_create(&a->thread, NULL, writer, a);
    if (rc) {
        snprintf(err, errlen, "cannot start the audit writer: %s", strerror(rc));
        close(a->fd);
        goto fail;
    }
    return a;
fail:
    if (a) {
        json_decref(a->seen);
        free(a->path);
        for (size_t i = 0; i < a->ring_n; i++)
            json_decref(a->ring[(a->ring_start + i) % ST_AUDIT_KEEP]);
        free(a);
    }
    return NULL;
}

void st_audit_close(st_audit *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    close(a->fd);
    for (size_t i = 0; i < a->ring_n; i++)
        json_decref(a->ring[(a->ring_start + i) % ST_AUDIT_KEEP]);
    json_decref(a->seen);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a->path);
    free(a);
}

void st_audit_append(st_audit *a, json_t *entry)
{
    struct timespec ts;
    struct tm tm;
    char when[96];
    /* An entry a daemon reported keeps the daemon's time; the console's own get now. */
    json_t *given = json_object_get(entry, "time_ms");
    int64_t ms;
    if (json_is_integer(given))
        ms = json_integer_value(given);
    else {
        clock_gettime(CLOCK_REALTIME, &ts);
        ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        json_object_set_new(entry, "time_ms", json_integer((json_int_t)ms));
    }
    time_t secs = (time_t)(ms / 1000);
    gmtime_r(&secs, &tm);
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    json_object_set_new(entry, "time", json_string(when));
    bound_entry(entry);
    remember(a, entry);
    note_seen(a, entry);

    char *text = json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS);
    line *l = malloc(sizeof *l);
    char *withnl = text ? malloc(strlen(text) + 2) : NULL;
    if (!text || !l || !withnl) {
        st_error("audit log %s: out of memory: an entry was not written", a->path);
        free(text);
        free(l);
        free(withnl);
        return;
    }
    sprintf(withnl, "%s\n", text);
    free(text);
    l->text = withnl;
    l->next = NULL;
    pthread_mutex_lock(&a->lock);
    if (a->queued >= QUEUE_LIMIT) {
        a->dropped++;
        pthread_mutex_unlock(&a->lock);
        st_error("audit log %s: %zu entries wait for the disk; this one was not written: %.200s",
                 a->path, (size_t)QUEUE_LIMIT, withnl);
        free(withnl);
        free(l);
        return;
    }
    if (a->tail)
        a->tail->next = l;
    else
        a->head = l;
    a->tail = l;
    a->queued++;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

bool st_audit_first_sight(st_audit *a, const char *daemon, const char *boot, uint64_t seq)
{
    char key[512];
    snprintf(key, sizeof key, "%s|%s", daemon, boot);
    json_t *have = json_object_get(a->seen, key);
    if (have && (uint64_t)json_integer_value(have) >= seq)
        return false;
    json_object_set_new(a->seen, key, json_integer((json_int_t)seq));
    return true;
}

json_t *st_audit_recent(const st_audit *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < a->ring_n; i++)
        json_array_append(arr, a->ring[(a->ring_start + i) % ST_AUDIT_KEEP]);
    return arr;
}

uint64_t st_audit_version(const st_audit *a)
{
    return a->version;
}
