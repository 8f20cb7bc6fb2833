/*
 * rk_sasl: the librdkafka and raw-socket halves of test_sasl.sh (SASL PLAIN and SCRAM on
 * SASL_PLAINTEXT and SASL_SSL listeners).
 *
 *   rk_sasl roundtrip BOOTSTRAP PROTOCOL MECH USER PASSWORD CA TOPIC COUNT
 *       librdkafka authenticates (PROTOCOL sasl_plaintext|sasl_ssl, MECH PLAIN|SCRAM-...),
 *       creates TOPIC (1 partition), produces COUNT records with keys and headers
 *       (acks=all) and reads them back with a second authenticated client, comparing
 *       key, value and headers. CA ("-" for none) is the only trust anchor for SASL_SSL;
 *       certificate and host name verification stay on.
 *   rk_sasl badauth BOOTSTRAP PROTOCOL MECH USER PASSWORD CA
 *       the same login with a password that must be refused: waits for librdkafka's
 *       error event and prints "auth-error <code name>: <text>"; exits 1 if the login
 *       is accepted or no authentication error comes within 20 s.
 *   rk_sasl raw PORT USER PASSWORD
 *       speaks the protocol by hand to a SASL_PLAINTEXT listener: Metadata before
 *       authenticating closes the connection (answered, if at all, with
 *       ILLEGAL_SASL_STATE); SaslAuthenticate before SaslHandshake gets
 *       ILLEGAL_SASL_STATE (34) and the close; ApiVersions before authenticating is
 *       answered; SaslHandshake with an unknown
 *       mechanism gets UNSUPPORTED_SASL_MECHANISM (33) and the enabled list; a wrong
 *       secret over each mechanism gets SASL_AUTHENTICATION_FAILED (58) with a message
 *       (printed as "wire-message MECH <message>"), then the close; last, a full
 *       SaslHandshake v1 + SaslAuthenticate v1 PLAIN login followed by Metadata.
 *   rk_sasl delays PORT USER ATTEMPTS
 *       ATTEMPTS consecutive PLAIN logins with a wrong password, each on a new
 *       connection, timing SaslAuthenticate → its error answer; prints one line per
 *       attempt with the local address; checks the times grow. While a failure answer is
 *       held, ApiVersions on another connection must come back first (the delay must not
 *       stall the broker). Last, an unknown user must get the same message as a wrong
 *       password.
 *   rk_sasl mgmt URL TOKEN CMD JSON_ARGS
 *       one management command (common/mgmt.h), result printed as JSON: for when the
 *       strait CLI has no subcommand for it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/mgmt.h"
#include "tests/integration/rk_util.h"

/* raw_util.h's helpers are static and not all of them are used here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "tests/integration/raw_util.h"
#pragma GCC diagnostic pop

#define API_METADATA          3
#define API_SASL_HANDSHAKE    17
#define API_API_VERSIONS      18
#define API_SASL_AUTHENTICATE 36

#define ERR_UNSUPPORTED_SASL_MECHANISM 33
#define ERR_ILLEGAL_SASL_STATE         34
#define ERR_SASL_AUTHENTICATION_FAILED 58

#define RAW_TIMEOUT_S 15

/* ---------------------------------------------------------------- librdkafka ---- */

/* The first error librdkafka reported through the error callback. */
typedef struct rk_errors {
    rd_kafka_resp_err_t first;
    char text[1024];
} rk_errors;

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    rk_errors *e = opaque;
    fprintf(stderr, "%s: librdkafka error %s: %s\n", program_invocation_short_name,
            rd_kafka_err2name(err), reason);
    if (e->first == RD_KAFKA_RESP_ERR_NO_ERROR) {
        e->first = err;
        snprintf(e->text, sizeof(e->text), "%s", reason);
    }
}

/* A client configuration for one login. Borrows every string. */
static rd_kafka_conf_t *sasl_conf(const char *bootstrap, const char *protocol, const char *mech,
                                  const char *user, const char *password, const char *ca,
                                  rk_errors *errors)
{
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    rk_set(conf, "security.protocol", protocol);
    rk_set(conf, "sasl.mechanisms", mech);
    rk_set(conf, "sasl.username", user);
    rk_set(conf, "sasl.password", password);
    if (strcmp(protocol, "sasl_ssl") == 0) {
        if (strcmp(ca, "-") == 0)
            rk_fail("sasl_ssl needs the CA file");
        rk_set(conf, "ssl.ca.location", ca);
        /* the defaults in 2.x, set anyway: this test is about verifying the broker */
        rk_set(conf, "enable.ssl.certificate.verification", "true");
        rk_set(conf, "ssl.endpoint.identification.algorithm", "https");
    }
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, errors);
    return conf;
}

