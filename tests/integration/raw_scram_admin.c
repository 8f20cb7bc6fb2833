/*
 * raw_scram_admin BOOTSTRAP [DATA_DIR]      (host:port of a PLAINTEXT listener)
 * raw_scram_admin BOOTSTRAP - denied
 * raw_scram_admin BOOTSTRAP - acls
 *
 * AlterUserScramCredentials (51) and DescribeUserScramCredentials (50), v0, flexible,
 * built by hand (no client library here speaks them): the request header v2 with its
 * tagged fields, compact strings and arrays. SaltedPassword is computed as a real client
 * does, PBKDF2-HMAC (OpenSSL) over the password and salt. Checks:
 *
 *   upsert alice SCRAM-SHA-256 (4096 iterations) and SCRAM-SHA-512 (8192) in one request
 *     → alice ok; Describe [alice, nobody] → alice has exactly those two (mechanism and
 *     iterations only), nobody RESOURCE_NOT_FOUND; Describe null → alice listed
 *   with DATA_DIR: <DATA_DIR>/meta/credentials.json names alice and holds neither the
 *     password nor SaltedPassword (base64)
 *   refusals, each for its own user: 1000 iterations → UNACCEPTABLE_CREDENTIAL (93);
 *     mechanism 3 → UNSUPPORTED_SASL_MECHANISM (33); the same user and mechanism twice →
 *     DUPLICATE_RESOURCE (92); deleting a credential nobody has → RESOURCE_NOT_FOUND
 *     (91); a user with one good and one bad change → the error, and neither applied
 *   delete alice's SHA-256 → only SHA-512 left; delete SHA-512 → alice not found
 *   denied: (no ALTER/DESCRIBE on the cluster) Alter → CLUSTER_AUTHORIZATION_FAILED for
 *     the user, Describe → CLUSTER_AUTHORIZATION_FAILED for the request; DescribeAcls v0
 *     and v1 → CLUSTER_AUTHORIZATION_FAILED with a message (librdkafka drops that
 *     response-level code, so it is checked here)
 *   acls: (after rk_acls setup: TOPIC LITERAL "orders" READ and TOPIC PREFIXED "acme."
 *     WRITE, both User:alice) DescribeAcls v0 with an all-ANY filter → only "orders" (v0
 *     has no pattern type: its filter is LITERAL); v1 → both, with their pattern types
 */
#include <openssl/evp.h>
#include <stdbool.h>
#include <unistd.h>

#include "tests/integration/raw_util.h"

#define API_DESCRIBE_SCRAM 50
#define API_ALTER_SCRAM    51
#define READ_TIMEOUT_S     10
#define MECH_SHA_256       1
#define MECH_SHA_512       2

#define ERR_CLUSTER_AUTHORIZATION_FAILED 31
#define ERR_UNSUPPORTED_SASL_MECHANISM   33
#define ERR_RESOURCE_NOT_FOUND           91
#define ERR_DUPLICATE_RESOURCE           92
#define ERR_UNACCEPTABLE_CREDENTIAL      93

#define PASSWORD "alice-secret-pw"

static int correlation_id = 500;

/* ---- writing: compact forms ---- */

static void put_uvarint(wbuf *b, uint32_t v)
{
    while (v >= 0x80) {
        put_i8(b, (int8_t)((v & 0x7f) | 0x80));
        v >>= 7;
    }
    put_i8(b, (int8_t)v);
}
static void put_compact_string(wbuf *b, const char *s)
{
    put_uvarint(b, (uint32_t)strlen(s) + 1);
    put(b, s, strlen(s));
}
static void put_compact_bytes(wbuf *b, const uint8_t *p, size_t n)
{
    put_uvarint(b, (uint32_t)n + 1);
    put(b, p, n);
}
static void put_no_tags(wbuf *b)
{
    put_uvarint(b, 0);
}

/* Starts a frame: size placeholder + request header v2 (client id is a plain nullable
 * string even here, then a tagged-field block). */
