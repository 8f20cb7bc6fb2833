/*
 * librdkafka set-up shared by produce and consume, and a tiny ApiVersions probe.
 *
 * The probe exists because librdkafka, asked to join a group on a broker that does not
 * serve the group APIs, retries its coordinator lookup forever and only says so in
 * debug logs; asking the broker what it serves first turns that silence into a clear
 * error.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "tools/cli.h"

#define PROBE_TIMEOUT_MS 3000

void cli_print_kafka_options(FILE *out)
{
    fputs("  -X, --property PROP=VAL  a librdkafka property, e.g. -X linger.ms=50 or\n"
          "                           -X debug=broker; repeat for several (see\n"
          "                           librdkafka's CONFIGURATION.md) [none]\n",
          out);
}

int cli_kafka_prop_add(const cli_ctx *c, cli_list *props, const char *arg)
{
    char *name, err[512];
    const char *value;
    if (cli_split_kv(arg, &name, &value) != 0)
        return cli_usage_error(c, "-X \"%s\": expected PROP=VALUE, e.g. -X linger.ms=100", arg), -1;
    /* Checked now: an unknown property or a bad value is a usage error (exit 2). */
    rd_kafka_conf_t *scratch = rd_kafka_conf_new();
    rd_kafka_conf_res_t r = rd_kafka_conf_set(scratch, name, value, err, sizeof err);
    rd_kafka_conf_destroy(scratch);
    free(name);
    if (r != RD_KAFKA_CONF_OK)
        return cli_usage_error(c, "-X %s: %s", arg, err), -1;
    return cli_list_add(props, arg);
}

static bool secured_in(const cli_list *props)
{
    bool secured = false; /* the last setting wins, as in librdkafka */
    for (size_t i = 0; i < props->n; i++)
        if (strncasecmp(props->v[i], "security.protocol=", 18) == 0)
            secured = strcasecmp(props->v[i] + 18, "plaintext") != 0;
    return secured;
}

bool cli_kafka_secured(cli_ctx *c, const cli_list *props)
{
    cli_profile_load(c);
    for (size_t i = 0; props && i < props->n; i++)
        if (strncasecmp(props->v[i], "security.protocol=", 18) == 0)
            return secured_in(props);
    return secured_in(&c->kafka_props);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (strcmp(fac, "FAIL") == 0)
        return; /* a connection failure: the error callback sums these up */
    fprintf(stderr, "strait: librdkafka %s: ", fac);
    cli_write_safe(stderr, buf); /* may quote what a broker said */
    fputc('\n', stderr);
}

/* Errors not tied to a record. Connection failures were already logged (FAIL). */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT)
        return;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        cli_fail("%s: is the broker running at the --bootstrap address? (still trying)", reason);
    else
        cli_fail("%s", reason);
}

/* Sets each "name=value" of l on conf; reports the first failure (CLI_FAIL). */
static int apply_props(rd_kafka_conf_t *conf, const cli_list *l, const char *origin)
{
    char err[512];
    for (size_t i = 0; l && i < l->n; i++) {
        char *name;
        const char *value;
        if (cli_split_kv(l->v[i], &name, &value) != 0)
            continue; /* checked when added */
        rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, name, value, err, sizeof(err));
        free(name);
        if (r != RD_KAFKA_CONF_OK)
            return cli_fail("%s %s: %s", origin, l->v[i], err);
    }
    return CLI_OK;
}