/* An authentication or TLS failure while the login is expected to work ends the test at
 * once with librdkafka's words, rather than as a timeout later. */
static void fail_on_auth_error(const rk_errors *e, const char *what)
{
    if (e->first == RD_KAFKA_RESP_ERR__AUTHENTICATION || e->first == RD_KAFKA_RESP_ERR__SSL ||
        e->first == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        rk_fail("%s: %s: %s", what, rd_kafka_err2name(e->first), e->text);
}

static void create_topic(rd_kafka_t *rk, const char *topic, const rk_errors *errors)
{
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, 1, err, sizeof(err));
    if (!nt)
        rk_fail("NewTopic %s: %s", topic, err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = NULL;
    int64_t deadline = rk_now_ms() + 30000;
    while (!ev && rk_now_ms() < deadline) {
        ev = rd_kafka_queue_poll(q, 200);
        fail_on_auth_error(errors, "CreateTopics");
    }
    if (!ev)
        rk_fail("CreateTopics %s: no result within 30 s", topic);
    if (rd_kafka_event_error(ev))
        rk_fail("CreateTopics %s: %s", topic, rd_kafka_event_error_string(ev));
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != 1 || rd_kafka_topic_result_error(res[0]))
        rk_fail("CreateTopics %s: %s", topic,
                n == 1 ? rd_kafka_topic_result_error_string(res[0]) : "no topic result");
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
}

static int delivered, delivery_failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err) {
        fprintf(stderr, "%s: delivery failed: %s\n", program_invocation_short_name,
                rd_kafka_err2str(m->err));
        delivery_failed++;
    } else {
        delivered++;
    }
}

static void record_of(int i, const char *mech, const char *protocol, char *key, char *value,
                      char *seq, size_t cap)
{
    snprintf(key, cap, "key-%d", i);
    snprintf(value, cap, "value-%d-%s-%s", i, mech, protocol);
    snprintf(seq, cap, "%d", i);
}

/* The header `name` of m as a string, or "" (at most cap-1 bytes). */
static void header_of(const rd_kafka_message_t *m, const char *name, char *out, size_t cap)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t len = 0;
    out[0] = '\0';
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &len) || !v)
        return;
    snprintf(out, cap, "%.*s", (int)len, (const char *)v);
}

static int cmd_roundtrip(char **argv)
{
    const char *bootstrap = argv[0], *protocol = argv[1], *mech = argv[2], *user = argv[3],
               *password = argv[4], *ca = argv[5], *topic = argv[6];
    int count = atoi(argv[7]);
    char what[256], key[128], value[128], seq[128];
    snprintf(what, sizeof(what), "%s %s", protocol, mech);
    rk_errors perr = {0}, cerr = {0};

    rd_kafka_conf_t *conf = sasl_conf(bootstrap, protocol, mech, user, password, ca, &perr);
    rk_set(conf, "acks", "all");
    rk_set(conf, "linger.ms", "5");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *producer = rk_new(RD_KAFKA_PRODUCER, conf);
    create_topic(producer, topic, &perr);

    for (int i = 0; i < count; i++) {
        record_of(i, mech, protocol, key, value, seq, sizeof(key));
        rd_kafka_resp_err_t err = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(value, strlen(value)),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADER("seq", seq, -1),
            RD_KAFKA_V_HEADER("mech", mech, -1), RD_KAFKA_V_END);
        if (err)
            rk_fail("%s: produce record %d: %s", what, i, rd_kafka_err2str(err));
    }
    int64_t deadline = rk_now_ms() + 30000;
    while (delivered + delivery_failed < count && rk_now_ms() < deadline) {
        rd_kafka_poll(producer, 100);
        fail_on_auth_error(&perr, what);
    }
    if (delivered != count)
        rk_fail("%s: %d of %d records acknowledged (%d failed)", what, delivered, count,
                delivery_failed);
    rd_kafka_destroy(producer);

    /* a second client, so the read side authenticates on its own connections */
    conf = sasl_conf(bootstrap, protocol, mech, user, password, ca, &cerr);
    rd_kafka_t *consumer = rk_new(RD_KAFKA_CONSUMER, conf);
    rd_kafka_topic_t *rkt = rk_consume_start(consumer, topic, 0, RD_KAFKA_OFFSET_BEGINNING, NULL);
    int got = 0;
    deadline = rk_now_ms() + 30000;
    while (got < count && rk_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consume(rkt, 0, 200);
        fail_on_auth_error(&cerr, what);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->err)
            rk_fail("%s: consume: %s", what, rd_kafka_message_errstr(m));
        if (m->offset != got)
            rk_fail("%s: record at offset %lld, expected %d", what, (long long)m->offset, got);
        char hseq[128], hmech[128];
        record_of(got, mech, protocol, key, value, seq, sizeof(key));
        header_of(m, "seq", hseq, sizeof(hseq));
        header_of(m, "mech", hmech, sizeof(hmech));
        if (m->key_len != strlen(key) || memcmp(m->key, key, m->key_len) != 0 ||
            m->len != strlen(value) || memcmp(m->payload, value, m->len) != 0 ||
            strcmp(hseq, seq) != 0 || strcmp(hmech, mech) != 0)
            rk_fail("%s: offset %d holds key \"%.*s\" value \"%.*s\" headers seq=%s mech=%s, "
                    "expected \"%s\" \"%s\" seq=%s mech=%s",
                    what, got, (int)m->key_len, (const char *)m->key, (int)m->len,
                    (const char *)m->payload, hseq, hmech, key, value, seq, mech);
        got++;
        rd_kafka_message_destroy(m);
    }
    if (got != count)
        rk_fail("%s: read back %d of %d records within 30 s", what, got, count);
    rk_consume_stop(rkt, 0);
    rd_kafka_destroy(consumer);
    printf("ok: librdkafka %s %s: %d records with keys and headers produced to %s and read "
           "back identical\n",
           protocol, mech, count, topic);
    return 0;
}

