/*
 * rk_client_quotas BOOTSTRAP denied     (host:port of a PLAINTEXT listener)
 * rk_client_quotas BOOTSTRAP api
 *
 * DescribeClientQuotas (48) and AlterClientQuotas (49), v0, not flexible, built by hand:
 * librdkafka 2.0.2 has no client-quota admin API. Checks:
 *
 *   denied: (the caller, User:ANONYMOUS, has no ACL on the cluster) Describe →
 *     CLUSTER_AUTHORIZATION_FAILED (31) with a message naming DESCRIBE_CONFIGS; Alter → 31
 *     for every entry, naming ALTER_CONFIGS, and nothing stored.
 *   api: (ALTER_CONFIGS on the cluster, which implies DESCRIBE_CONFIGS)
 *     Alter [user rk-user: producer_byte_rate 1048576 + consumer_byte_rate 2000000;
 *            (default user, client-id rk-client): request_percentage 25;
 *            tenant rk-tenant: partitions 7;
 *            user rk-bad: producer_byte_rate 5 + bogus_key 1;
 *            ip 1.2.3.4: producer_byte_rate 1]
 *       → ok, ok, ok, INVALID_REQUEST naming bogus_key, INVALID_REQUEST naming the type;
 *         each entity echoed back (null name for the default)
 *     Alter validate_only [user rk-validate: producer_byte_rate 1] → ok, not stored
 *     Describe: no filter → rk-user, (default, rk-client), rk-tenant, and neither rk-bad
 *       (its good op was not applied: all or nothing) nor rk-validate; user exact rk-user
 *       strict → that entity alone with exactly its two values; user default non-strict →
 *       (default, rk-client) and nothing with a named user; strict → nothing with a
 *       client-id; client-id any → only entities with a client-id; tenant exact
 *       rk-tenant → partitions 7
 *     Describe refusals → INVALID_REQUEST with a message: exact without a name, default
 *       with a name, unknown type, tenant combined with user, a type twice
 *     Alter remove rk-user consumer_byte_rate → only producer_byte_rate is left
 * The caller (test_quotas_cli.sh) then reads rk-user back with `strait quotas describe`.
 */
#include <math.h>
#include <stdbool.h>
#include <unistd.h>

#include "tests/integration/raw_util.h"

#define API_DESCRIBE_CLIENT_QUOTAS 48
#define API_ALTER_CLIENT_QUOTAS    49
#define READ_TIMEOUT_S             10

#define ERR_CLUSTER_AUTHORIZATION_FAILED 31
#define ERR_INVALID_REQUEST              42

static int correlation_id = 700;

/* ---- writing ---- */

static void put_nstring(wbuf *b, const char *s)
{
    if (s)
        put_string(b, s);
    else
        put_i16(b, -1);
}

static void put_f64(wbuf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_i64(b, (int64_t)bits);
}

/* Starts a frame: size placeholder + request header v1. */
static void begin_request(wbuf *b, int16_t key)
{
    b->len = 0;
    put_i32(b, 0);
    put_i16(b, key);
    put_i16(b, 0);
    put_i32(b, ++correlation_id);
    put_string(b, "rk_client_quotas");
}

/* ---- reading ---- */

static double get_f64(raw_rd *r)
{
    uint64_t hi = (uint32_t)raw_i32(r), lo = (uint32_t)raw_i32(r);
    uint64_t bits = hi << 32 | lo;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}
/* Sends the frame, reads the answer into buf, checks the response header v0 and the
 * throttle time; the returned cursor is at the rest of the body. */
static raw_rd exchange(int fd, wbuf *b, uint8_t *buf, size_t cap, const char *what)
{
    raw_rd r = raw_exchange(fd, b, correlation_id, buf, cap, what);
    int32_t throttle = raw_i32(&r);
    if (throttle < 0)
        fail("%s: throttle_time_ms %d", what, throttle);
    return r;
}

/* ---- the two APIs ---- */

#define MAX_PARTS   3
#define MAX_VALUES  8
#define MAX_ENTRIES 64
#define MSG_CAP     512

typedef struct entity {
    int nparts;
    char type[MAX_PARTS][32];
    char name[MAX_PARTS][128];
    bool is_default[MAX_PARTS];
} entity;

typedef struct entry {
    entity e;
    int nvalues;
    char key[MAX_VALUES][64];
    double value[MAX_VALUES];
} entry;

