/*
 * FileStreamSource and FileStreamSink, the connectors of Kafka's quickstart.
 *
 * The source tails a file: every complete line (ended by \n, \r\n or \r, which is not
 * part of the record) is one record whose value is the line and whose position is the
 * byte offset after its line end. A last line without its end waits for it, as in Kafka.
 * Without file= it reads stdin (positions then mean nothing across runs). A file that
 * does not exist yet is waited for. A file that shrinks below what was sent, or is
 * replaced by another (rotation), stops the connector with an error rather than
 * guessing: the positions would no longer name the same lines.
 *
 * The sink appends each record's value and a '\n' to a file (stdout without file=), a
 * write(2) per record so lines show as they come; flush fsyncs and reports the file's
 * size, which the worker commits with the offsets; open truncates to that size, so
 * lines written after the last commit are not written twice when their records come
 * again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/cli_connect.h"

#define LINE_MAX_BYTES (1 << 20) /* Kafka's default max.request.size is 1 MB */
#define READ_CHUNK     (256 << 10)

/* ---- FileStreamSource ---- */

typedef struct file_source {
    char *file; /* NULL: stdin */
    char partition[PATH_MAX];
    char *topic;
    int64_t batch_size;
    int fd;
    dev_t dev;
    ino_t ino;
    bool waiting_logged, eof;
    int64_t base;  /* file offset of buf[0] */
    char *buf;     /* bytes read, not yet handed out as records */
    size_t len;    /* bytes in buf */
    size_t handed; /* bytes of buf handed out by the last poll: dropped at the next */
    cc_positions delivered;
    size_t next_delivered;
} file_source;

static void *source_create(cc_props *props, const cc_connector_info *info, char *err, size_t errlen)
{
    file_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = -1;
    const char *file = cc_props_get(props, "file", "");
    const char *topic = cc_props_get(props, "topic", "");
    if (!topic[0]) {
        cc_props_fail(props, "topic", err, errlen,
                      "%s; FileStreamSource needs the one topic to write to (topic=NAME)",
                      cc_props_find(props, "topic") ? "empty" : "missing");
        goto fail;
    }
    if (strchr(topic, ',')) {
        cc_props_fail(props, "topic", err, errlen,
                      "\"%s\": FileStreamSource writes one topic, not a list", topic);
        goto fail;
    }
    if (cc_props_int(props, "batch.size", 2000, 1, 1000000, &s->batch_size, err, errlen))
        goto fail;
    s->topic = strdup(topic);
    if (!s->topic)
        goto oom;
    if (file[0]) {
        if (!(s->file = strdup(file)))
            goto oom;
        /* The source partition: the absolute path, so a worker started elsewhere finds
         * its offsets. The file need not exist yet. */
        if (file[0] == '/') {
            snprintf(s->partition, sizeof s->partition, "%s", file);
        } else {
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd)) {
                snprintf(err, errlen, "cannot read the current directory: %s", strerror(errno));
                goto fail;
            }
            if (snprintf(s->partition, sizeof s->partition, "%s/%s", cwd, file) >=
                (int)sizeof s->partition) {
                cc_props_fail(props, "file", err, errlen, "path too long");
                goto fail;
            }
        }
    } else {
        snprintf(s->partition, sizeof s->partition, "stdin");
    }
    if (!(s->buf = malloc(LINE_MAX_BYTES + READ_CHUNK)))
        goto oom;
    return s;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(s->file);
    free(s->topic);
    free(s);
    return NULL;
}

static void source_destroy(void *task)
{
    file_source *s = task;
    if (!s)
        return;
    if (s->fd > 0)
        close(s->fd);
    free(s->file);
    free(s->topic);
    free(s->buf);
    free(s->delivered.v);
    free(s);
}

static const char *source_topic(void *task)
{
    return ((file_source *)task)->topic;
}

static const char *source_partition(void *task)
{
    return ((file_source *)task)->partition;
}

static bool source_resumable(void *task)
{
    return ((file_source *)task)->file != NULL;
}

static int source_start(void *task, int64_t position, const cc_positions *delivered, char *err,
                        size_t errlen)
{
    file_source *s = task;
    s->base = position > 0 ? position : 0;
    if (delivered && delivered->n) {
        s->delivered.v = malloc(delivered->n * sizeof *s->delivered.v);
        if (!s->delivered.v) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        memcpy(s->delivered.v, delivered->v, delivered->n * sizeof *s->delivered.v);
        s->delivered.n = delivered->n;
    }
    if (!s->file)
        s->fd = STDIN_FILENO;
    return 0;
}

