/*
 * Unit tests for mirror/config.c: a full file lands in every field, a minimal one gets
 * the documented defaults, every kind of mistake fails with "file:line: reason", and the
 * topic/group selection rules (anchored patterns, internal topics, heartbeats, no loops
 * with prefix naming) and target topic names behave as config.h says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mirror/config.h"
#include "mirror/offsets.h"

/* Writes `text` to a new temporary file; path into out[64]. */
static void write_cfg(char out[64], const char *text)
{
    snprintf(out, 64, "/tmp/st-mcfg-test-XXXXXX");
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static int load_text(st_mirror_config *cfg, const char *text, char path[64], char *err,
                     size_t errlen)
{
    write_cfg(path, text);
    int rc = st_mirror_config_load(cfg, path, err, errlen);
    unlink(path);
    return rc;
}

#define CLUSTERS                                                                                   \
    "clusters = (\n"                                                                               \
    "  { alias = \"dc1\"; bootstrap = \"127.0.0.1:9092\"; },\n"                                    \
    "  { alias = \"dc2\"; bootstrap = \"127.0.0.1:9094\"; }\n"                                     \
    ");\n"

static void test_full_file(void **state)
{
    static const char text[] =
        "clusters = (\n"
        "  { alias = \"dc1\"; bootstrap = \"10.0.1.5:9092,10.0.1.6:9092\";\n"
        "    security_protocol = \"SASL_SSL\"; sasl_mechanism = \"scram-sha-512\";\n"
        "    sasl_username = \"mirror\"; sasl_password = \"pw\"; ssl_ca = \"/etc/ca.pem\"; },\n"
        "  { alias = \"dc_2-b\"; bootstrap = \"10.0.2.5:9092\"; security_protocol = \"ssl\"; }\n"
        ");\n"
        "flows = (\n"
        "  { source = \"dc1\"; target = \"dc_2-b\";\n"
        "    topics = [ \"orders.*\", \"payments\" ]; topics_exclude = [ \".*\\\\.internal\" ];\n"
        "    naming = \"identity\"; sync_configs = false; sync_partitions = false;\n"
        "    sync_acls = true; groups = ( \"app-.*\" ); groups_exclude = [ \"app-test\" ];\n"
        "    configs_exclude = [ \"retention\\\\..*\" ]; mm2_import = true;\n"
        "    mm2_source_alias = \"primary\"; mm2_target_alias = \"backup\";\n"
        "    checkpoint_interval_ms = 2500; sync_interval_ms = 60000;\n"
        "    heartbeat_interval_ms = 100; producers = 16; },\n"
        "  { source = \"dc_2-b\"; target = \"dc1\"; }\n"
        ");\n"
        "mgmt = { url = \"ipc:///tmp/m.ipc\"; token = \"tok\"; };\n"
        "state_dir = \"/var/lib/strait-mirror\";\n"
        "log_level = \"debug\";\n";
    st_mirror_config cfg;
    char path[64], err[512] = "";
    assert_int_equal(load_text(&cfg, text, path, err, sizeof err), 0);
    assert_int_equal(cfg.nclusters, 2);
    const st_mcluster_config *c = &cfg.clusters[0];
    assert_string_equal(c->alias, "dc1");
    assert_string_equal(c->bootstrap, "10.0.1.5:9092,10.0.1.6:9092");
    assert_string_equal(c->security_protocol, "sasl_ssl"); /* librdkafka's spelling */
    assert_string_equal(c->sasl_mechanism, "SCRAM-SHA-512");
    assert_string_equal(c->sasl_username, "mirror");
    assert_string_equal(c->sasl_password, "pw");
    assert_string_equal(c->ssl_ca, "/etc/ca.pem");
    assert_string_equal(cfg.clusters[1].security_protocol, "ssl");

    assert_int_equal(cfg.nflows, 2);
    const st_mflow_config *f = &cfg.flows[0];
    assert_string_equal(f->name, "dc1->dc_2-b");
    assert_ptr_equal(f->source, &cfg.clusters[0]);
    assert_ptr_equal(f->target, &cfg.clusters[1]);
    assert_int_equal(f->topics.n, 2);
    assert_string_equal(f->topics.src[0], "orders.*");
    assert_string_equal(f->topics.src[1], "payments");
    assert_int_equal(f->topics_exclude.n, 1);
    assert_string_equal(f->topics_exclude.src[0], ".*\\.internal");
    assert_int_equal(f->groups.n, 1);
    assert_int_equal(f->groups_exclude.n, 1);
    assert_int_equal(f->naming, ST_MNAMING_IDENTITY);
    assert_false(f->sync_configs);
    assert_false(f->sync_partitions);
    assert_true(f->sync_acls);
    assert_int_equal(f->configs_exclude.n, 1);
    assert_string_equal(f->configs_exclude.src[0], "retention\\..*");
    assert_true(f->mm2_import);
    assert_string_equal(f->mm2_source_alias, "primary");
    assert_string_equal(f->mm2_target_alias, "backup");
    assert_int_equal(f->checkpoint_interval_ms, 2500);
    assert_int_equal(f->sync_interval_ms, 60000);
    assert_int_equal(f->heartbeat_interval_ms, 100);
    assert_int_equal(f->producers, 16);
    assert_string_equal(cfg.flows[1].name, "dc_2-b->dc1");
    assert_string_equal(cfg.mgmt_url, "ipc:///tmp/m.ipc");
    assert_string_equal(cfg.mgmt_token, "tok");
    assert_string_equal(cfg.state_dir, "/var/lib/strait-mirror");
    assert_string_equal(cfg.log_level, "debug");
    st_mirror_config_free(&cfg);
    st_mirror_config_free(&cfg); /* twice is harmless */
}

static void test_defaults(void **state)
{
    st_mirror_config cfg;
    char path[64], err[512] = "";
    assert_int_equal(load_text(&cfg,
                               CLUSTERS "flows = ( { source = \"dc1\"; target = \"dc2\"; } );\n",
                               path, err, sizeof err),
                     0);
    assert_string_equal(cfg.clusters[0].security_protocol, "plaintext");
    assert_string_equal(cfg.clusters[0].sasl_mechanism, "");
    const st_mflow_config *f = &cfg.flows[0];
    assert_string_equal(f->name, "dc1->dc2");
    assert_int_equal(f->naming, ST_MNAMING_PREFIX);
    assert_true(f->sync_configs);
    assert_true(f->sync_partitions);
    assert_false(f->sync_acls);
    assert_int_equal(f->configs_exclude.n, 0);
    assert_false(f->mm2_import);
    assert_string_equal(f->mm2_source_alias, "");
    assert_int_equal(f->checkpoint_interval_ms, 1000);
    assert_int_equal(f->sync_interval_ms, 5000);
    assert_int_equal(f->heartbeat_interval_ms, 1000);
    assert_int_equal(f->producers, 4);
    assert_int_equal(f->topics.n, 1);
    assert_string_equal(f->topics.src[0], ".*");
    assert_int_equal(f->topics_exclude.n, 0);
    assert_int_equal(f->groups.n, 1);
    assert_int_equal(f->groups_exclude.n, 0);
    assert_true(st_mflow_topic_selected(f, "anything"));
    assert_true(st_mflow_group_selected(f, "any-group"));
    assert_string_equal(cfg.mgmt_url, "tcp://127.0.0.1:9193");
    assert_string_equal(cfg.mgmt_token, "");
    assert_string_equal(cfg.state_dir, "./mirror-state");
    assert_string_equal(cfg.log_level, "info");
    st_mirror_config_free(&cfg);
}

/* One broken file: its text, the line the error must name (0: none) and a substring. */
typedef struct bad_case {
    const char *text;
    int line;
    const char *reason;
} bad_case;

#define FLOW(body) "flows = (\n  { source = \"dc1\"; target = \"dc2\";\n    " body "\n  }\n);\n"

static const bad_case bad_cases[] = {
    /* syntax (libconfig's own message) */
    {CLUSTERS "flows = ( { source = ; target = \"dc2\"; } );\n", 5, "syntax error"},
    /* unknown settings at every level */
    {CLUSTERS FLOW("") "log_levle = \"info\";\n", 10, "unknown setting \"log_levle\""},
    {"clusters = (\n { alias = \"dc1\"; bootstrap = \"a:1\";\n   bootstrp = \"b\"; }\n);\n" FLOW(
         ""),
     3, "clusters[0]: unknown setting \"bootstrp\""},
    {CLUSTERS FLOW("topic = [ \"a\" ];"), 7, "flows[0]: unknown setting \"topic\""},
    {CLUSTERS FLOW("") "mgmt = {\n  url = \"tcp://127.0.0.1:1\";\n  tokn = \"x\";\n};\n", 12,
     "mgmt: unknown setting \"tokn\""},
    /* wrong types */
    {"clusters = ( { alias = \"dc1\";\n bootstrap = 9092; } );\n" FLOW(""), 2,
     "clusters[0].bootstrap must be a string"},
    {CLUSTERS FLOW("sync_acls = \"yes\";"), 7, "flows[0].sync_acls must be true or false"},
    {CLUSTERS FLOW("mm2_import = 1;"), 7, "flows[0].mm2_import must be true or false"},
    {CLUSTERS FLOW("configs_exclude = [ \"(x\" ];"), 7,
     "flows[0].configs_exclude: bad regular expression \"(x\""},
    {CLUSTERS FLOW("checkpoint_interval_ms = \"1000\";"), 7,
     "flows[0].checkpoint_interval_ms must be an integer"},
    {CLUSTERS FLOW("topics = \"orders\";"), 7, "flows[0].topics must be a list of strings"},
    {CLUSTERS FLOW("topics = ( \"a\", 5 );"), 7, "flows[0].topics[1] must be a string"},
    {CLUSTERS "flows = { source = \"dc1\"; };\n", 5, "flows must be a list of groups"},
    {CLUSTERS "flows = ( \"dc1->dc2\" );\n", 5, "flows[0] must be a group"},
    {CLUSTERS FLOW("") "mgmt = \"tcp://x\";\n", 10, "mgmt must be a group"},
    {CLUSTERS FLOW("") "state_dir = 5;\n", 10, "state_dir must be a string"},
    /* flows naming clusters */
    {CLUSTERS "flows = (\n { source = \"dc1\";\n   target = \"dc3\"; }\n);\n", 7,
     "target \"dc3\" is not a declared cluster (declared: dc1, dc2)"},
    {CLUSTERS "flows = (\n { source = \"dc9\"; target = \"dc2\"; }\n);\n", 6,
     "source \"dc9\" is not a declared cluster"},
    {CLUSTERS "flows = (\n { target = \"dc2\"; }\n);\n", 6, "flows[0] needs a source"},
    {CLUSTERS "flows = (\n { source = \"dc2\";\n   target = \"dc2\"; }\n);\n", 7,
     "source and target are both \"dc2\""},
    {CLUSTERS "flows = (\n { source = \"dc1\"; target = \"dc2\"; },\n"
              " { source = \"dc2\"; target = \"dc1\"; },\n"
              " { source = \"dc1\"; target = \"dc2\"; naming = \"identity\"; }\n);\n",
     8, "flow dc1->dc2 is declared twice"},
    /* patterns */
    {CLUSTERS FLOW("topics = [ \"orders\",\n \"orders[\" ];"), 8,
     "flows[0].topics: bad regular expression \"orders[\": "},
    {CLUSTERS FLOW("groups_exclude = [ \"(a\" ];"), 7,
     "flows[0].groups_exclude: bad regular expression \"(a\""},
    {CLUSTERS FLOW("topics = [ \"a)|(b\" ];"), 7, "bad regular expression \"a)|(b\""},
    {CLUSTERS FLOW("topics = [ \"\" ];"), 7, "empty pattern"},
    {CLUSTERS FLOW("topics = [ ];"), 7, "flows[0].topics is empty"},
    /* values */
    {CLUSTERS FLOW("naming = \"mirror\";"), 7,
     "flows[0].naming must be \"prefix\" or \"identity\", not \"mirror\""},
    {CLUSTERS FLOW("checkpoint_interval_ms = 99;"), 7,
     "flows[0].checkpoint_interval_ms = 99 is out of range [100, 86400000]"},
    {CLUSTERS FLOW("sync_interval_ms = 86400001;"), 7,
     "flows[0].sync_interval_ms = 86400001 is out of range"},
    {CLUSTERS FLOW("heartbeat_interval_ms = -1;"), 7,
     "flows[0].heartbeat_interval_ms = -1 is out of range"},
    {CLUSTERS FLOW("producers = 0;"), 7, "flows[0].producers = 0 is out of range [1, 16]"},
    {CLUSTERS FLOW("producers = 17;"), 7, "flows[0].producers = 17 is out of range [1, 16]"},
    {CLUSTERS FLOW("producers = \"4\";"), 7, "flows[0].producers must be an integer"},
    {CLUSTERS FLOW("") "log_level = \"loud\";\n", 10,
     "log_level must be debug, info, warn or error, not \"loud\""},
    /* clusters */
    {"clusters = (\n { alias = \"dc1\"; }\n);\n" FLOW(""), 2, "cluster \"dc1\" needs a bootstrap"},
    {"clusters = (\n { alias = \"dc1\";\n bootstrap = \"\"; }\n);\n" FLOW(""), 3,
     "cluster \"dc1\" needs a bootstrap"},
    {"clusters = (\n { bootstrap = \"a:1\"; }\n);\n" FLOW(""), 2, "clusters[0] needs an alias"},
    {"clusters = (\n { alias = \"dc 1\"; bootstrap = \"a:1\"; }\n);\n" FLOW(""), 2,
     "clusters[0].alias \"dc 1\" must be letters, digits"},
    {"clusters = (\n { alias = \"dc.1\"; bootstrap = \"a:1\"; }\n);\n" FLOW(""), 2,
     "must be letters, digits"},
    {"clusters = (\n { alias = \"dc1\"; bootstrap = \"a:1\"; },\n"
     " { alias = \"dc1\"; bootstrap = \"b:1\"; }\n);\n" FLOW(""),
     3, "cluster alias \"dc1\" is declared twice"},
    {"clusters = (\n { alias = \"dc1\"; bootstrap = \"a:1\";\n security_protocol = \"TLS\"; "
     "}\n);\n" FLOW(""),
     3, "security_protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, not \"TLS\""},
    {"clusters = (\n { alias = \"dc1\"; bootstrap = \"a:1\";\n"
     "   security_protocol = \"SASL_PLAINTEXT\"; sasl_mechanism = \"PLAIN\"; }\n);\n" FLOW(""),
     2, "security_protocol SASL_PLAINTEXT needs sasl_mechanism and sasl_username"},
    {"clusters = (\n { alias = \"dc1\"; bootstrap = \"a:1\";\n"
     "   security_protocol = \"SASL_SSL\"; sasl_username = \"u\";\n"
     "   sasl_mechanism = \"GSSAPI\"; }\n);\n" FLOW(""),
     4, "sasl_mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, not \"GSSAPI\""},
    {"clusters = (\n { alias = \"dc1\"; bootstrap = \"a:1\";\n"
     "   sasl_username = \"u\"; }\n);\n" FLOW(""),
     3, "sasl_username is set but security_protocol is PLAINTEXT"},
    {"clusters = (\n { alias = \"dc1\"; bootstrap = \"a:1\";\n"
     "   security_protocol = \"SASL_PLAINTEXT\"; sasl_mechanism = \"PLAIN\";\n"
     "   sasl_username = \"u\"; ssl_ca = \"/ca.pem\"; }\n);\n" FLOW(""),
     4, "ssl_ca is set but security_protocol is SASL_PLAINTEXT"},
    /* missing sections */
    {"flows = ( { source = \"dc1\"; target = \"dc2\"; } );\n", 0, "no clusters"},
    {CLUSTERS, 0, "no flows"},
    {CLUSTERS "flows = ( );\n", 5, "flows is empty"},
    {"clusters = 5;\n" FLOW(""), 1, "clusters must be a list of groups"},
};

static void test_errors(void **state)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        st_mirror_config cfg;
        char path[64], err[1024] = "", want[128];
        int rc = load_text(&cfg, bad_cases[i].text, path, err, sizeof err);
        if (rc == 0)
            st_mirror_config_free(&cfg);
        if (rc != -1 || !strstr(err, bad_cases[i].reason))
            fail_msg("case %zu: rc %d, err \"%s\", wanted \"%s\"", i, rc, err, bad_cases[i].reason);
        if (bad_cases[i].line)
            snprintf(want, sizeof want, "%s:%d: ", path, bad_cases[i].line);
        else
            snprintf(want, sizeof want, "%s: ", path);
        if (strncmp(err, want, strlen(want)) != 0)
            fail_msg("case %zu: \"%s\" does not start with \"%s\"", i, err, want);
    }
}

