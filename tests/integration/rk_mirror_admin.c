/*
 * rk_mirror_admin: what an operator's Kafka admin client does to a cluster, for the
 * strait-mirror tests (test_mirror_sync.sh): topic configs and ACLs through librdkafka's
 * admin API — the Kafka protocol, as kafka-configs.sh and kafka-acls.sh use it.
 *
 *   configs BOOTSTRAP TOPIC                 the topic's own overrides, "name=value" a line,
 *                                           sorted
 *   alter-configs BOOTSTRAP TOPIC [N=V...]  AlterConfigs: the overrides become exactly these
 *   acls BOOTSTRAP                          every ACL binding, one a line, sorted:
 *                                           "TYPE PATTERN NAME PRINCIPAL HOST OPERATION
 *                                           PERMISSION" (e.g. "TOPIC LITERAL orders User:ann
 *                                           * READ ALLOW")
 *   acl-add BOOTSTRAP TYPE PATTERN NAME PRINCIPAL OPERATION PERMISSION   (host "*")
 *   acl-del BOOTSTRAP TYPE PATTERN NAME PRINCIPAL OPERATION PERMISSION
 * Every call waits at most 20 s; any error fails the program with the broker's message.
 */
#include "rk_util.h"

#include <strings.h>

#define WAIT_MS 20000

static rd_kafka_t *admin(const char *bootstrap)
{
    return rk_new(RD_KAFKA_PRODUCER, rk_conf(bootstrap));
}

static rd_kafka_event_t *wait_result(rd_kafka_queue_t *q, const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, WAIT_MS);
    if (!ev)
        rk_fail("%s: no answer within %d s", what, WAIT_MS / 1000);
    if (rd_kafka_event_error(ev))
        rk_fail("%s: %s", what, rd_kafka_event_error_string(ev));
    return ev;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_sorted(char **lines, size_t n)
{
    qsort(lines, n, sizeof *lines, cmp_str);
    for (size_t i = 0; i < n; i++) {
        puts(lines[i]);
        free(lines[i]);
    }
}

static int cmd_configs(const char *bootstrap, const char *topic)
{
    rd_kafka_t *rk = admin(bootstrap);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_ConfigResource_t *r = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_DescribeConfigs(rk, &r, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(q, "DescribeConfigs");
    size_t nres = 0, n = 0, nl = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nres);
    if (nres != 1 || rd_kafka_ConfigResource_error(res[0]))
        rk_fail("DescribeConfigs %s: %s", topic,
                nres ? rd_kafka_ConfigResource_error_string(res[0]) : "no resource in the answer");
    const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(res[0], &n);
    char **lines = calloc(n + 1, sizeof *lines);
    for (size_t i = 0; i < n; i++) {
        if (rd_kafka_ConfigEntry_source(e[i]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
            continue;
        const char *v = rd_kafka_ConfigEntry_value(e[i]);
        if (asprintf(&lines[nl], "%s=%s", rd_kafka_ConfigEntry_name(e[i]), v ? v : "") > 0)
            nl++;
    }
    print_sorted(lines, nl);
    free(lines);
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(r);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}

static int cmd_alter_configs(const char *bootstrap, const char *topic, int n, char **pairs)
{
    rd_kafka_t *rk = admin(bootstrap);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_ConfigResource_t *r = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    for (int i = 0; i < n; i++) {
        char *eq = strchr(pairs[i], '=');
        if (!eq)
            rk_fail("alter-configs: \"%s\" is not NAME=VALUE", pairs[i]);
        *eq = '\0';
        rd_kafka_ConfigResource_set_config(r, pairs[i], eq + 1);
    }
    rd_kafka_AlterConfigs(rk, &r, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(q, "AlterConfigs");
    size_t nres = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &nres);
    for (size_t i = 0; i < nres; i++)
        if (rd_kafka_ConfigResource_error(res[i]))
            rk_fail("AlterConfigs %s: %s", topic, rd_kafka_ConfigResource_error_string(res[i]));
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(r);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}

/* ---- ACLs ---- */

static int parse_enum(const char *s, const char *const *names, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcasecmp(s, names[i]) == 0)
            return i;
    rk_fail("unknown %s \"%s\"", what, s);
}

static const char *const restypes[RD_KAFKA_RESOURCE__CNT] = {
    [RD_KAFKA_RESOURCE_TOPIC] = "TOPIC",
    [RD_KAFKA_RESOURCE_GROUP] = "GROUP",
    [RD_KAFKA_RESOURCE_BROKER] = "CLUSTER",
};
static const char *const patterns[RD_KAFKA_RESOURCE_PATTERN_TYPE__CNT] = {
    [RD_KAFKA_RESOURCE_PATTERN_LITERAL] = "LITERAL",
    [RD_KAFKA_RESOURCE_PATTERN_PREFIXED] = "PREFIXED",
};
static const char *const perms[RD_KAFKA_ACL_PERMISSION_TYPE__CNT] = {
    [RD_KAFKA_ACL_PERMISSION_TYPE_DENY] = "DENY",
    [RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW] = "ALLOW",
};

static rd_kafka_AclOperation_t parse_op(const char *s)
{
    for (int i = RD_KAFKA_ACL_OPERATION_ALL; i < RD_KAFKA_ACL_OPERATION__CNT; i++)
        if (strcasecmp(s, rd_kafka_AclOperation_name((rd_kafka_AclOperation_t)i)) == 0)
            return (rd_kafka_AclOperation_t)i;
    rk_fail("unknown operation \"%s\"", s);
}

static rd_kafka_AclBinding_t *binding(char **a)
{
    char err[256];
    rd_kafka_AclBinding_t *b = rd_kafka_AclBinding_new(
        (rd_kafka_ResourceType_t)parse_enum(a[0], restypes, RD_KAFKA_RESOURCE__CNT, "type"), a[2],
        (rd_kafka_ResourcePatternType_t)parse_enum(a[1], patterns,
                                                   RD_KAFKA_RESOURCE_PATTERN_TYPE__CNT, "pattern"),
        a[3], "*", parse_op(a[4]),
        (rd_kafka_AclPermissionType_t)parse_enum(a[5], perms, RD_KAFKA_ACL_PERMISSION_TYPE__CNT,
                                                 "permission"),
        err, sizeof err);
    if (!b)
        rk_fail("ACL binding: %s", err);
    return b;
}

static int cmd_acls(const char *bootstrap)
{
    char err[256];
    rd_kafka_t *rk = admin(bootstrap);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
        RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL,
        RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, err, sizeof err);
    if (!f)
        rk_fail("ACL filter: %s", err);
    rd_kafka_DescribeAcls(rk, f, NULL, q);
    rd_kafka_event_t *ev = wait_result(q, "DescribeAcls");
    size_t n = 0;
    const rd_kafka_AclBinding_t **acls =
        rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
    char **lines = calloc(n + 1, sizeof *lines);
    size_t nl = 0;
    for (size_t i = 0; i < n; i++)
        if (asprintf(
                &lines[nl], "%s %s %s %s %s %s %s",
                rd_kafka_ResourceType_name(rd_kafka_AclBinding_restype(acls[i])),
                rd_kafka_ResourcePatternType_name(
                    rd_kafka_AclBinding_resource_pattern_type(acls[i])),
                rd_kafka_AclBinding_name(acls[i]), rd_kafka_AclBinding_principal(acls[i]),
                rd_kafka_AclBinding_host(acls[i]),
                rd_kafka_AclOperation_name(rd_kafka_AclBinding_operation(acls[i])),
                rd_kafka_AclPermissionType_name(rd_kafka_AclBinding_permission_type(acls[i]))) > 0)
            nl++;
    print_sorted(lines, nl);
    free(lines);
    rd_kafka_event_destroy(ev);
    rd_kafka_AclBinding_destroy(f);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}