static void begin_request(wbuf *b, int16_t key)
{
    b->len = 0;
    put_i32(b, 0);
    put_i16(b, key);
    put_i16(b, 0);
    put_i32(b, ++correlation_id);
    put_string(b, "raw_scram_admin");
    put_no_tags(b);
}

/* ---- reading ---- */

/* Sends the frame, reads the answer into buf, checks the response header v1
 * (correlation id + tags); returns a reader over the body. */
static raw_rd exchange(int fd, wbuf *b, uint8_t *buf, size_t cap, const char *what)
{
    raw_rd r = raw_exchange(fd, b, correlation_id, buf, cap, what);
    raw_skip_tags(&r);
    return r;
}

/* ---- AlterUserScramCredentials ---- */

typedef struct change {
    const char *user;
    int8_t mechanism;
    int32_t iterations; /* 0: a deletion */
} change;

typedef struct user_result {
    char user[64];
    int16_t err;
    char msg[512];
} user_result;

/* SaltedPassword as a client computes it: PBKDF2-HMAC over PASSWORD. */
static size_t salted_password(int8_t mechanism, const uint8_t *salt, size_t salt_len,
                              int iterations, uint8_t *out)
{
    const EVP_MD *md = mechanism == MECH_SHA_512 ? EVP_sha512() : EVP_sha256();
    size_t n = mechanism == MECH_SHA_512 ? 64 : 32;
    if (!PKCS5_PBKDF2_HMAC(PASSWORD, (int)strlen(PASSWORD), salt, (int)salt_len,
                           iterations < 1 ? 1 : iterations, md, (int)n, out))
        fail("PKCS5_PBKDF2_HMAC failed");
    return n;
}

/* The salt of a test credential: fixed, 24 bytes, different per mechanism. */
static void test_salt(int8_t mechanism, uint8_t salt[24])
{
    for (int i = 0; i < 24; i++)
        salt[i] = (uint8_t)(0x40 + i * 3 + mechanism);
}

/* Sends one request with the changes (deletions where iterations is 0); fills results
 * (sorted as the broker sent them); returns their count. */
static size_t alter(int fd, const change *changes, size_t n, user_result *results, size_t cap,
                    const char *what)
{
    wbuf b;
    uint8_t buf[8192];
    begin_request(&b, API_ALTER_SCRAM);
    size_t ndel = 0;
    for (size_t i = 0; i < n; i++)
        ndel += changes[i].iterations == 0;
    put_uvarint(&b, (uint32_t)ndel + 1);
    for (size_t i = 0; i < n; i++)
        if (changes[i].iterations == 0) {
            put_compact_string(&b, changes[i].user);
            put_i8(&b, changes[i].mechanism);
            put_no_tags(&b);
        }
    put_uvarint(&b, (uint32_t)(n - ndel) + 1);
    for (size_t i = 0; i < n; i++)
        if (changes[i].iterations != 0) {
            uint8_t salt[24], salted[64];
            test_salt(changes[i].mechanism, salt);
            size_t len = salted_password(changes[i].mechanism, salt, sizeof(salt),
                                         changes[i].iterations, salted);
            put_compact_string(&b, changes[i].user);
            put_i8(&b, changes[i].mechanism);
            put_i32(&b, changes[i].iterations);
            put_compact_bytes(&b, salt, sizeof(salt));
            put_compact_bytes(&b, salted, len);
            put_no_tags(&b);
        }
    put_no_tags(&b);
    raw_rd r = exchange(fd, &b, buf, sizeof(buf), what);
    if (raw_i32(&r) != 0)
        fail("%s: throttle_time_ms not 0", what);
    uint32_t count = raw_uvarint(&r);
    if (count == 0 || count - 1 > cap)
        fail("%s: %d results, expected at most %zu", what, (int)count - 1, cap);
    for (uint32_t i = 0; i < count - 1; i++) {
        if (!raw_compact_string(&r, results[i].user, sizeof(results[i].user)))
            fail("%s: result %u has a null user", what, i);
        results[i].err = raw_i16(&r);
        raw_compact_string(&r, results[i].msg, sizeof(results[i].msg));
        raw_skip_tags(&r);
    }
    raw_skip_tags(&r);
    if (r.p != r.end)
        fail("%s: %zu bytes after the response body", what, (size_t)(r.end - r.p));
    return count - 1;
}