static int cmd_badauth(char **argv)
{
    const char *bootstrap = argv[0], *protocol = argv[1], *mech = argv[2], *user = argv[3],
               *password = argv[4], *ca = argv[5];
    rk_errors errors = {0};
    rd_kafka_conf_t *conf = sasl_conf(bootstrap, protocol, mech, user, password, ca, &errors);
    /* one attempt is the point: no reconnect before we have seen the refusal */
    rk_set(conf, "reconnect.backoff.ms", "10000");
    rk_set(conf, "reconnect.backoff.max.ms", "10000");
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);
    int64_t deadline = rk_now_ms() + 20000;
    while (errors.first == RD_KAFKA_RESP_ERR_NO_ERROR && rk_now_ms() < deadline)
        rd_kafka_poll(rk, 100);
    /* Metadata must not have been served on that login */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t merr = rd_kafka_metadata(rk, 0, NULL, &md, 500);
    if (merr == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_metadata_destroy(md);
        rk_fail("%s %s: Metadata succeeded with a wrong password", protocol, mech);
    }
    rd_kafka_destroy(rk);
    if (errors.first == RD_KAFKA_RESP_ERR_NO_ERROR)
        rk_fail("%s %s: no error reported within 20 s of a login with a wrong password", protocol,
                mech);
    printf("auth-error %s: %s\n", rd_kafka_err2name(errors.first), errors.text);
    if (errors.first != RD_KAFKA_RESP_ERR__AUTHENTICATION)
        rk_fail("%s %s: first error is %s, expected _AUTHENTICATION", protocol, mech,
                rd_kafka_err2name(errors.first));
    return 0;
}

/* -------------------------------------------------------------------- raw ---- */

static int raw_port;
static int32_t raw_correlation = 1000;

typedef struct rbuf {
    uint8_t data[8192];
    size_t len, at;
} rbuf;

static void begin(wbuf *b, int16_t key, int16_t version)
{
    b->len = 0;
    put_i32(b, 0);
    put_i16(b, key);
    put_i16(b, version);
    put_i32(b, ++raw_correlation);
    put_string(b, "rk_sasl-raw");
}

static void send_frame(int fd, wbuf *b, const char *what)
{
    patch_i32(b, 0, (int32_t)(b->len - 4));
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(fd, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            fail("%s: write: %s", what, strerror(errno));
        off += (size_t)w;
    }
}

/* Reads one response frame; 0 and *r filled (positioned after the correlation id), or
 * -1 if the broker closed the connection (or reset it) before a whole frame came. */