typedef struct describe_result {
    int16_t err;
    char msg[MSG_CAP];
    bool null_entries;
    int n;
    entry items[MAX_ENTRIES];
} describe_result;

typedef struct component {
    const char *type;
    int8_t match_type; /* 0 exact, 1 default, 2 any */
    const char *match;
} component;

static void read_entity(raw_rd *r, entity *e)
{
    e->nparts = raw_i32(r);
    if (e->nparts < 0 || e->nparts > MAX_PARTS)
        fail("%s: entity of %d parts", r->what, e->nparts);
    for (int k = 0; k < e->nparts; k++) {
        if (!raw_string(r, e->type[k], sizeof e->type[k]))
            fail("%s: null entity type", r->what);
        e->is_default[k] = !raw_string(r, e->name[k], sizeof e->name[k]);
    }
}

static void describe(int fd, const component *c, int n, bool strict, describe_result *res)
{
    static uint8_t buf[1 << 20];
    wbuf b;
    begin_request(&b, API_DESCRIBE_CLIENT_QUOTAS);
    put_i32(&b, n);
    for (int i = 0; i < n; i++) {
        put_string(&b, c[i].type);
        put_i8(&b, c[i].match_type);
        put_nstring(&b, c[i].match);
    }
    put_i8(&b, strict ? 1 : 0);
    raw_rd r = exchange(fd, &b, buf, sizeof buf, "DescribeClientQuotas");
    memset(res, 0, sizeof(*res));
    res->err = raw_i16(&r);
    raw_string(&r, res->msg, sizeof res->msg);
    int32_t entries = raw_i32(&r);
    res->null_entries = entries < 0;
    if (entries > MAX_ENTRIES)
        fail("DescribeClientQuotas: %d entries, more than this test expects", entries);
    for (int i = 0; i < entries; i++) {
        entry *x = &res->items[res->n++];
        read_entity(&r, &x->e);
        x->nvalues = raw_i32(&r);
        if (x->nvalues < 0 || x->nvalues > MAX_VALUES)
            fail("DescribeClientQuotas: %d values", x->nvalues);
        for (int k = 0; k < x->nvalues; k++) {
            raw_string(&r, x->key[k], sizeof x->key[k]);
            x->value[k] = get_f64(&r);
        }
    }
    if (r.p != r.end)
        fail("DescribeClientQuotas: %zu bytes left over", (size_t)(r.end - r.p));
}

/* An Alter entry to send: parts (type, name or NULL for the default) and ops. */
typedef struct op {
    const char *key;
    double value;
    bool remove;
} op;

typedef struct alter_entry {
    int nparts;
    const char *type[MAX_PARTS];
    const char *name[MAX_PARTS];
    int nops;
    op ops[4];
} alter_entry;

typedef struct alter_result {
    int16_t err;
    char msg[MSG_CAP];
    entity e;
} alter_result;

static void alter(int fd, const alter_entry *a, int n, bool validate_only, alter_result *out)
{
    static uint8_t buf[1 << 16];
    wbuf b;
    begin_request(&b, API_ALTER_CLIENT_QUOTAS);
    put_i32(&b, n);
    for (int i = 0; i < n; i++) {
        put_i32(&b, a[i].nparts);
        for (int k = 0; k < a[i].nparts; k++) {
            put_string(&b, a[i].type[k]);
            put_nstring(&b, a[i].name[k]);
        }
        put_i32(&b, a[i].nops);
        for (int k = 0; k < a[i].nops; k++) {
            put_nstring(&b, a[i].ops[k].key); /* NULL: a null key (malformed) */
            put_f64(&b, a[i].ops[k].value);
            put_i8(&b, a[i].ops[k].remove ? 1 : 0);
        }
    }
    put_i8(&b, validate_only ? 1 : 0);
    raw_rd r = exchange(fd, &b, buf, sizeof buf, "AlterClientQuotas");
    int32_t got = raw_i32(&r);
    if (got != n)
        fail("AlterClientQuotas: %d entries answered, expected %d", got, n);
    for (int i = 0; i < n; i++) {
        out[i].err = raw_i16(&r);
        raw_string(&r, out[i].msg, sizeof out[i].msg);
        read_entity(&r, &out[i].e);
        /* the entity comes back as it was sent */
        if (out[i].e.nparts != a[i].nparts)
            fail("AlterClientQuotas: entry %d echoed with %d parts, sent %d", i, out[i].e.nparts,
                 a[i].nparts);
        for (int k = 0; k < a[i].nparts; k++)
            if (strcmp(out[i].e.type[k], a[i].type[k]) != 0 ||
                out[i].e.is_default[k] != (a[i].name[k] == NULL) ||
                (a[i].name[k] && strcmp(out[i].e.name[k], a[i].name[k]) != 0))
                fail("AlterClientQuotas: entry %d part %d echoed as %s=%s", i, k, out[i].e.type[k],
                     out[i].e.is_default[k] ? "(default)" : out[i].e.name[k]);
    }
    if (r.p != r.end)
        fail("AlterClientQuotas: %zu bytes left over", (size_t)(r.end - r.p));
}