/* The result for `user` must carry want_err (and a message when it is an error). */
static void expect_user(const user_result *results, size_t n, const char *user, int16_t want_err,
                        const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(results[i].user, user) != 0)
            continue;
        if (results[i].err != want_err)
            fail("%s: user %s: error %d (%s), expected %d", what, user, results[i].err,
                 results[i].msg, want_err);
        if (want_err != 0 && results[i].msg[0] == 0)
            fail("%s: user %s: error %d without a message", what, user, want_err);
        printf("ok: %s: user %s: error %d%s%s\n", what, user, want_err, want_err ? ": " : "",
               results[i].msg);
        return;
    }
    fail("%s: no result for user %s", what, user);
}

/* ---- DescribeUserScramCredentials ---- */

typedef struct described {
    char user[64];
    int16_t err;
    char msg[512];
    int ncreds;
    int8_t mechanism[4];
    int32_t iterations[4];
} described;

typedef struct describe_answer {
    int16_t err;
    char msg[512];
    size_t n;
    described users[16];
} describe_answer;

/* users NULL: the null array (every user). */
static void describe(int fd, const char *const *users, size_t n, describe_answer *ans,
                     const char *what)
{
    wbuf b;
    uint8_t buf[16384];
    begin_request(&b, API_DESCRIBE_SCRAM);
    if (users == NULL) {
        put_uvarint(&b, 0);
    } else {
        put_uvarint(&b, (uint32_t)n + 1);
        for (size_t i = 0; i < n; i++) {
            put_compact_string(&b, users[i]);
            put_no_tags(&b);
        }
    }
    put_no_tags(&b);
    raw_rd r = exchange(fd, &b, buf, sizeof(buf), what);
    memset(ans, 0, sizeof(*ans));
    if (raw_i32(&r) != 0)
        fail("%s: throttle_time_ms not 0", what);
    ans->err = raw_i16(&r);
    raw_compact_string(&r, ans->msg, sizeof(ans->msg));
    uint32_t count = raw_uvarint(&r);
    if (count == 0 || count - 1 > 16)
        fail("%s: results array length %d out of range", what, (int)count - 1);
    ans->n = count - 1;
    for (size_t i = 0; i < ans->n; i++) {
        described *d = &ans->users[i];
        if (!raw_compact_string(&r, d->user, sizeof(d->user)))
            fail("%s: result %zu has a null user", what, i);
        d->err = raw_i16(&r);
        raw_compact_string(&r, d->msg, sizeof(d->msg));
        uint32_t nc = raw_uvarint(&r);
        if (nc == 0 || nc - 1 > 4)
            fail("%s: user %s: %d credential infos", what, d->user, (int)nc - 1);
        d->ncreds = (int)nc - 1;
        for (int k = 0; k < d->ncreds; k++) {
            d->mechanism[k] = raw_i8(&r);
            d->iterations[k] = raw_i32(&r);
            raw_skip_tags(&r); /* a credential info is exactly mechanism + iterations */
        }
        raw_skip_tags(&r);
    }
    raw_skip_tags(&r);
    if (r.p != r.end)
        fail("%s: %zu bytes after the response body", what, (size_t)(r.end - r.p));
}

static const described *find_user(const describe_answer *ans, const char *user)
{
    for (size_t i = 0; i < ans->n; i++)
        if (strcmp(ans->users[i].user, user) == 0)
            return &ans->users[i];
    return NULL;
}