rd_kafka_conf_t *cli_kafka_conf(cli_ctx *c, const char *const *defaults, const cli_list *props)
{
    char err[512];
    if (cli_profile_load(c) != CLI_OK)
        return NULL;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Warnings and errors only, unless -X log_level or -X debug asks for more. */
    const char *base[] = {"bootstrap.servers", c->bootstrap, "client.id", "strait",
                          "log_level",         "4",          NULL};
    for (const char *const *kv = base; *kv; kv += 2)
        if (rd_kafka_conf_set(conf, kv[0], kv[1], err, sizeof(err)) != RD_KAFKA_CONF_OK)
            goto fail_conf;
    for (const char *const *kv = defaults; kv && *kv; kv += 2)
        if (rd_kafka_conf_set(conf, kv[0], kv[1], err, sizeof(err)) != RD_KAFKA_CONF_OK)
            goto fail_conf;
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    /* The profile, then -X: the command line wins. */
    if (apply_props(conf, &c->kafka_props, "profile setting") != CLI_OK ||
        apply_props(conf, props, "-X") != CLI_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;

fail_conf:
    cli_fail("librdkafka configuration: %s", err);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Connects with a bounded wait. Returns the socket or -1 with err. */
static int connect_host(const char *host, const char *port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "%s:%s: %s", host, port, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int so = ETIMEDOUT;
            socklen_t len = sizeof(so);
            if (poll(&p, 1, PROBE_TIMEOUT_MS) == 1)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len);
            errno = so;
            rc = so == 0 ? 0 : -1;
        }
        if (rc < 0) {
            snprintf(err, errlen, "%s:%s: %s", host, port, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Reads exactly len bytes within the probe timeout. */
static int read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, PROBE_TIMEOUT_MS) != 1)
            return -1;
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int16_t be16(const uint8_t *p)
{
    return (int16_t)((p[0] << 8) | p[1]);
}

static int32_t be32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* ApiVersions v0 to one broker: fills have[key] for keys < 128. 0 or -1 with err. */
static int api_versions(const char *host, const char *port, bool have[128], char *err,
                        size_t errlen)
{
    /* size, api_key 18, version 0, correlation id 1, client id "strait" */
    static const uint8_t req[] = {0, 0, 0, 16, 0,   18,  0,   0,   0,   0,
                                  0, 1, 0, 6,  's', 't', 'r', 'a', 'i', 't'};
    uint8_t head[4], *body = NULL;
    int rc = -1;
    int fd = connect_host(host, port, err, errlen);
    if (fd < 0)
        return -1;
    if (write(fd, req, sizeof(req)) != (ssize_t)sizeof(req) || read_full(fd, head, 4) != 0) {
        snprintf(err, errlen, "%s:%s: no ApiVersions answer", host, port);
        goto out;
    }
    int32_t size = be32(head);
    if (size < 10 || size > 65536 || !(body = malloc((size_t)size)) ||
        read_full(fd, body, (size_t)size) != 0) {
        snprintf(err, errlen, "%s:%s: bad ApiVersions answer", host, port);
        goto out;
    }
    /* correlation id (4), error (2), array length (4), then key/min/max (6 each) */
    int32_t n = be32(body + 6);
    if (be16(body + 4) != 0 || n < 0 || (int64_t)n * 6 > size - 10) {
        snprintf(err, errlen, "%s:%s: ApiVersions failed (error %d)", host, port, be16(body + 4));
        goto out;
    }
    for (int32_t i = 0; i < n; i++) {
        int16_t key = be16(body + 10 + 6 * i);
        if (key >= 0 && key < 128)
            have[key] = true;
    }
    rc = 0;
out:
    free(body);
    close(fd);
    return rc;
}

/* Skips the tagged fields of a flexible response header v1 at *p (n bytes left):
 * returns the bytes taken, or 0 when they do not parse. */
static size_t skip_header_tags(const uint8_t *p, size_t n)
{
    size_t pos = 0;
    uint64_t count = 0, v;
    for (int shift = 0;; shift += 7) { /* uvarint: the number of fields */
        if (pos >= n || shift > 28)
            return 0;
        count |= (uint64_t)(p[pos] & 0x7f) << shift;
        if (!(p[pos++] & 0x80))
            break;
    }
    for (uint64_t f = 0; f < count; f++)
        for (int which = 0; which < 2; which++) { /* tag, then size and the data */
            v = 0;
            for (int shift = 0;; shift += 7) {
                if (pos >= n || shift > 28)
                    return 0;
                v |= (uint64_t)(p[pos] & 0x7f) << shift;
                if (!(p[pos++] & 0x80))
                    break;
            }
            if (which == 1) {
                if (v > n - pos)
                    return 0;
                pos += (size_t)v;
            }
        }
    return pos;
}

static int raw_call(const char *host, int port, int16_t key, int16_t version, bool flex,
                    const uint8_t *body, size_t len, uint8_t **resp, size_t *resp_len, char *err,
                    size_t errlen)
{
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    *resp = NULL;
    *resp_len = 0;
    int fd = connect_host(host, portstr, err, errlen);
    if (fd < 0)
        return -1;
    /* size, api_key, version, correlation id 7, client id "strait" (request header v1),
     * and for a flexible version an empty tagged-field block (header v2) */
    uint8_t head[4 + 2 + 2 + 4 + 2 + 6 + 1];
    size_t head_len = sizeof head - (flex ? 0 : 1);
    size_t total = head_len - 4 + len;
    uint8_t *frame = malloc(sizeof head + len);
    int rc = -1;
    if (!frame) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    uint32_t be = htonl((uint32_t)total);
    memcpy(head, &be, 4);
    head[4] = (uint8_t)(key >> 8), head[5] = (uint8_t)key;
    head[6] = (uint8_t)(version >> 8), head[7] = (uint8_t)version;
    head[8] = 0, head[9] = 0, head[10] = 0, head[11] = 7;
    head[12] = 0, head[13] = 6;
    memcpy(head + 14, "strait", 6);
    head[20] = 0;
    memcpy(frame, head, head_len);
    if (len)
        memcpy(frame + head_len, body, len);
    uint8_t size_be[4];
    if (write(fd, frame, head_len + len) != (ssize_t)(head_len + len) ||
        read_full(fd, size_be, 4) != 0) {
        snprintf(err, errlen, "%s:%d: no answer", host, port);
        goto out;
    }
    int32_t size = be32(size_be);
    if (size < 4 || size > 64 * 1024 * 1024 || !(*resp = malloc((size_t)size)) ||
        read_full(fd, *resp, (size_t)size) != 0 || be32(*resp) != 7) {
        snprintf(err, errlen, "%s:%d: a bad or incomplete answer", host, port);
        free(*resp);
        *resp = NULL;
        goto out;
    }
    size_t skip = 4; /* the correlation id, and a flexible header's tagged fields */
    if (flex) {
        size_t tags = skip_header_tags(*resp + 4, (size_t)size - 4);
        if (!tags) {
            snprintf(err, errlen, "%s:%d: a bad answer header", host, port);
            free(*resp);
            *resp = NULL;
            goto out;
        }
        skip += tags;
    }
    memmove(*resp, *resp + skip, (size_t)size - skip);
    *resp_len = (size_t)size - skip;
    rc = 0;
out:
    free(frame);
    close(fd);
    return rc;
}

int cli_raw_call(const char *host, int port, int16_t key, int16_t version, const uint8_t *body,
                 size_t len, uint8_t **resp, size_t *resp_len, char *err, size_t errlen)
{
    return raw_call(host, port, key, version, false, body, len, resp, resp_len, err, errlen);
}

int cli_raw_call_flex(const char *host, int port, int16_t key, int16_t version, const uint8_t *body,
                      size_t len, uint8_t **resp, size_t *resp_len, char *err, size_t errlen)
{
    return raw_call(host, port, key, version, true, body, len, resp, resp_len, err, errlen);
}

int cli_broker_supports(const char *bootstrap, const int16_t *keys, size_t nkeys, int16_t *missing,
                        char *err, size_t errlen)
{
    char *list = strdup(bootstrap), *save = NULL;
    int rc = -1;
    snprintf(err, errlen, "no broker in \"%s\"", bootstrap);
    for (char *tok = list ? strtok_r(list, ", ", &save) : NULL; tok && rc < 0;
         tok = strtok_r(NULL, ", ", &save)) {
        char *sep = strstr(tok, "://");
        if (sep)
            tok = sep + 3;
        char *colon = strrchr(tok, ':');
        if (!colon) {
            snprintf(err, errlen, "\"%s\" is not host:port", tok);
            continue;
        }
        *colon = '\0';
        char *host = tok;
        if (*host == '[') { /* [::1]:9092 */
            host++;
            host[strcspn(host, "]")] = '\0';
        }
        bool have[128] = {false};
        if (api_versions(host, colon + 1, have, err, errlen) != 0)
            continue;
        rc = 1;
        for (size_t i = 0; i < nkeys && rc == 1; i++)
            if (keys[i] < 0 || keys[i] >= 128 || !have[keys[i]]) {
                *missing = keys[i];
                rc = 0;
            }
    }
    free(list);
    return rc;
}

/* ---- reading raw answers ---- */

int64_t cli_rd_int(cli_rd *r, int bytes)
{
    if (r->bad || r->end - r->p < bytes) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | *r->p++;
    return bytes == 1 ? (int8_t)v : bytes == 2 ? (int16_t)v : bytes == 4 ? (int32_t)v : (int64_t)v;
}

uint64_t cli_rd_uvarint(cli_rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; !r->bad; shift += 7) {
        if (r->p >= r->end || shift > 56) {
            r->bad = true;
            break;
        }
        v |= (uint64_t)(*r->p & 0x7f) << shift;
        if (!(*r->p++ & 0x80))
            break;
    }
    return v;
}