static int cmd_acl_add(const char *bootstrap, char **a)
{
    rd_kafka_t *rk = admin(bootstrap);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AclBinding_t *b = binding(a);
    rd_kafka_CreateAcls(rk, &b, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(q, "CreateAcls");
    size_t n = 0;
    const rd_kafka_acl_result_t **res =
        rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_acl_result_error(res[i]))
            rk_fail("CreateAcls: %s", rd_kafka_error_string(rd_kafka_acl_result_error(res[i])));
    rd_kafka_event_destroy(ev);
    rd_kafka_AclBinding_destroy(b);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}

static int cmd_acl_del(const char *bootstrap, char **a)
{
    rd_kafka_t *rk = admin(bootstrap);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AclBindingFilter_t *b = binding(a);
    rd_kafka_DeleteAcls(rk, &b, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(q, "DeleteAcls");
    size_t n = 0;
    const rd_kafka_DeleteAcls_result_response_t **res =
        rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &n);
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_DeleteAcls_result_response_error(res[i]))
            rk_fail("DeleteAcls: %s",
                    rd_kafka_error_string(rd_kafka_DeleteAcls_result_response_error(res[i])));
    rd_kafka_event_destroy(ev);
    rd_kafka_AclBinding_destroy(b);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 4 && strcmp(argv[1], "configs") == 0)
        return cmd_configs(argv[2], argv[3]);
    if (argc >= 4 && strcmp(argv[1], "alter-configs") == 0)
        return cmd_alter_configs(argv[2], argv[3], argc - 4, argv + 4);
    if (argc == 3 && strcmp(argv[1], "acls") == 0)
        return cmd_acls(argv[2]);
    if (argc == 9 && strcmp(argv[1], "acl-add") == 0)
        return cmd_acl_add(argv[2], argv + 3);
    if (argc == 9 && strcmp(argv[1], "acl-del") == 0)
        return cmd_acl_del(argv[2], argv + 3);
    rk_fail("usage: rk_mirror_admin configs|alter-configs|acls|acl-add|acl-del BOOTSTRAP ... "
            "(see the file's comment)");
}