/* alice must hold exactly the credentials listed (mechanism, iterations pairs). */
static void expect_alice(int fd, int n, const int8_t *mechs, const int32_t *iters, const char *what)
{
    const char *users[] = {"alice"};
    describe_answer ans;
    describe(fd, users, 1, &ans, what);
    if (ans.err != 0)
        fail("%s: request error %d (%s)", what, ans.err, ans.msg);
    const described *d = find_user(&ans, "alice");
    if (ans.n != 1 || d == NULL)
        fail("%s: %zu results, expected one for alice", what, ans.n);
    if (n == 0) {
        if (d->err != ERR_RESOURCE_NOT_FOUND || d->msg[0] == 0)
            fail("%s: alice: error %d (%s), expected %d with a message", what, d->err, d->msg,
                 ERR_RESOURCE_NOT_FOUND);
        printf("ok: %s: alice not found (%s)\n", what, d->msg);
        return;
    }
    if (d->err != 0)
        fail("%s: alice: error %d (%s)", what, d->err, d->msg);
    if (d->ncreds != n)
        fail("%s: alice has %d credentials, expected %d", what, d->ncreds, n);
    for (int k = 0; k < n; k++) {
        int found = 0;
        for (int i = 0; i < d->ncreds; i++)
            found += d->mechanism[i] == mechs[k] && d->iterations[i] == iters[k];
        if (found != 1)
            fail("%s: alice: mechanism %d with %d iterations not listed", what, mechs[k], iters[k]);
    }
    printf("ok: %s: alice has the %d expected credential(s)\n", what, n);
}

