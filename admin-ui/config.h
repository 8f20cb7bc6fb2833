/*
 * strait-console's configuration file (libconfig; deploy/config/strait-console.cfg
 * documents every setting):
 *
 *   console = { listen = "127.0.0.1"; port = 8080; state_dir = "./console-state";
 *               web_root = ""; users_file = ""; audit_log = ""; origins = [];
 *               tls_certificate = ""; tls_key = ""; session_hours = 12;
 *               login_failure_delay_ms = 1000; survey_deadline_ms = 600;
 *               metrics_token = ""; log_level = "info"; };
 *   clusters = (
 *     { name = "dc1";
 *       brokers = ( { name = "b0"; mgmt = "tcp://127.0.0.1:9192"; survey = "";
 *                     token = ""; token_file = "./data/meta/mgmt.token"; } );
 *       mirrors = ( { name = "m0"; mgmt = "tcp://127.0.0.1:9193"; token_file = "..."; } );
 *     } );
 *   users = ( { name = "alice"; role = "admin"; password_hash = "pbkdf2-sha256$..."; },
 *             { name = "acme-ops"; role = "tenant"; tenant = "acme"; password_hash = "..."; } );
 *
 * Errors are "file:line: reason"; unknown settings and wrong types are errors.
 */
#ifndef ST_CONSOLE_CONFIG_H
#define ST_CONSOLE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define ST_CON_MAX_CLUSTERS 32
#define ST_CON_MAX_DAEMONS  64
#define ST_CON_MAX_USERS    256
#define ST_CON_MAX_ORIGINS  8
#define ST_CON_NAME_MAX     64

typedef enum st_role {
    ST_ROLE_ADMIN = 0,
    ST_ROLE_OPERATOR = 1,
    ST_ROLE_TENANT = 2,
} st_role;

#define ST_ROLE_BIT(r) (1u << (r))

/* "admin", "operator", "tenant"; static. */
const char *st_role_name(st_role r);

typedef enum st_daemon_kind {
    ST_DAEMON_BROKER = 0,
    ST_DAEMON_MIRROR = 1,
} st_daemon_kind;

typedef struct st_con_user {
    char name[ST_CON_NAME_MAX];
    st_role role;
    char tenant[256]; /* role tenant only */
    char password_hash[256];
} st_con_user;

typedef struct st_con_daemon {
    st_daemon_kind kind;
    char cluster[ST_CON_NAME_MAX];
    char name[ST_CON_NAME_MAX];
    char id[2 * ST_CON_NAME_MAX + 2]; /* "cluster/name": how views and actions name it */
    char mgmt_url[256];
    char survey_url[256]; /* derived from mgmt_url when not set (common/mgmt.h) */
    char token[256];      /* the token, or "" to read token_file */
    char token_file[PATH_MAX];
} st_con_daemon;

typedef struct st_con_config {
    char listen_host[256];
    int port;
    char state_dir[PATH_MAX];
    char web_root[PATH_MAX];   /* "": the compiled-in admin-ui/web */
    char users_file[PATH_MAX]; /* "": <state_dir>/users.cfg */
    char audit_log[PATH_MAX];  /* "": <state_dir>/audit.log */
    char origins[ST_CON_MAX_ORIGINS][256];
    size_t norigins;
    char tls_certificate[PATH_MAX];
    char tls_key[PATH_MAX];
    int session_hours;
    int login_failure_delay_ms;
    int survey_deadline_ms;
    char metrics_token[256];
    char log_level[16];
    char clusters[ST_CON_MAX_CLUSTERS][ST_CON_NAME_MAX];
    size_t nclusters;
    st_con_daemon daemons[ST_CON_MAX_DAEMONS];
    size_t ndaemons;
    st_con_user users[ST_CON_MAX_USERS];
    size_t nusers;
} st_con_config;

/* Every setting's default; no clusters, no users. */
void st_con_config_defaults(st_con_config *cfg);

/* Loads path over the defaults. 0, or -1 with err "path:line: reason". */
int st_con_config_load(st_con_config *cfg, const char *path, char *err, size_t errlen);

/* Adds the users of a users file ("users = ( ... );", the same entries as the main
 * config's). 1 when the file does not exist, 0, or -1 with err. */
int st_con_config_load_users(st_con_config *cfg, const char *path, char *err, size_t errlen);

/* The user named `name`, or NULL. Borrowed from cfg. */
const st_con_user *st_con_config_user(const st_con_config *cfg, const char *name);

/* The daemon with id "cluster/name", or NULL. Borrowed from cfg. */
const st_con_daemon *st_con_config_daemon(const st_con_config *cfg, const char *id);

/* Reads a daemon's token (d->token, else the first line of d->token_file) into out.
 * 0, or -1 with err saying what to fix. Blocking (a file read): not on the event loop. */
int st_con_daemon_token(const st_con_daemon *d, char *out, size_t cap, char *err, size_t errlen);

#endif