/* ---- checks ---- */

/* The name of `type` in entity e: NULL when absent, "" for the default. */
static const char *part(const entity *e, const char *type)
{
    for (int k = 0; k < e->nparts; k++)
        if (strcmp(e->type[k], type) == 0)
            return e->is_default[k] ? "" : e->name[k];
    return NULL;
}

/* The entry whose entity is exactly {user, client-id, tenant} ("" default, NULL absent). */
static const entry *find(const describe_result *res, const char *user, const char *client,
                         const char *tenant)
{
    for (int i = 0; i < res->n; i++) {
        const entity *e = &res->items[i].e;
        const char *want[] = {user, client, tenant}, *types[] = {"user", "client-id", "tenant"};
        bool same = true;
        for (int t = 0; t < 3 && same; t++) {
            const char *got = part(e, types[t]);
            same = (got == NULL) == (want[t] == NULL) && (!got || strcmp(got, want[t]) == 0);
        }
        if (same)
            return &res->items[i];
    }
    return NULL;
}

static bool value_of(const entry *x, const char *key, double *v)
{
    for (int k = 0; x && k < x->nvalues; k++)
        if (strcmp(x->key[k], key) == 0) {
            *v = x->value[k];
            return true;
        }
    return false;
}

static void expect_value(const entry *x, const char *what, const char *key, double want)
{
    double v;
    if (!x)
        fail("%s: entity not described", what);
    if (!value_of(x, key, &v))
        fail("%s: no %s", what, key);
    if (fabs(v - want) > 1e-9)
        fail("%s: %s = %g, expected %g", what, key, v, want);
}

static void expect_refused(int fd, const component *c, int n, bool strict, const char *pattern,
                           const char *what)
{
    describe_result res;
    describe(fd, c, n, strict, &res);
    if (res.err != ERR_INVALID_REQUEST)
        fail("%s: error %d, expected INVALID_REQUEST (42)", what, res.err);
    if (!strstr(res.msg, pattern))
        fail("%s: message \"%s\" does not mention \"%s\"", what, res.msg, pattern);
    if (!res.null_entries)
        fail("%s: entries should be null on an error", what);
    printf("%s: refused: %s\n", what, res.msg);
}

static void run_denied(int fd)
{
    describe_result res;
    describe(fd, NULL, 0, false, &res);
    if (res.err != ERR_CLUSTER_AUTHORIZATION_FAILED || !strstr(res.msg, "DESCRIBE_CONFIGS"))
        fail("denied Describe: error %d \"%s\", expected 31 naming DESCRIBE_CONFIGS", res.err,
             res.msg);
    printf("denied Describe: %s\n", res.msg);
    alter_entry a = {1, {"user"}, {"rk-denied"}, 1, {{"producer_byte_rate", 100, false}}};
    alter_result out;
    alter(fd, &a, 1, false, &out);
    if (out.err != ERR_CLUSTER_AUTHORIZATION_FAILED || !strstr(out.msg, "ALTER_CONFIGS"))
        fail("denied Alter: error %d \"%s\", expected 31 naming ALTER_CONFIGS", out.err, out.msg);
    printf("denied Alter: %s\n", out.msg);
}