/* Opens the file when it exists; 0 (open, or still waiting), -1 with err. */
static int source_open(file_source *s, char *err, size_t errlen)
{
    int fd = open(s->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            if (!s->waiting_logged)
                fprintf(stderr, "strait connect: %s does not exist yet; waiting for it\n", s->file);
            s->waiting_logged = true;
            return 0;
        }
        snprintf(err, errlen, "cannot open %s: %s", s->file, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        snprintf(err, errlen, "cannot stat %s: %s", s->file, strerror(errno));
        close(fd);
        return -1;
    }
    if (st.st_size < s->base) {
        snprintf(err, errlen,
                 "%s holds %lld bytes, fewer than the %lld already sent: it was truncated or "
                 "replaced. strait connect does not guess which lines are new; to send the file "
                 "from its start, stop the worker and remove this connector from the offsets file",
                 s->file, (long long)st.st_size, (long long)s->base);
        close(fd);
        return -1;
    }
    s->fd = fd;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    return 0;
}

/* The file is still the one open, and not shorter than what was read. */
static int source_check_file(file_source *s, char *err, size_t errlen)
{
    struct stat by_path, by_fd;
    if (fstat(s->fd, &by_fd) == 0 && by_fd.st_size < s->base + (int64_t)s->len) {
        snprintf(err, errlen,
                 "%s shrank to %lld bytes below the %lld already read: truncated files are not "
                 "followed (the positions would name other lines)",
                 s->file, (long long)by_fd.st_size, (long long)(s->base + (int64_t)s->len));
        return -1;
    }
    if (stat(s->file, &by_path) == 0 && (by_path.st_ino != s->ino || by_path.st_dev != s->dev)) {
        snprintf(err, errlen,
                 "%s was replaced by another file (rotated?): rotated files are not followed; "
                 "stop the worker and remove this connector from the offsets file to start over",
                 s->file);
        return -1;
    }
    return 0;
}

/* Reads what is there (at most READ_CHUNK) after buf. 0, or -1 with err. */
static int source_read(file_source *s, char *err, size_t errlen)
{
    size_t room = LINE_MAX_BYTES + READ_CHUNK - s->len;
    if (room > READ_CHUNK)
        room = READ_CHUNK;
    if (room == 0)
        return 0; /* full of one line: source_poll refuses it */
    ssize_t n;
    if (s->file) {
        n = pread(s->fd, s->buf + s->len, room, s->base + (off_t)s->len);
    } else {
        if (s->eof)
            return 0;
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            return 0;
        n = read(s->fd, s->buf + s->len, room);
        if (n == 0)
            s->eof = true;
    }
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 0;
        snprintf(err, errlen, "reading %s: %s", s->file ? s->file : "stdin", strerror(errno));
        return -1;
    }
    s->len += (size_t)n;
    return 0;
}

static int source_poll(void *task, cc_source_record *out, int max, char *err, size_t errlen)
{
    file_source *s = task;
    /* What the last poll handed out is no longer needed. */
    if (s->handed) {
        memmove(s->buf, s->buf + s->handed, s->len - s->handed);
        s->len -= s->handed;
        s->base += (int64_t)s->handed;
        s->handed = 0;
    }
    if (s->fd < 0 && source_open(s, err, errlen))
        return -1;
    if (s->fd < 0)
        return 0;
    if (s->file && source_check_file(s, err, errlen))
        return -1;
    if (source_read(s, err, errlen))
        return -1;
    if (max > s->batch_size)
        max = (int)s->batch_size;
    int n = 0;
    size_t start = 0;
    while (n < max) {
        size_t i = start;
        while (i < s->len && s->buf[i] != '\n' && s->buf[i] != '\r')
            i++;
        if (i >= s->len)
            break;
        size_t end = i + 1;
        if (s->buf[i] == '\r') {
            if (end >= s->len && !s->eof)
                break; /* "\r" last: a "\n" may follow */
            if (end < s->len && s->buf[end] == '\n')
                end++;
        }
        cc_source_record *r = &out[n++];
        r->value = s->buf + start;
        r->value_len = i - start;
        r->position = s->base + (int64_t)end;
        r->delivered = false;
        while (s->next_delivered < s->delivered.n &&
               s->delivered.v[s->next_delivered] < r->position)
            s->next_delivered++;
        if (s->next_delivered < s->delivered.n && s->delivered.v[s->next_delivered] == r->position)
            r->delivered = true;
        start = end;
    }
    s->handed = start;
    if (n == 0 && s->len >= LINE_MAX_BYTES) {
        snprintf(err, errlen,
                 "%s: the line at byte %lld is longer than %d bytes; records that large are "
                 "refused by brokers (message.max.bytes), so strait connect stops here",
                 s->file ? s->file : "stdin", (long long)s->base, LINE_MAX_BYTES);
        return -1;
    }
    return n;
}