static void test_missing_file(void **state)
{
    st_mirror_config cfg;
    char err[512] = "";
    assert_int_equal(st_mirror_config_load(&cfg, "/nonexistent/strait-mirror.cfg", err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "/nonexistent/strait-mirror.cfg: cannot read the config file"));
}

static void test_topic_selection(void **state)
{
    st_mirror_config cfg;
    char path[64], err[512] = "";
    assert_int_equal(load_text(&cfg,
                               "clusters = (\n"
                               "  { alias = \"dc1\"; bootstrap = \"127.0.0.1:9092\"; },\n"
                               "  { alias = \"dc2\"; bootstrap = \"127.0.0.1:9094\"; },\n"
                               "  { alias = \"dc3\"; bootstrap = \"127.0.0.1:9096\"; }\n"
                               ");\n"
                               "flows = (\n"
                               " { source = \"dc1\"; target = \"dc2\";\n"
                               "   topics = [ \"orders.*\", \"payments\" ];\n"
                               "   topics_exclude = [ \".*\\\\.internal\" ]; },\n"
                               " { source = \"dc2\"; target = \"dc1\"; },\n"
                               " { source = \"dc1\"; target = \"dc3\";\n"
                               "   naming = \"identity\"; topics = [ \"orders\" ];\n"
                               "   topics_exclude = [ \".*heartbeats\" ]; }\n"
                               ");\n",
                               path, err, sizeof err),
                     0);
    const st_mflow_config *p = &cfg.flows[0]; /* dc1->dc2 prefix, patterns */
    assert_true(st_mflow_topic_selected(p, "orders"));
    assert_true(st_mflow_topic_selected(p, "orders.eu"));
    assert_false(st_mflow_topic_selected(p, "orders.internal")); /* excluded */
    assert_true(st_mflow_topic_selected(p, "payments"));
    assert_false(st_mflow_topic_selected(p, "payments2")); /* anchored at the end */
    assert_false(st_mflow_topic_selected(p, "xpayments")); /* and at the start */
    assert_false(st_mflow_topic_selected(p, "refunds"));
    assert_false(st_mflow_topic_selected(p, "__consumer_offsets"));
    assert_false(st_mflow_topic_selected(p, "__orders")); /* internal even if it matched */
    assert_false(st_mflow_topic_selected(p, ST_MIRROR_OFFSETS_TOPIC));
    assert_true(st_mflow_topic_selected(p, ST_MIRROR_HEARTBEATS_TOPIC)); /* not in patterns */

    const st_mflow_config *all = &cfg.flows[1]; /* dc2->dc1 prefix, ".*" */
    assert_true(st_mflow_topic_selected(all, "orders"));
    assert_false(st_mflow_topic_selected(all, "dc1.orders")); /* came from the target */
    assert_true(st_mflow_topic_selected(all, "dc10.orders")); /* not the target's prefix */
    assert_true(st_mflow_topic_selected(all, "dc1"));         /* no dot: a plain name */
    assert_true(st_mflow_topic_selected(all, "dc3.orders"));  /* a third cluster's copy */
    assert_false(st_mflow_topic_selected(all, "dc3.strait-mirror.heartbeats")); /* mirrored */
    assert_false(st_mflow_topic_selected(all, "dc1.strait-mirror.heartbeats"));
    assert_true(st_mflow_topic_selected(all, ST_MIRROR_HEARTBEATS_TOPIC));
    assert_false(st_mflow_topic_selected(all, ST_MIRROR_OFFSETS_TOPIC));
    assert_false(st_mflow_topic_selected(all, "__transaction_state"));

    const st_mflow_config *id = &cfg.flows[2]; /* dc1->dc3 identity */
    assert_true(st_mflow_topic_selected(id, "orders"));
    assert_false(st_mflow_topic_selected(id, "dc3.orders")); /* patterns decide: no match */
    /* heartbeats always, even against an exclude */
    assert_true(st_mflow_topic_selected(id, ST_MIRROR_HEARTBEATS_TOPIC));
    assert_false(st_mflow_topic_selected(id, "dc2.strait-mirror.heartbeats")); /* excluded */
    assert_false(st_mflow_topic_selected(id, ST_MIRROR_OFFSETS_TOPIC));

    char out[32];
    assert_int_equal(st_mflow_target_topic(p, "orders", out, sizeof out), 0);
    assert_string_equal(out, "dc1.orders");
    assert_int_equal(st_mflow_target_topic(all, "orders", out, sizeof out), 0);
    assert_string_equal(out, "dc2.orders");
    assert_int_equal(st_mflow_target_topic(id, "orders", out, sizeof out), 0);
    assert_string_equal(out, "orders");
    assert_int_equal(st_mflow_target_topic(p, "orders", out, 11), 0); /* "dc1.orders" + NUL */
    assert_string_equal(out, "dc1.orders");
    assert_int_equal(st_mflow_target_topic(p, "orders", out, 10), -1);
    assert_int_equal(st_mflow_target_topic(id, "orders", out, 6), -1);
    st_mirror_config_free(&cfg);
}