static void run_api(int fd)
{
    const alter_entry set[] = {
        {1,
         {"user"},
         {"rk-user"},
         2,
         {{"producer_byte_rate", 1048576, false}, {"consumer_byte_rate", 2000000, false}}},
        {2, {"user", "client-id"}, {NULL, "rk-client"}, 1, {{"request_percentage", 25, false}}},
        {1, {"tenant"}, {"rk-tenant"}, 1, {{"partitions", 7, false}}},
        {1, {"user"}, {"rk-bad"}, 2, {{"producer_byte_rate", 5, false}, {"bogus_key", 1, false}}},
        {1, {"ip"}, {"1.2.3.4"}, 1, {{"producer_byte_rate", 1, false}}},
    };
    alter_result out[5];
    alter(fd, set, 5, false, out);
    for (int i = 0; i < 3; i++)
        if (out[i].err != 0)
            fail("Alter entry %d: error %d \"%s\"", i, out[i].err, out[i].msg);
    if (out[3].err != ERR_INVALID_REQUEST || !strstr(out[3].msg, "bogus_key"))
        fail("Alter with an unknown key: error %d \"%s\", expected 42 naming bogus_key", out[3].err,
             out[3].msg);
    if (out[4].err != ERR_INVALID_REQUEST || !strstr(out[4].msg, "ip"))
        fail("Alter with entity type ip: error %d \"%s\", expected 42 naming it", out[4].err,
             out[4].msg);
    printf("Alter: 3 entries set; unknown key refused: %s; ip refused: %s\n", out[3].msg,
           out[4].msg);

    const alter_entry validate = {
        1, {"user"}, {"rk-validate"}, 1, {{"producer_byte_rate", 1, false}}};
    alter(fd, &validate, 1, true, out);
    if (out[0].err != 0)
        fail("Alter validate_only: error %d \"%s\"", out[0].err, out[0].msg);

    describe_result all, res;
    describe(fd, NULL, 0, false, &all);
    if (all.err != 0)
        fail("Describe all: error %d \"%s\"", all.err, all.msg);
    expect_value(find(&all, "rk-user", NULL, NULL), "Describe all: rk-user", "producer_byte_rate",
                 1048576);
    expect_value(find(&all, "rk-user", NULL, NULL), "Describe all: rk-user", "consumer_byte_rate",
                 2000000);
    expect_value(find(&all, "", "rk-client", NULL), "Describe all: (default, rk-client)",
                 "request_percentage", 25);
    expect_value(find(&all, NULL, NULL, "rk-tenant"), "Describe all: rk-tenant", "partitions", 7);
    if (find(&all, "rk-bad", NULL, NULL))
        fail("rk-bad was stored although one of its ops was refused (not all-or-nothing)");
    if (find(&all, "rk-validate", NULL, NULL))
        fail("rk-validate was stored by a validate_only request");
    printf("Describe all: %d entities, rk-bad and rk-validate absent\n", all.n);

    const component exact[] = {{"user", 0, "rk-user"}};
    describe(fd, exact, 1, true, &res);
    if (res.err != 0 || res.n != 1 || res.items[0].nvalues != 2)
        fail("Describe user=rk-user strict: error %d, %d entities (%d values), expected 1 (2)",
             res.err, res.n, res.n ? res.items[0].nvalues : 0);
    expect_value(find(&res, "rk-user", NULL, NULL), "Describe user=rk-user", "producer_byte_rate",
                 1048576);

    const component dflt[] = {{"user", 1, NULL}};
    describe(fd, dflt, 1, false, &res);
    if (res.err != 0 || !find(&res, "", "rk-client", NULL))
        fail("Describe default user: error %d, (default, rk-client) not among %d", res.err, res.n);
    for (int i = 0; i < res.n; i++) {
        const char *u = part(&res.items[i].e, "user");
        if (!u || *u)
            fail("Describe default user: an entity with user %s", u ? u : "(none)");
    }
    describe(fd, dflt, 1, true, &res);
    for (int i = 0; i < res.n; i++)
        if (part(&res.items[i].e, "client-id"))
            fail("Describe default user strict: an entity with a client-id");

    const component any_client[] = {{"client-id", 2, NULL}};
    describe(fd, any_client, 1, false, &res);
    if (res.err != 0 || !find(&res, "", "rk-client", NULL))
        fail("Describe any client-id: error %d, (default, rk-client) missing", res.err);
    for (int i = 0; i < res.n; i++)
        if (!part(&res.items[i].e, "client-id"))
            fail("Describe any client-id: an entity without a client-id");

    const component tenant[] = {{"tenant", 0, "rk-tenant"}};
    describe(fd, tenant, 1, false, &res);
    if (res.err != 0 || res.n != 1)
        fail("Describe tenant=rk-tenant: error %d, %d entities, expected 1", res.err, res.n);
    expect_value(&res.items[0], "Describe tenant=rk-tenant", "partitions", 7);
    printf("Describe filters: exact, default (strict and not), any, tenant: ok\n");

    const component exact_null[] = {{"user", 0, NULL}};
    expect_refused(fd, exact_null, 1, false, "needs a name", "exact without a name");
    const component default_named[] = {{"user", 1, "x"}};
    expect_refused(fd, default_named, 1, false, "takes no match", "default with a name");
    const component unknown[] = {{"ip", 2, NULL}};
    expect_refused(fd, unknown, 1, false, "\"ip\"", "unknown entity type");
    const component mixed[] = {{"tenant", 2, NULL}, {"user", 2, NULL}};
    expect_refused(fd, mixed, 2, false, "cannot be combined", "tenant with user");
    const component twice[] = {{"user", 2, NULL}, {"user", 1, NULL}};
    expect_refused(fd, twice, 2, false, "twice", "a type twice");

    const alter_entry remove = {1, {"user"}, {"rk-user"}, 1, {{"consumer_byte_rate", 0, true}}};
    alter(fd, &remove, 1, false, out);
    if (out[0].err != 0)
        fail("Alter remove: error %d \"%s\"", out[0].err, out[0].msg);
    describe(fd, exact, 1, true, &res);
    double v;
    if (res.n != 1 || res.items[0].nvalues != 1 ||
        value_of(&res.items[0], "consumer_byte_rate", &v))
        fail("after removing consumer_byte_rate, rk-user has %d values",
             res.n ? res.items[0].nvalues : -1);
    expect_value(&res.items[0], "rk-user after remove", "producer_byte_rate", 1048576);
    printf("Alter remove: ok\n");
}