static int recv_frame(int fd, rbuf *r, const char *what)
{
    uint8_t size[4];
    size_t got = 0;
    while (got < 4) {
        ssize_t n = read(fd, size + got, 4 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            fail("%s: no answer within %d s", what, RAW_TIMEOUT_S);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    uint32_t len =
        (uint32_t)size[0] << 24 | (uint32_t)size[1] << 16 | (uint32_t)size[2] << 8 | size[3];
    if (len < 4 || len > sizeof(r->data))
        fail("%s: response size %u out of range", what, len);
    for (got = 0; got < len;) {
        ssize_t n = read(fd, r->data + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("%s: response cut short after %zu of %u bytes", what, got, len);
        got += (size_t)n;
    }
    r->len = len;
    r->at = 4;
    int32_t corr = (int32_t)((uint32_t)r->data[0] << 24 | (uint32_t)r->data[1] << 16 |
                             (uint32_t)r->data[2] << 8 | r->data[3]);
    if (corr != raw_correlation)
        fail("%s: correlation id %d, expected %d", what, corr, raw_correlation);
    return 0;
}

static uint32_t rd_u(rbuf *r, size_t n, const char *what)
{
    if (r->at + n > r->len)
        fail("%s: response ends early (%zu bytes, needed %zu more at %zu)", what, r->len, n, r->at);
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | r->data[r->at + i];
    r->at += n;
    return v;
}
static int16_t rd_i16(rbuf *r, const char *what)
{
    return (int16_t)rd_u(r, 2, what);
}
static int32_t rd_i32(rbuf *r, const char *what)
{
    return (int32_t)rd_u(r, 4, what);
}
/* A (nullable) string into out; returns its length, -1 for null. */
static int rd_str(rbuf *r, char *out, size_t cap, const char *what)
{
    int16_t n = rd_i16(r, what);
    out[0] = '\0';
    if (n < 0)
        return -1;
    if (r->at + (size_t)n > r->len)
        fail("%s: string of %d bytes runs past the response", what, n);
    snprintf(out, cap, "%.*s", n, (const char *)r->data + r->at);
    r->at += (size_t)n;
    return n;
}

/* The broker must close fd (EOF or reset) with nothing more to read. */
static void expect_eof(int fd, const char *what)
{
    uint8_t b[64];
    ssize_t n = read(fd, b, sizeof(b));
    if (n > 0)
        fail("%s: %zd more bytes instead of the connection closing", what, n);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        fail("%s: connection still open %d s later; the broker must close it", what, RAW_TIMEOUT_S);
    close(fd);
}

/* ApiVersions v0: error 0; returns the max version of `key` (-1 if not listed). */
static int api_versions(int fd, int16_t key, const char *what)
{
    wbuf b;
    rbuf r;
    begin(&b, API_API_VERSIONS, 0);
    send_frame(fd, &b, what);
    if (recv_frame(fd, &r, what) != 0)
        fail("%s: ApiVersions: connection closed instead of an answer", what);
    int16_t err = rd_i16(&r, what);
    if (err != 0)
        fail("%s: ApiVersions error %d, expected 0", what, err);
    int32_t n = rd_i32(&r, what);
    int max = -1;
    for (int32_t i = 0; i < n; i++) {
        int16_t k = rd_i16(&r, what);
        rd_i16(&r, what);
        int16_t hi = rd_i16(&r, what);
        if (k == key)
            max = hi;
    }
    return max;
}

/* SaslHandshake v1 for mech: returns the error code, the enabled list into `mechs`
 * (comma-separated). */
static int sasl_handshake(int fd, const char *mech, char *mechs, size_t cap, const char *what)
{
    wbuf b;
    rbuf r;
    begin(&b, API_SASL_HANDSHAKE, 1);
    put_string(&b, mech);
    send_frame(fd, &b, what);
    if (recv_frame(fd, &r, what) != 0)
        fail("%s: SaslHandshake %s: connection closed instead of an answer", what, mech);
    int16_t err = rd_i16(&r, what);
    int32_t n = rd_i32(&r, what);
    mechs[0] = '\0';
    for (int32_t i = 0; i < n; i++) {
        char m[64];
        rd_str(&r, m, sizeof(m), what);
        snprintf(mechs + strlen(mechs), cap - strlen(mechs), "%s%s", i ? "," : "", m);
    }
    return err;
}

/* Sends SaslAuthenticate v1 with a PLAIN message for user/password (no reply read). */
static void send_plain(int fd, const char *user, const char *password, const char *what)
{
    wbuf b;
    begin(&b, API_SASL_AUTHENTICATE, 1);
    size_t ul = strlen(user), pl = strlen(password);
    put_i32(&b, (int32_t)(1 + ul + 1 + pl));
    put_i8(&b, 0); /* empty authzid */
    put(&b, user, ul);
    put_i8(&b, 0);
    put(&b, password, pl);
    send_frame(fd, &b, what);
}

/* Sends SaslAuthenticate v1 carrying `bytes` (no reply read). */
static void send_auth_bytes(int fd, const char *bytes, const char *what)
{
    wbuf b;
    begin(&b, API_SASL_AUTHENTICATE, 1);
    put_i32(&b, (int32_t)strlen(bytes));
    put(&b, bytes, strlen(bytes));
    send_frame(fd, &b, what);
}

/* Reads a SaslAuthenticate v1 answer: error code, message into msg, and the auth bytes
 * (NUL-terminated, truncated to cap) into `bytes` unless NULL. */
static int sasl_auth_answer(int fd, char *msg, size_t cap, char *bytes, size_t bytes_cap,
                            const char *what)
{
    rbuf r;
    if (recv_frame(fd, &r, what) != 0)
        fail("%s: SaslAuthenticate: connection closed instead of an answer", what);
    int16_t err = rd_i16(&r, what);
    rd_str(&r, msg, cap, what);
    int32_t nbytes = rd_i32(&r, what);
    if (nbytes > 0 && r.at + (size_t)nbytes > r.len)
        fail("%s: auth bytes (%d) run past the response", what, nbytes);
    if (bytes)
        snprintf(bytes, bytes_cap, "%.*s", nbytes > 0 ? nbytes : 0, (const char *)r.data + r.at);
    if (nbytes > 0)
        r.at += (size_t)nbytes;
    (void)rd_u(&r, 4, what); /* session_lifetime_ms, high half */
    (void)rd_u(&r, 4, what);
    return err;
}

static int sasl_auth_result(int fd, char *msg, size_t cap, const char *what)
{
    return sasl_auth_answer(fd, msg, cap, NULL, 0, what);
}

/*
 * A login with the wrong secret over MECH, by hand: PLAIN sends a wrong password; SCRAM
 * does client-first, checks server-first (our nonce extended, a salt, >= 4096
 * iterations), and sends client-final with a proof of zero bytes, which is what a wrong
 * password looks like to the server. The answer must be SASL_AUTHENTICATION_FAILED (58)
 * with a message, then the close. Prints "wire-message MECH <message>".
 */
static void wrong_secret(const char *mech, const char *user)
{
    char what[64], mechs[512], msg[512], first[1024], final[1024];
    snprintf(what, sizeof(what), "wrong secret over %s", mech);
    int fd = connect_loopback(raw_port, RAW_TIMEOUT_S);
    int err = sasl_handshake(fd, mech, mechs, sizeof(mechs), what);
    if (err != 0)
        fail("%s: SaslHandshake error %d (enabled: %s)", what, err, mechs);
    if (strcmp(mech, "PLAIN") == 0) {
        send_plain(fd, user, "definitely-not-the-password", what);
    } else {
        const char *nonce = "rk-sasl-client-nonce-0123456789";
        snprintf(first, sizeof(first), "n,,n=%s,r=%s", user, nonce);
        send_auth_bytes(fd, first, what);
        err = sasl_auth_answer(fd, msg, sizeof(msg), first, sizeof(first), what);
        if (err != 0)
            fail("%s: client-first answered error %d \"%s\", expected server-first", what, err,
                 msg);
        /* server-first: r=<client nonce><server nonce>,s=<salt>,i=<iterations> */
        const char *r = strstr(first, "r="), *sp = strstr(first, ",s="), *ip = strstr(first, ",i=");
        if (first != r || !sp || !ip || strncmp(r + 2, nonce, strlen(nonce)) != 0 ||
            atoi(ip + 3) < 4096)
            fail("%s: server-first \"%s\" is not r=<our nonce>...,s=<salt>,i=<>= 4096>", what,
                 first);
        size_t proof_len = strcmp(mech, "SCRAM-SHA-512") == 0 ? 64 : 32;
        /* base64 of proof_len zero bytes: "AAAA" per 3 bytes, padded */
        char proof[128] = "";
        for (size_t i = 0; i < proof_len / 3; i++)
            strcat(proof, "AAAA");
        strcat(proof, proof_len % 3 == 2 ? "AAA=" : "AA==");
        snprintf(final, sizeof(final), "c=biws,r=%.*s,p=%s", (int)(sp - (r + 2)), r + 2, proof);
        send_auth_bytes(fd, final, what);
    }
    err = sasl_auth_result(fd, msg, sizeof(msg), what);
    if (err != ERR_SASL_AUTHENTICATION_FAILED)
        fail("%s: error %d \"%s\", expected SASL_AUTHENTICATION_FAILED (58)", what, err, msg);
    if (strlen(msg) < 10)
        fail("%s: error 58 with message \"%s\"; the client must be told what failed", what, msg);
    expect_eof(fd, what);
    printf("wire-message %s %s\n", mech, msg);
    printf("ok: %s: SASL_AUTHENTICATION_FAILED (58) \"%s\", connection closed\n", what, msg);
}

/* Metadata v1 for one topic; returns the topic's error code (the answer must list the
 * topic), -2 if the connection closed instead. Fills *brokers with the broker count and
 * *port with the first broker's port (-1 if none). */
static int metadata_v1(int fd, const char *topic, int *brokers, int *port, const char *what)
{
    wbuf b;
    rbuf r;
    char s[256];
    begin(&b, API_METADATA, 1);
    put_i32(&b, 1);
    put_string(&b, topic);
    send_frame(fd, &b, what);
    *port = -1;
    if (recv_frame(fd, &r, what) != 0)
        return -2;
    int32_t nb = rd_i32(&r, what);
    for (int32_t i = 0; i < nb; i++) {
        rd_i32(&r, what);
        rd_str(&r, s, sizeof(s), what);
        int32_t p = rd_i32(&r, what);
        if (i == 0)
            *port = p;
        rd_str(&r, s, sizeof(s), what);
    }
    *brokers = nb;
    rd_i32(&r, what); /* controller id */
    int32_t nt = rd_i32(&r, what);
    if (nt != 1)
        fail("%s: Metadata answer lists %d topics, expected the 1 asked for", what, nt);
    int16_t err = rd_i16(&r, what);
    rd_str(&r, s, sizeof(s), what);
    if (strcmp(s, topic) != 0)
        fail("%s: Metadata answer is about topic \"%s\", expected \"%s\"", what, s, topic);
    return err;
}

static int local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

static int cmd_raw(char **argv)
{
    raw_port = atoi(argv[0]);
    const char *user = argv[1], *password = argv[2];
    char mechs[512], msg[512];
    int brokers = 0, advertised = -1;

    /* Metadata first thing on a SASL listener. Kafka closes such a connection without
     * an answer (most responses have no place for a top-level error); an answer, if one
     * comes, must be ILLEGAL_SASL_STATE and disclose nothing. Either way: closed. */
    int fd = connect_loopback(raw_port, RAW_TIMEOUT_S);
    printf("bad-connection metadata-before-auth 127.0.0.1:%d\n", local_port(fd));
    int err = metadata_v1(fd, "acme.t", &brokers, &advertised, "metadata-before-auth");
    if (err != -2 && err != ERR_ILLEGAL_SASL_STATE)
        fail("metadata-before-auth: answered with topic error %d (with %d brokers listed), "
             "expected ILLEGAL_SASL_STATE (34) or a close",
             err, brokers);
    if (err != -2 && brokers != 0)
        fail("metadata-before-auth: the refusal lists %d brokers; nothing may be disclosed "
             "before authentication",
             brokers);
    if (err != -2)
        expect_eof(fd, "metadata-before-auth");
    else
        close(fd);
    printf("ok: Metadata before authenticating: %s\n",
           err == -2 ? "connection closed without an answer"
                     : "ILLEGAL_SASL_STATE (34), then the connection closed");

    /* SaslAuthenticate before SaslHandshake: ILLEGAL_SASL_STATE in its own answer */
    fd = connect_loopback(raw_port, RAW_TIMEOUT_S);
    printf("bad-connection authenticate-before-handshake 127.0.0.1:%d\n", local_port(fd));
    send_plain(fd, user, password, "authenticate-before-handshake");
    err = sasl_auth_result(fd, msg, sizeof(msg), "authenticate-before-handshake");
    if (err != ERR_ILLEGAL_SASL_STATE)
        fail("SaslAuthenticate before SaslHandshake: error %d \"%s\", expected "
             "ILLEGAL_SASL_STATE (34)",
             err, msg);
    expect_eof(fd, "authenticate-before-handshake");
    printf("ok: SaslAuthenticate before SaslHandshake: ILLEGAL_SASL_STATE (34) \"%s\", "
           "connection closed\n",
           msg);

    /* ApiVersions is allowed before authenticating, and lists the SASL APIs */
    fd = connect_loopback(raw_port, RAW_TIMEOUT_S);
    int hs = api_versions(fd, API_SASL_HANDSHAKE, "apiversions-before-auth");
    close(fd);
    fd = connect_loopback(raw_port, RAW_TIMEOUT_S);
    int au = api_versions(fd, API_SASL_AUTHENTICATE, "apiversions-before-auth");
    if (hs < 1 || au < 1)
        fail("ApiVersions before auth: SaslHandshake max v%d, SaslAuthenticate max v%d; "
             "both must be served at v1 or later",
             hs, au);
    printf("ok: ApiVersions before authenticating: SaslHandshake v%d, SaslAuthenticate v%d\n", hs,
           au);

    /* an unknown mechanism, on the connection that already did ApiVersions */
    err = sasl_handshake(fd, "GSSAPI", mechs, sizeof(mechs), "handshake-gssapi");
    if (err != ERR_UNSUPPORTED_SASL_MECHANISM)
        fail("SaslHandshake GSSAPI: error %d, expected UNSUPPORTED_SASL_MECHANISM (33)", err);
    printf("enabled-mechanisms %s\n", mechs);
    printf("ok: SaslHandshake GSSAPI: UNSUPPORTED_SASL_MECHANISM (33), enabled: %s\n", mechs);
    close(fd);

    wrong_secret("PLAIN", user);
    wrong_secret("SCRAM-SHA-256", user);
    wrong_secret("SCRAM-SHA-512", user);

    /* a whole login by hand: ApiVersions, SaslHandshake v1 PLAIN, SaslAuthenticate v1 */
    fd = connect_loopback(raw_port, RAW_TIMEOUT_S);
    api_versions(fd, API_SASL_HANDSHAKE, "login");
    err = sasl_handshake(fd, "PLAIN", mechs, sizeof(mechs), "login");
    if (err != 0)
        fail("login: SaslHandshake PLAIN: error %d, expected 0 (enabled: %s)", err, mechs);
    send_plain(fd, user, password, "login");
    err = sasl_auth_result(fd, msg, sizeof(msg), "login");
    if (err != 0)
        fail("login: SaslAuthenticate PLAIN as %s: error %d \"%s\", expected 0", user, err, msg);
    err = metadata_v1(fd, "acme.t", &brokers, &advertised, "login");
    if (err == -2)
        fail("login: Metadata after a successful login: connection closed");
    if (brokers < 1)
        fail("login: Metadata after a successful login lists no broker");
    if (advertised != raw_port)
        fail("login: Metadata on the SASL_PLAINTEXT listener (port %d) advertises port %d; "
             "clients must be sent back to the listener they came in on",
             raw_port, advertised);
    close(fd);
    printf("ok: raw PLAIN login as %s, then Metadata answered (%d broker(s) at port %d, "
           "topic error %d)\n",
           user, brokers, advertised, err);
    return 0;
}

static int cmd_delays(char **argv)
{
    raw_port = atoi(argv[0]);
    const char *user = argv[1];
    int attempts = atoi(argv[2]);
    int64_t took[64];
    char msg[512], first_msg[512] = "", mechs[512];
    if (attempts < 3 || attempts > 64)
        fail("delays: ATTEMPTS must be 3..64");

    for (int i = 0; i < attempts; i++) {
        char what[64];
        snprintf(what, sizeof(what), "wrong-password attempt %d", i + 1);
        int fd = connect_loopback(raw_port, RAW_TIMEOUT_S);
        int err = sasl_handshake(fd, "PLAIN", mechs, sizeof(mechs), what);
        if (err != 0)
            fail("%s: SaslHandshake PLAIN error %d", what, err);
        int64_t t0 = rk_now_ms();
        send_plain(fd, user, "definitely-not-the-password", what);
        /* From the third attempt on the answer is held long enough to check the broker
         * is not stalled meanwhile: ApiVersions on another connection answers first. */
        int64_t other_ms = -1;
        if (i >= 2) {
            int32_t pending = raw_correlation; /* the held answer's correlation id */
            int fd2 = connect_loopback(raw_port, RAW_TIMEOUT_S);
            api_versions(fd2, API_SASL_HANDSHAKE, "concurrent ApiVersions");
            other_ms = rk_now_ms() - t0;
            close(fd2);
            raw_correlation = pending;
        }
        err = sasl_auth_result(fd, msg, sizeof(msg), what);
        took[i] = rk_now_ms() - t0;
        if (err != ERR_SASL_AUTHENTICATION_FAILED)
            fail("%s: SaslAuthenticate error %d \"%s\", expected SASL_AUTHENTICATION_FAILED (58)",
                 what, err, msg);
        if (msg[0] == '\0')
            fail("%s: error 58 without an error message", what);
        if (i == 0)
            snprintf(first_msg, sizeof(first_msg), "%s", msg);
        printf("attempt %d 127.0.0.1:%d %lld ms error %d \"%s\"", i + 1, local_port(fd),
               (long long)took[i], err, msg);
        if (other_ms >= 0)
            printf(" (ApiVersions on another connection answered after %lld ms)",
                   (long long)other_ms);
        printf("\n");
        fflush(stdout);
        if (other_ms >= 0 && other_ms >= took[i])
            fail("%s: ApiVersions on another connection took %lld ms, longer than the held "
                 "failure (%lld ms): the delay blocks the broker",
                 what, (long long)other_ms, (long long)took[i]);
        expect_eof(fd, what);
    }
    for (int i = 1; i < attempts; i++)
        if (took[i] <= took[i - 1])
            fail("failure %d was answered after %lld ms, failure %d after %lld ms: the delay "
                 "must grow with consecutive failures",
                 i + 1, (long long)took[i], i, (long long)took[i - 1]);
    if (took[attempts - 1] < 2 * took[0])
        fail("the last failure took %lld ms, not even twice the first (%lld ms)",
             (long long)took[attempts - 1], (long long)took[0]);
    printf("ok: %d consecutive failures, answers held longer each time (%lld ms → %lld ms)\n",
           attempts, (long long)took[0], (long long)took[attempts - 1]);

    /* an unknown user looks exactly like a wrong password */
    int fd = connect_loopback(raw_port, RAW_TIMEOUT_S);
    if (sasl_handshake(fd, "PLAIN", mechs, sizeof(mechs), "unknown-user") != 0)
        fail("unknown-user: SaslHandshake PLAIN refused");
    send_plain(fd, "no-such-user-xyz", "whatever", "unknown-user");
    int err = sasl_auth_result(fd, msg, sizeof(msg), "unknown-user");
    if (err != ERR_SASL_AUTHENTICATION_FAILED || strcmp(msg, first_msg) != 0)
        fail("unknown user: error %d \"%s\"; expected 58 with the wrong-password message \"%s\"",
             err, msg, first_msg);
    expect_eof(fd, "unknown-user");
    printf("ok: an unknown user gets the same error 58 and message as a wrong password\n");

    /* A client that hangs up while its failure answer is held (the delay is seconds by
     * now): the held answer must be dropped with the connection, and the broker go on.
     * (It once freed the held request and then read it: a crash under ASan.) */
    fd = connect_loopback(raw_port, RAW_TIMEOUT_S);
    if (sasl_handshake(fd, "PLAIN", mechs, sizeof(mechs), "hang-up") != 0)
        fail("hang-up: SaslHandshake PLAIN refused");
    send_plain(fd, user, "definitely-not-the-password", "hang-up");
    /* An answer on a connection opened after ours was sent: the loop has been round,
     * so the broker has read the authentication and holds its failure answer. */
    int32_t pending = raw_correlation;
    int fd2 = connect_loopback(raw_port, RAW_TIMEOUT_S);
    api_versions(fd2, API_SASL_HANDSHAKE, "ApiVersions while the failure is held");
    close(fd2);
    raw_correlation = pending;
    close(fd);
    fd = connect_loopback(raw_port, RAW_TIMEOUT_S);
    api_versions(fd, API_SASL_HANDSHAKE, "ApiVersions after a client hung up mid-delay");
    close(fd);
    printf("ok: a client hanging up while its failure answer is held leaves the broker "
           "serving\n");
    return 0;
}

static int cmd_mgmt(char **argv)
{
    json_error_t jerr;
    char err[1024];
    json_t *args = json_loads(argv[3], 0, &jerr);
    if (!args)
        fail("mgmt: JSON_ARGS is not JSON: %s", jerr.text);
    json_t *res = st_mgmt_call(argv[0], argv[1], argv[2], args, 10000, err, sizeof(err));
    json_decref(args);
    if (!res) {
        fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, argv[2], err);
        return 1;
    }
    char *text = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
    printf("%s\n", text ? text : "null");
    free(text);
    json_decref(res);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "roundtrip") == 0 && argc == 10)
        return cmd_roundtrip(argv + 2);
    if (strcmp(mode, "badauth") == 0 && argc == 8)
        return cmd_badauth(argv + 2);
    if (strcmp(mode, "raw") == 0 && argc == 5)
        return cmd_raw(argv + 2);
    if (strcmp(mode, "delays") == 0 && argc == 5)
        return cmd_delays(argv + 2);
    if (strcmp(mode, "mgmt") == 0 && argc == 6)
        return cmd_mgmt(argv + 2);
    fprintf(stderr,
            "usage: rk_sasl roundtrip BOOTSTRAP PROTOCOL MECH USER PASSWORD CA TOPIC COUNT\n"
            "       rk_sasl badauth BOOTSTRAP PROTOCOL MECH USER PASSWORD CA\n"
            "       rk_sasl raw PORT USER PASSWORD\n"
            "       rk_sasl delays PORT USER ATTEMPTS\n"
            "       rk_sasl mgmt URL TOKEN CMD JSON_ARGS\n");
    return 2;
}