static void test_identity_patterns_open(void **state)
{
    st_mirror_config cfg;
    char path[64], err[512] = "";
    assert_int_equal(load_text(&cfg,
                               CLUSTERS "flows = ( { source = \"dc1\"; target = \"dc2\"; "
                                        "naming = \"identity\"; } );\n",
                               path, err, sizeof err),
                     0);
    const st_mflow_config *id = &cfg.flows[0];
    /* identity naming has no prefix to recognise: loops are stopped by origin headers */
    assert_true(st_mflow_topic_selected(id, "dc2.orders"));
    assert_true(st_mflow_topic_selected(id, "dc0.strait-mirror.heartbeats"));
    assert_true(st_mflow_topic_selected(id, ST_MIRROR_HEARTBEATS_TOPIC));
    assert_false(st_mflow_topic_selected(id, ST_MIRROR_OFFSETS_TOPIC));
    assert_false(st_mflow_topic_selected(id, "__consumer_offsets"));
    st_mirror_config_free(&cfg);
}

static void test_group_selection(void **state)
{
    st_mirror_config cfg;
    char path[64], err[512] = "";
    assert_int_equal(load_text(&cfg,
                               CLUSTERS FLOW("groups = [ \"app-.*\", \"billing\" ];\n"
                                             "    groups_exclude = [ \"app-test\" ];"),
                               path, err, sizeof err),
                     0);
    const st_mflow_config *f = &cfg.flows[0];
    assert_true(st_mflow_group_selected(f, "app-1"));
    assert_true(st_mflow_group_selected(f, "app-"));
    assert_false(st_mflow_group_selected(f, "app-test"));
    assert_true(st_mflow_group_selected(f, "app-tests")); /* excludes are anchored too */
    assert_true(st_mflow_group_selected(f, "billing"));
    assert_false(st_mflow_group_selected(f, "billing-2"));
    assert_false(st_mflow_group_selected(f, "other"));
    st_mirror_config_free(&cfg);

    /* groups = [] checkpoints nothing */
    assert_int_equal(load_text(&cfg, CLUSTERS FLOW("groups = [ ];"), path, err, sizeof err), 0);
    assert_false(st_mflow_group_selected(&cfg.flows[0], "app-1"));
    st_mirror_config_free(&cfg);
}