int64_t cli_rd_count(cli_rd *r)
{
    uint64_t n = cli_rd_uvarint(r);
    if (n > (uint64_t)(r->end - r->p) + 1)
        r->bad = true;
    return r->bad ? 0 : (int64_t)n - 1;
}

char *cli_rd_str(cli_rd *r)
{
    int64_t n = cli_rd_int(r, 2);
    if (n < 0 || r->bad || r->end - r->p < n) {
        r->bad = r->bad || n >= 0;
        return NULL;
    }
    char *s = strndup((const char *)r->p, (size_t)n);
    r->p += n;
    return s;
}

char *cli_rd_cstr(cli_rd *r)
{
    uint64_t n = cli_rd_uvarint(r);
    if (r->bad || (n > 0 && n - 1 > (uint64_t)(r->end - r->p))) {
        r->bad = true;
        return strdup("");
    }
    size_t len = n ? (size_t)(n - 1) : 0;
    char *s = strndup((const char *)r->p, len);
    r->p += len;
    return s;
}

void cli_rd_skip_tags(cli_rd *r)
{
    uint64_t n = cli_rd_uvarint(r);
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        cli_rd_uvarint(r);
        uint64_t size = cli_rd_uvarint(r);
        if (size > (uint64_t)(r->end - r->p))
            r->bad = true;
        else
            r->p += size;
    }
}
