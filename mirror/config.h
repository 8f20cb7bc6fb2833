/*
 * strait-mirror's configuration: one libconfig file of clusters and flows.
 *
 *     clusters = (
 *       { alias = "dc1"; bootstrap = "10.0.1.5:9092";
 *         security_protocol = "SASL_SSL";          # PLAINTEXT (default), SASL_PLAINTEXT, SASL_SSL
 *         sasl_mechanism = "SCRAM-SHA-512"; sasl_username = "mirror"; sasl_password = "...";
 *         ssl_ca = "/etc/strait/ca.pem"; },
 *       { alias = "dc2"; bootstrap = "10.0.2.5:9092"; }
 *     );
 *     flows = (
 *       { source = "dc1"; target = "dc2";
 *         topics = [ "orders.*", "payments" ];      # regexes (POSIX extended, anchored)
 *         topics_exclude = [ ".*\\.internal" ];
 *         naming = "prefix";                        # "prefix" (dc1.orders on dc2) or "identity"
 *         sync_configs = true; sync_partitions = true; sync_acls = false;
 *         configs_exclude = [ "retention\\..*" ];  # topic configs never copied (regexes)
 *         mm2_import = false;                       # start where MirrorMaker 2 stopped
 *         mm2_source_alias = ""; mm2_target_alias = "";  # MM2's aliases, if they differ
 *         groups = [ ".*" ]; groups_exclude = [];   # groups whose offsets are checkpointed
 *         checkpoint_interval_ms = 1000; sync_interval_ms = 5000; heartbeat_interval_ms = 1000;
 *         producers = 4; }                          # target producers (connections), 1..16
 *     );
 *     mgmt = { url = "tcp://127.0.0.1:9193"; token = ""; };   # token "": generated into state_dir
 *                                           # survey_url = "": the url's port + 100
 *     state_dir = "./mirror-state";                           # the mgmt token file only
 *     log_level = "info";
 *     log_format = "text";                                    # or "json": a JSON object a line
 *
 * Every error names file:line and what is wrong; unknown settings are errors (a typo never
 * silently falls back to a default). A flow's source and target must name declared
 * clusters and differ; two flows may not have the same (source, target) pair.
 */
#ifndef ST_MIRROR_CONFIG_H
#define ST_MIRROR_CONFIG_H

#include <limits.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_MIRROR_MAX_CLUSTERS  16
#define ST_MIRROR_MAX_FLOWS     16
#define ST_MIRROR_MAX_PATTERNS  32
#define ST_MIRROR_MAX_PRODUCERS 16

typedef struct st_mcluster_config {
    char alias[64]; /* [A-Za-z0-9_-]+ */
    char bootstrap[512];
    char security_protocol[32]; /* librdkafka's security.protocol value, lower case */
    char sasl_mechanism[32];
    char sasl_username[256];
    char sasl_password[256];
    char ssl_ca[PATH_MAX];
} st_mcluster_config;

typedef enum st_mnaming { ST_MNAMING_PREFIX = 0, ST_MNAMING_IDENTITY = 1 } st_mnaming;

typedef struct st_mpatterns {
    regex_t re[ST_MIRROR_MAX_PATTERNS];
    char *src[ST_MIRROR_MAX_PATTERNS]; /* the pattern text (owned), for status */
    size_t n;
} st_mpatterns;

typedef struct st_mflow_config {
    char name[140];                            /* "<source>-><target>" */
    const st_mcluster_config *source, *target; /* into st_mirror_config.clusters */
    st_mpatterns topics, topics_exclude;
    st_mpatterns groups, groups_exclude;
    st_mnaming naming;
    bool sync_configs, sync_partitions, sync_acls;
    st_mpatterns configs_exclude;   /* topic configs never copied, besides the built-in ones */
    bool mm2_import;                /* new partitions start where MirrorMaker 2 stopped */
    char mm2_source_alias[64];      /* MM2's alias of the source ["": source->alias] */
    char mm2_target_alias[64];      /* MM2's alias of the target ["": target->alias] */
    int64_t checkpoint_interval_ms; /* [1000] */
    int64_t sync_interval_ms;       /* topic discovery and config/partition sync [5000] */
    int64_t heartbeat_interval_ms;  /* [1000] */
    int producers;                  /* target producers, partitions spread over them [4], 1..16 */
} st_mflow_config;

typedef struct st_mirror_config {
    st_mcluster_config clusters[ST_MIRROR_MAX_CLUSTERS];
    size_t nclusters;
    st_mflow_config flows[ST_MIRROR_MAX_FLOWS];
    size_t nflows;
    char mgmt_url[256];        /* [tcp://127.0.0.1:9193] */
    char mgmt_survey_url[256]; /* ["": derived from mgmt_url, see common/mgmt.h] */
    char mgmt_token[256];      /* [""] */
    char state_dir[PATH_MAX];  /* [./mirror-state] */
    char log_level[16];        /* [info] */
    char log_format[8];        /* "text" or "json" [text] */
} st_mirror_config;

/* Loads `path`. 0, or -1 with err "path:line: reason". On success free with
 * st_mirror_config_free (the regexes). */
int st_mirror_config_load(st_mirror_config *cfg, const char *path, char *err, size_t errlen);
void st_mirror_config_free(st_mirror_config *cfg);

/* True when `topic` (NUL-terminated) matches one of the flow's include patterns and none
 * of its excludes. Internal topics ("__*") and strait-mirror's own topics never match;
 * with prefix naming, topics already prefixed "<target alias>." never do (no loops). */
bool st_mflow_topic_selected(const st_mflow_config *f, const char *topic);
/* Same for consumer groups (checkpoints). */
bool st_mflow_group_selected(const st_mflow_config *f, const char *group);
/* The target topic name for a source topic: "<source alias>.<topic>" (prefix) or the same
 * name (identity), into out. Returns 0, or -1 when it does not fit. */
int st_mflow_target_topic(const st_mflow_config *f, const char *topic, char *out, size_t cap);

#endif