/* Base64 (standard, padded) of n bytes into out. */
static void b64(const uint8_t *in, size_t n, char *out, size_t cap)
{
    if (cap < 4 * ((n + 2) / 3) + 1)
        fail("internal: base64 buffer too small");
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* The credential file names alice and holds no password equivalent. */
static void check_credentials_file(const char *data_dir)
{
    char path[4096], content[65536];
    snprintf(path, sizeof(path), "%s/meta/credentials.json", data_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        fail("cannot open %s: %s", path, strerror(errno));
    size_t len = fread(content, 1, sizeof(content) - 1, f);
    fclose(f);
    content[len] = 0;
    if (!strstr(content, "\"alice\""))
        fail("%s does not name alice", path);
    if (strstr(content, PASSWORD))
        fail("%s holds alice's password", path);
    const int8_t mechs[] = {MECH_SHA_256, MECH_SHA_512};
    const int iters[] = {4096, 8192};
    for (int m = 0; m < 2; m++) {
        uint8_t salt[24], salted[64];
        char enc[128];
        test_salt(mechs[m], salt);
        size_t n = salted_password(mechs[m], salt, sizeof(salt), iters[m], salted);
        b64(salted, n, enc, sizeof(enc));
        if (strstr(content, enc))
            fail("%s holds alice's SaltedPassword (mechanism %d) in base64", path, mechs[m]);
    }
    printf("ok: %s names alice, holds neither the password nor SaltedPassword\n", path);
}

static void run_checks(int fd, const char *data_dir)
{
    user_result res[8];
    size_t n;

    const change add[] = {{"alice", MECH_SHA_256, 4096}, {"alice", MECH_SHA_512, 8192}};
    n = alter(fd, add, 2, res, 8, "upsert alice (both mechanisms)");
    if (n != 1)
        fail("upsert alice: %zu results, expected 1 (one per user)", n);
    expect_user(res, n, "alice", 0, "upsert alice");

    const int8_t both_m[] = {MECH_SHA_256, MECH_SHA_512};
    const int32_t both_i[] = {4096, 8192};
    expect_alice(fd, 2, both_m, both_i, "describe alice after upsert");

    const char *two[] = {"alice", "nobody"};
    describe_answer ans;
    describe(fd, two, 2, &ans, "describe alice, nobody");
    const described *nobody = find_user(&ans, "nobody");
    if (ans.err != 0 || ans.n != 2 || !find_user(&ans, "alice") || !nobody)
        fail("describe alice, nobody: error %d, %zu results", ans.err, ans.n);
    if (nobody->err != ERR_RESOURCE_NOT_FOUND || nobody->ncreds != 0)
        fail("describe nobody: error %d with %d credentials, expected %d and none", nobody->err,
             nobody->ncreds, ERR_RESOURCE_NOT_FOUND);
    printf("ok: describe nobody: error %d (%s)\n", nobody->err, nobody->msg);

    describe(fd, NULL, 0, &ans, "describe everyone");
    const described *alice = find_user(&ans, "alice");
    if (ans.err != 0 || alice == NULL || alice->ncreds != 2)
        fail("describe everyone: error %d, alice %s", ans.err,
             alice ? "listed without both credentials" : "missing");
    printf("ok: describe everyone: %zu user(s), alice with 2 credentials\n", ans.n);

    if (data_dir)
        check_credentials_file(data_dir);

    /* refusals: each user its own error, in one request */
    const change bad[] = {
        {"few", MECH_SHA_256, 1000},   {"many", MECH_SHA_256, 100000}, {"mech", 3, 4096},
        {"twice", MECH_SHA_512, 4096}, {"twice", MECH_SHA_512, 0},     {"ghost", MECH_SHA_256, 0},
        {"half", MECH_SHA_256, 4096},  {"half", MECH_SHA_512, 10},
    };
    n = alter(fd, bad, sizeof(bad) / sizeof(bad[0]), res, 8, "refused changes");
    if (n != 6)
        fail("refused changes: %zu results, expected 6 (one per user)", n);
    expect_user(res, n, "few", ERR_UNACCEPTABLE_CREDENTIAL, "1000 iterations");
    expect_user(res, n, "many", ERR_UNACCEPTABLE_CREDENTIAL, "100000 iterations");
    expect_user(res, n, "mech", ERR_UNSUPPORTED_SASL_MECHANISM, "mechanism 3");
    expect_user(res, n, "twice", ERR_DUPLICATE_RESOURCE, "same user and mechanism twice");
    expect_user(res, n, "ghost", ERR_RESOURCE_NOT_FOUND, "delete a missing credential");
    expect_user(res, n, "half", ERR_UNACCEPTABLE_CREDENTIAL, "one good, one bad change");
    const char *refused[] = {"few", "many", "mech", "twice", "half"};
    describe(fd, refused, 5, &ans, "describe the refused users");
    for (size_t i = 0; i < 5; i++) {
        const described *d = find_user(&ans, refused[i]);
        if (!d || d->err != ERR_RESOURCE_NOT_FOUND)
            fail("user %s exists after a refused change (error %d)", refused[i], d ? d->err : -999);
    }
    printf("ok: no refused user was created (not even half's good change)\n");

    const change del256[] = {{"alice", MECH_SHA_256, 0}};
    n = alter(fd, del256, 1, res, 8, "delete alice SCRAM-SHA-256");
    expect_user(res, n, "alice", 0, "delete alice SCRAM-SHA-256");
    const int8_t only512_m[] = {MECH_SHA_512};
    const int32_t only512_i[] = {8192};
    expect_alice(fd, 1, only512_m, only512_i, "describe alice after one deletion");

    const change del512[] = {{"alice", MECH_SHA_512, 0}};
    n = alter(fd, del512, 1, res, 8, "delete alice SCRAM-SHA-512");
    expect_user(res, n, "alice", 0, "delete alice SCRAM-SHA-512");
    expect_alice(fd, 0, NULL, NULL, "describe alice after both deletions");
    n = alter(fd, del512, 1, res, 8, "delete alice SCRAM-SHA-512 again");
    expect_user(res, n, "alice", ERR_RESOURCE_NOT_FOUND, "delete alice SCRAM-SHA-512 again");
}

/* ---- DescribeAcls (29), v0 and v1, not flexible ---- */

#define API_DESCRIBE_ACLS 29

typedef struct acl_resource {
    int8_t type, pattern;
    char name[64];
    int nacls;
    char principal[64];
    int8_t operation, permission; /* of the first ACL */
} acl_resource;

/* DescribeAcls with an all-ANY filter (v1: pattern ANY; v0 has none, i.e. LITERAL).
 * Returns the response error; fills msg and up to cap resources (*n). */
static int16_t describe_acls(int fd, int16_t version, char *msg, size_t msglen, acl_resource *res,
                             size_t cap, size_t *n, const char *what)
{
    wbuf b;
    uint8_t buf[16384];
    /* request header v1: not flexible */
    b.len = 0;
    put_i32(&b, 0);
    put_i16(&b, API_DESCRIBE_ACLS);
    put_i16(&b, version);
    put_i32(&b, ++correlation_id);
    put_string(&b, "raw_scram_admin");
    put_i8(&b, 1);   /* resource type ANY */
    put_i16(&b, -1); /* any name */
    if (version >= 1)
        put_i8(&b, 1); /* pattern type ANY */
    put_i16(&b, -1);   /* any principal */
    put_i16(&b, -1);   /* any host */
    put_i8(&b, 1);     /* operation ANY */
    put_i8(&b, 1);     /* permission ANY */
    patch_i32(&b, 0, (int32_t)(b.len - 4));
    send_all(fd, b.data, b.len, what);
    uint8_t size[4];
    raw_read_full(fd, size, 4, what);
    uint32_t len =
        (uint32_t)size[0] << 24 | (uint32_t)size[1] << 16 | (uint32_t)size[2] << 8 | size[3];
    if (len < 4 || len > sizeof(buf))
        fail("%s: response size %u out of range", what, len);
    raw_read_full(fd, buf, len, what);
    raw_rd r = {buf, buf + len, what};
    if (raw_i32(&r) != correlation_id)
        fail("%s: wrong correlation id", what);
    if (raw_i32(&r) != 0)
        fail("%s: throttle_time_ms not 0", what);
    int16_t err = raw_i16(&r);
    char m[512];
    raw_string(&r, m, sizeof(m));
    snprintf(msg, msglen, "%s", m);
    int32_t count = raw_i32(&r);
    if (count < 0 || (size_t)count > cap)
        fail("%s: %d resources", what, count);
    *n = (size_t)count;
    for (int32_t i = 0; i < count; i++) {
        acl_resource *x = &res[i];
        x->type = raw_i8(&r);
        if (!raw_string(&r, x->name, sizeof(x->name)))
            fail("%s: a resource with a null name", what);
        x->pattern = version >= 1 ? raw_i8(&r) : 3;
        x->nacls = raw_i32(&r);
        for (int32_t k = 0; k < x->nacls; k++) {
            char principal[64], host[64];
            raw_string(&r, principal, sizeof(principal));
            raw_string(&r, host, sizeof(host));
            int8_t op = raw_i8(&r), perm = raw_i8(&r);
            if (k == 0) {
                snprintf(x->principal, sizeof(x->principal), "%s", principal);
                x->operation = op;
                x->permission = perm;
            }
        }
    }
    if (r.p != r.end)
        fail("%s: %zu bytes after the response body", what, (size_t)(r.end - r.p));
    return err;
}

static const acl_resource *find_resource(const acl_resource *res, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(res[i].name, name) == 0)
            return &res[i];
    return NULL;
}

static void run_acls(int fd)
{
    acl_resource res[8];
    size_t n;
    char msg[512];
    int16_t err = describe_acls(fd, 0, msg, sizeof(msg), res, 8, &n, "DescribeAcls v0");
    if (err != 0)
        fail("DescribeAcls v0: error %d (%s)", err, msg);
    const acl_resource *orders = find_resource(res, n, "orders");
    if (n != 1 || !orders || orders->type != 2 || orders->nacls != 1 ||
        strcmp(orders->principal, "User:alice") != 0 || orders->operation != 3 ||
        orders->permission != 3)
        fail("DescribeAcls v0: %zu resources; expected only TOPIC \"orders\" with one ACL "
             "User:alice READ ALLOW",
             n);
    printf("ok: DescribeAcls v0: only the LITERAL binding (orders)\n");
    err = describe_acls(fd, 1, msg, sizeof(msg), res, 8, &n, "DescribeAcls v1");
    if (err != 0)
        fail("DescribeAcls v1: error %d (%s)", err, msg);
    const acl_resource *acme = find_resource(res, n, "acme.");
    orders = find_resource(res, n, "orders");
    if (n != 2 || !acme || !orders || acme->pattern != 4 || orders->pattern != 3 ||
        acme->operation != 4)
        fail("DescribeAcls v1: %zu resources; expected orders (LITERAL) and acme. (PREFIXED, "
             "WRITE)",
             n);
    printf("ok: DescribeAcls v1: orders LITERAL and acme. PREFIXED\n");
}

static void run_denied(int fd)
{
    user_result res[2];
    const change add[] = {{"mallory", MECH_SHA_256, 4096}};
    size_t n = alter(fd, add, 1, res, 2, "upsert without ALTER on the cluster");
    expect_user(res, n, "mallory", ERR_CLUSTER_AUTHORIZATION_FAILED,
                "upsert without ALTER on the cluster");
    describe_answer ans;
    describe(fd, NULL, 0, &ans, "describe without DESCRIBE on the cluster");
    if (ans.err != ERR_CLUSTER_AUTHORIZATION_FAILED || ans.msg[0] == 0 || ans.n != 0)
        fail("describe without DESCRIBE: error %d (%s), %zu results; expected %d, a message, "
             "none",
             ans.err, ans.msg, ans.n, ERR_CLUSTER_AUTHORIZATION_FAILED);
    printf("ok: describe without DESCRIBE: error %d (%s)\n", ans.err, ans.msg);
    for (int16_t v = 0; v <= 1; v++) {
        acl_resource resources[4];
        size_t nres;
        char msg[512];
        int16_t err =
            describe_acls(fd, v, msg, sizeof(msg), resources, 4, &nres, "DescribeAcls denied");
        if (err != ERR_CLUSTER_AUTHORIZATION_FAILED || msg[0] == 0 || nres != 0)
            fail("DescribeAcls v%d without DESCRIBE: error %d (%s), %zu resources; expected %d, "
                 "a message, none",
                 v, err, msg, nres, ERR_CLUSTER_AUTHORIZATION_FAILED);
        printf("ok: DescribeAcls v%d without DESCRIBE: error %d (%s)\n", v, err, msg);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4)
        fail("usage: raw_scram_admin HOST:PORT [DATA_DIR|-] [denied|acls]");
    const char *colon = strrchr(argv[1], ':');
    int port = atoi(colon ? colon + 1 : argv[1]);
    if (port <= 0)
        fail("bad bootstrap \"%s\": expected host:port", argv[1]);
    const char *data_dir = argc >= 3 && strcmp(argv[2], "-") != 0 ? argv[2] : NULL;
    const char *mode = argc == 4 ? argv[3] : "scram";
    if (strcmp(mode, "scram") != 0 && strcmp(mode, "denied") != 0 && strcmp(mode, "acls") != 0)
        fail("unknown mode \"%s\": denied or acls", mode);

    int fd = connect_loopback(port, READ_TIMEOUT_S);
    if (strcmp(mode, "denied") == 0)
        run_denied(fd);
    else if (strcmp(mode, "acls") == 0)
        run_acls(fd);
    else
        run_checks(fd, data_dir);
    close(fd);
    printf("raw_scram_admin: all checks passed\n");
    return 0;
}