/* A null quota key (not nullable in AlterClientQuotasRequest.json) once crashed the
 * broker's duplicate-key check: now the request is malformed, that connection is closed
 * without an answer, and the broker goes on serving. */
static void run_malformed(int port)
{
    int fd = connect_loopback(port, READ_TIMEOUT_S);
    wbuf b;
    begin_request(&b, API_ALTER_CLIENT_QUOTAS);
    put_i32(&b, 1);
    put_i32(&b, 1);
    put_string(&b, "user");
    put_string(&b, "rk-null-key");
    put_i32(&b, 2);
    put_string(&b, "producer_byte_rate");
    put_f64(&b, 1000);
    put_i8(&b, 0);
    put_i16(&b, -1); /* the null key */
    put_f64(&b, 1000);
    put_i8(&b, 0);
    put_i8(&b, 0); /* validate_only */
    patch_i32(&b, 0, (int32_t)(b.len - 4));
    send_all(fd, b.data, b.len, "AlterClientQuotas with a null key");
    uint8_t byte;
    ssize_t n = recv(fd, &byte, 1, 0);
    if (n != 0)
        fail("AlterClientQuotas with a null key: expected the connection closed without an "
             "answer, recv returned %zd",
             n);
    close(fd);
    fd = connect_loopback(port, READ_TIMEOUT_S);
    describe_result res;
    describe(fd, NULL, 0, false, &res);
    if (res.err != 0)
        fail("Describe after the malformed request: error %d \"%s\"", res.err, res.msg);
    if (find(&res, "rk-null-key", NULL, NULL))
        fail("the malformed request stored a quota for rk-null-key");
    close(fd);
    printf("malformed Alter (null key): connection closed, nothing stored, broker serving\n");
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "denied") != 0 && strcmp(argv[2], "api") != 0 &&
                      strcmp(argv[2], "malformed") != 0))
        fail("usage: rk_client_quotas HOST:PORT denied|api|malformed");
    const char *colon = strrchr(argv[1], ':');
    if (!colon)
        fail("bootstrap \"%s\" is not host:port", argv[1]);
    if (strcmp(argv[2], "malformed") == 0) {
        run_malformed(atoi(colon + 1));
        printf("rk_client_quotas malformed: PASS\n");
        return 0;
    }
    int fd = connect_loopback(atoi(colon + 1), READ_TIMEOUT_S);
    if (strcmp(argv[2], "denied") == 0)
        run_denied(fd);
    else
        run_api(fd);
    close(fd);
    printf("rk_client_quotas %s: PASS\n", argv[2]);
    return 0;
}