static const cc_source_ops file_source_ops = {
    .topic = source_topic,
    .partition = source_partition,
    .start = source_start,
    .poll = source_poll,
    .resumable = source_resumable,
};

const cc_connector_type cc_file_source_type = {
    .alias = "FileStreamSource",
    .class_name = "org.apache.kafka.connect.file.FileStreamSourceConnector",
    .summary = "tails file= (stdin without it) into topic=, a record per line",
    .create = source_create,
    .destroy = source_destroy,
    .source = &file_source_ops,
};

/* ---- FileStreamSink ---- */

typedef struct file_sink {
    char *file; /* NULL: stdout */
    int fd;
} file_sink;

static void *sink_create(cc_props *props, const cc_connector_info *info, char *err, size_t errlen)
{
    file_sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const char *file = cc_props_get(props, "file", "");
    if (!file[0]) {
        s->fd = STDOUT_FILENO;
        return s;
    }
    s->fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        cc_props_fail(props, "file", err, errlen, "cannot open %s for appending: %s", file,
                      strerror(errno));
        free(s);
        return NULL;
    }
    if (!(s->file = strdup(file))) {
        snprintf(err, errlen, "out of memory");
        close(s->fd);
        free(s);
        return NULL;
    }
    return s;
}

static void sink_destroy(void *task)
{
    file_sink *s = task;
    if (!s)
        return;
    if (s->file)
        close(s->fd);
    free(s->file);
    free(s);
}

static int sink_open(void *task, const char *state, char *err, size_t errlen)
{
    file_sink *s = task;
    long long committed;
    if (!s->file || !state || sscanf(state, "size=%lld", &committed) != 1)
        return 0;
    struct stat st;
    if (fstat(s->fd, &st)) {
        snprintf(err, errlen, "cannot stat %s: %s", s->file, strerror(errno));
        return -1;
    }
    if (st.st_size > committed) {
        if (ftruncate(s->fd, committed)) {
            snprintf(err, errlen, "cannot truncate %s to %lld bytes: %s", s->file, committed,
                     strerror(errno));
            return -1;
        }
        fprintf(stderr,
                "strait connect: %s: dropped the last %lld bytes, written after the last "
                "commit; their records are delivered again\n",
                s->file, (long long)st.st_size - committed);
    } else if (st.st_size < committed) {
        fprintf(stderr,
                "strait connect: %s holds %lld bytes, fewer than the %lld at the last commit: "
                "someone truncated or replaced it; appending\n",
                s->file, (long long)st.st_size, committed);
    }
    return 0;
}

static int sink_put(void *task, const char *text, size_t len, char *err, size_t errlen)
{
    file_sink *s = task;
    char *line = malloc(len + 1);
    if (!line) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(line, text, len);
    line[len] = '\n';
    size_t done = 0;
    while (done < len + 1) {
        ssize_t n = write(s->fd, line + done, len + 1 - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "writing %s: %s", s->file ? s->file : "stdout", strerror(errno));
            free(line);
            return -1;
        }
        done += (size_t)n;
    }
    free(line);
    return 0;
}

static int sink_flush(void *task, char *state, size_t cap, char *err, size_t errlen)
{
    file_sink *s = task;
    state[0] = '\0';
    if (!s->file)
        return 0;
    struct stat st;
    if (fsync(s->fd) || fstat(s->fd, &st)) {
        snprintf(err, errlen, "fsync of %s failed: %s", s->file, strerror(errno));
        return -1;
    }
    snprintf(state, cap, "size=%lld", (long long)st.st_size);
    return 0;
}

static const cc_sink_ops file_sink_ops = {
    .open = sink_open,
    .put = sink_put,
    .flush = sink_flush,
};

const cc_connector_type cc_file_sink_type = {
    .alias = "FileStreamSink",
    .class_name = "org.apache.kafka.connect.file.FileStreamSinkConnector",
    .summary = "appends the values of topics= (or topics.regex=) to file= (stdout without it)",
    .create = sink_create,
    .destroy = sink_destroy,
    .sink = &file_sink_ops,
};