/* deploy/config/strait-mirror.cfg is documentation that must stay loadable. */
static void test_example_file(void **state)
{
    char path[4096];
    const char *me = __FILE__, *tail = strstr(me, "tests/unit/mirror/test_config.c");
    snprintf(path, sizeof path, "%.*sdeploy/config/strait-mirror.cfg", tail ? (int)(tail - me) : 0,
             me);
    if (access(path, R_OK) != 0)
        skip();
    st_mirror_config cfg;
    char err[512] = "";
    if (st_mirror_config_load(&cfg, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(cfg.nclusters, 2);
    assert_string_equal(cfg.clusters[0].alias, "dc1");
    assert_string_equal(cfg.clusters[0].bootstrap, "127.0.0.1:9092");
    assert_string_equal(cfg.clusters[1].alias, "dc2");
    assert_string_equal(cfg.clusters[1].bootstrap, "127.0.0.1:9094");
    assert_int_equal(cfg.nflows, 1);
    assert_string_equal(cfg.flows[0].name, "dc1->dc2");
    /* the example shows the defaults */
    assert_int_equal(cfg.flows[0].naming, ST_MNAMING_PREFIX);
    assert_int_equal(cfg.flows[0].checkpoint_interval_ms, 1000);
    assert_int_equal(cfg.flows[0].sync_interval_ms, 5000);
    assert_int_equal(cfg.flows[0].heartbeat_interval_ms, 1000);
    assert_string_equal(cfg.mgmt_url, "tcp://127.0.0.1:9193");
    assert_string_equal(cfg.state_dir, "./mirror-state");
    assert_string_equal(cfg.log_level, "info");
    st_mirror_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file),       cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),          cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_topic_selection), cmocka_unit_test(test_identity_patterns_open),
        cmocka_unit_test(test_group_selection), cmocka_unit_test(test_example_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
