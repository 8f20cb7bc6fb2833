/*
 * strait-console: the live websocket admin console for the whole estate. Loads the
 * config, makes the first admin on a first start, starts the survey thread, the worker
 * pools and the audit writer, then serves HTTP and the websocket on one libwebsockets
 * loop until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin-ui/console.h"
#include "admin-ui/users.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/logging.h"
#include "common/sdnotify.h"

#ifndef ST_CONSOLE_WEB_DIR
#define ST_CONSOLE_WEB_DIR "admin-ui/web"
#endif

#define ACTION_THREADS    4
#define ACTION_QUEUE      64
#define LOGIN_THREADS     2
#define LOGIN_QUEUE       ST_LOGIN_MAX_PENDING
#define SESSIONS_PER_USER 16 /* logins (browsers, devices) one user keeps at once */

/* A signal handler cannot be handed a context: the running console, written once before
 * signals are enabled (as straitd's main.c). */
static st_console *running;

static void on_signal(int sig)
{
    if (running) {
        running->stopping = 1;
        lws_cancel_service(running->lws);
    }
}

static void wake_loop(void *arg)
{
    st_console *c = arg;
    lws_cancel_service(c->lws);
}

static void lws_log(int level, const char *line)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", line);
    copy[strcspn(copy, "\r\n")] = '\0';
    if (level & LLL_ERR)
        st_error("libwebsockets: %s", copy);
    else
        st_warn("libwebsockets: %s", copy);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: strait-console -c FILE [options]\n"
                 "       strait-console --hash-password   (reads a password on stdin)\n"
                 "\n"
                 "Serves the live admin console for the brokers and mirrors FILE names\n"
                 "(see docs/console.md and deploy/config/strait-console.cfg).\n"
                 "\n"
                 "  -c, --config FILE      libconfig file (required)\n"
                 "      --port N           HTTP port (console.port; 0 picks a free one) [8080]\n"
                 "      --listen HOST      listen address (console.listen) [127.0.0.1]\n"
                 "      --state-dir DIR    users file and audit log (console.state_dir)\n"
                 "                         [./console-state]\n"
                 "      --ready-file PATH  once serving, write \"<port>\\n\" to PATH\n"
                 "      --log-level LEVEL  debug, info, warn or error [info]\n"
                 "      --hash-password    print a password_hash for a users entry and exit\n"
                 "      --version          print the version and exit\n"
                 "  -h, --help             this text\n"
                 "\n"
                 "At the first start with no users, a user \"admin\" is created with a random\n"
                 "password that is printed once. SIGINT or SIGTERM stops cleanly.\n");
}

static int hash_password(void)
{
    char pw[256], hash[ST_USERS_HASH_MAX], err[256];
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    char *got = fgets(pw, sizeof pw, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fprintf(stderr, "\n");
    }
    if (!got) {
        fprintf(stderr, "strait-console: no password on stdin\n");
        return 2;
    }
    pw[strcspn(pw, "\r\n")] = '\0';
    if (strlen(pw) < 8) {
        fprintf(stderr, "strait-console: a password needs at least 8 characters\n");
        return 2;
    }
    int rc = st_users_hash(pw, ST_USERS_ITERATIONS, hash, sizeof hash, err, sizeof err);
    OPENSSL_cleanse(pw, sizeof pw);
    if (rc) {
        fprintf(stderr, "strait-console: %s\n", err);
        return 1;
    }
    printf("%s\n", hash);
    return 0;
}

/* Users: those of the config, the users file's, or a fresh admin on the first start. */
static int setup_users(st_con_config *cfg, char *err, size_t errlen)
{
    char password[64];
    if (st_con_config_load_users(cfg, cfg->users_file, err, errlen) < 0)
        return -1;
    int rc = st_users_first_start(cfg, cfg->users_file, password, sizeof password, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        printf("strait-console: first start: created user \"admin\" with password %s\n"
               "strait-console: it is shown this once; its hash is in %s\n",
               password, cfg->users_file);
        fflush(stdout);
        OPENSSL_cleanse(password, sizeof password);
    }
    return 0;
}

static int write_ready_file(const char *path, int port)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f))
        return -1;
    return rename(tmp, path);
}

static const struct lws_protocols protocols[] = {
    {"http", st_http_callback, 0, 0, 0, NULL, 0},
    {"strait-console", st_ws_callback, 0, ST_WS_MAX_MESSAGE, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const lws_retry_bo_t keepalive = {
    .secs_since_valid_ping = 30,
    .secs_since_valid_hangup = 60,
};

static int serve(st_console *c, const char *ready, char *err, size_t errlen)
{
    struct lws_protocols protos[3];
    memcpy(protos, protocols, sizeof protos);
    protos[0].per_session_data_size = st_http_pss_size();
    protos[1].per_session_data_size = st_ws_pss_size();

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                   LWS_SERVER_OPTION_DISABLE_IPV6;
    if (c->tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = c;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    info.max_http_header_data = 8192;
    c->lws = lws_create_context(&info);
    if (!c->lws) {
        snprintf(err, errlen, "cannot create the libwebsockets context");
        return -1;
    }
    info.port = c->cfg->port;
    info.iface = c->cfg->listen_host;
    info.protocols = protos;
    info.vhost_name = "strait-console";
    info.retry_and_idle_policy = &keepalive;
    info.timeout_secs = 20;
    if (c->tls) {
        info.ssl_cert_filepath = c->cfg->tls_certificate;
        info.ssl_private_key_filepath = c->cfg->tls_key;
        info.alpn = "http/1.1";
    }
    struct lws_vhost *vh = lws_create_vhost(c->lws, &info);
    if (!vh) {
        snprintf(err, errlen, "cannot listen on %s:%d (taken, or a bad TLS certificate?)",
                 c->cfg->listen_host, c->cfg->port);
        return -1;
    }
    int port = lws_get_vhost_listen_port(vh);
    c->bus = st_bus_start(c->cfg, wake_loop, c, err, errlen);
    if (!c->bus)
        return -1;
    running = c;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    st_info("strait-console on %s://%s:%d, surveying %zu daemon%s in %zu cluster%s",
            c->tls ? "https" : "http", c->cfg->listen_host, port, c->cfg->ndaemons,
            c->cfg->ndaemons == 1 ? "" : "s", c->cfg->nclusters, c->cfg->nclusters == 1 ? "" : "s");
    if (ready && write_ready_file(ready, port)) {
        snprintf(err, errlen, "cannot write the ready file %s: %s", ready, strerror(errno));
        return -1;
    }
    /* systemd's Type=notify (deploy/systemd/strait-console.service) */
    if (st_sd_notifyf("READY=1\nSTATUS=serving %s://%s:%d", c->tls ? "https" : "http",
                      c->cfg->listen_host, port) < 0)
        st_warn("cannot tell systemd we are ready ($NOTIFY_SOCKET): %s", strerror(errno));
    while (!c->stopping)
        if (lws_service(c->lws, 0) < 0)
            break;
    st_sd_notify("STOPPING=1");
    st_info("stopping");
    return 0;
}

int main(int argc, char **argv)
{
    enum { O_PORT = 1000, O_LISTEN, O_STATE, O_READY, O_LEVEL, O_HASH, O_VERSION };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"port", required_argument, NULL, O_PORT},
        {"listen", required_argument, NULL, O_LISTEN},
        {"state-dir", required_argument, NULL, O_STATE},
        {"ready-file", required_argument, NULL, O_READY},
        {"log-level", required_argument, NULL, O_LEVEL},
        {"hash-password", no_argument, NULL, O_HASH},
        {"version", no_argument, NULL, O_VERSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *listen_host = NULL, *state = NULL, *ready = NULL, *level = NULL;
    long port = -1;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case O_PORT: {
            char *end;
            port = strtol(optarg, &end, 10);
            if (*end || port < 0 || port > 65535) {
                fprintf(stderr, "strait-console: --port wants 0..65535, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        }
        case O_LISTEN:
            listen_host = optarg;
            break;
        case O_STATE:
            state = optarg;
            break;
        case O_READY:
            ready = optarg;
            break;
        case O_LEVEL:
            level = optarg;
            break;
        case O_HASH:
            return hash_password();
        case O_VERSION:
            printf("strait-console %s (libwebsockets %s)\n", ST_VERSION, lws_get_library_version());
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "strait-console: see strait-console --help\n");
            return 2;
        }
    }
    if (optind < argc || !config) {
        fprintf(stderr,
                optind < argc ? "strait-console: unexpected argument \"%s\"; see --help\n"
                              : "strait-console: no config: pass -c FILE%s; see --help\n",
                optind < argc ? argv[optind] : "");
        return 2;
    }

    st_console *c = calloc(1, sizeof *c);
    st_con_config *cfg = malloc(sizeof *cfg);
    char err[1024];
    int rc = 1;
    if (!c || !cfg) {
        fprintf(stderr, "strait-console: out of memory\n");
        return 1;
    }
    c->cfg = cfg;
    st_con_config_defaults(cfg);
    if (st_con_config_load(cfg, config, err, sizeof err)) {
        fprintf(stderr, "strait-console: bad config: %s\n", err);
        goto out;
    }
    if (port >= 0)
        cfg->port = (int)port;
    if (listen_host)
        snprintf(cfg->listen_host, sizeof cfg->listen_host, "%s", listen_host);
    if (state)
        snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s", state);
    if (level)
        snprintf(cfg->log_level, sizeof cfg->log_level, "%s", level);
    if (!cfg->users_file[0])
        snprintf(cfg->users_file, sizeof cfg->users_file, "%.3800s/users.cfg", cfg->state_dir);
    if (!cfg->audit_log[0])
        snprintf(cfg->audit_log, sizeof cfg->audit_log, "%.3800s/audit.log", cfg->state_dir);
    if (!cfg->web_root[0])
        snprintf(cfg->web_root, sizeof cfg->web_root, "%s", ST_CONSOLE_WEB_DIR);
    int lvl = st_logging_parse_level(cfg->log_level);
    if (lvl < 0) {
        fprintf(stderr,
                "strait-console: log level must be debug, info, warn or error, not "
                "\"%s\"\n",
                cfg->log_level);
        rc = 2;
        goto out;
    }
    st_logging_setup((enum st_log_level)lvl, stderr);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    signal(SIGPIPE, SIG_IGN);
    c->tls = cfg->tls_certificate[0] != 0;

    if (st_mkdir_p(cfg->state_dir, 0700, err, sizeof err) || setup_users(cfg, err, sizeof err) ||
        st_users_hash("not a password", ST_USERS_ITERATIONS, c->dummy_hash, sizeof c->dummy_hash,
                      err, sizeof err) ||
        !(c->audit = st_audit_open(cfg->audit_log, err, sizeof err)) ||
        st_http_load_files(c, cfg->web_root, err, sizeof err)) {
        st_error("cannot start: %s", err);
        goto out;
    }
    c->model = st_model_new(cfg);
    c->sessions = st_sessions_new(ST_CON_MAX_USERS * SESSIONS_PER_USER, SESSIONS_PER_USER,
                                  (int64_t)cfg->session_hours * 3600 * 1000);
    if (!c->model || !c->sessions) {
        st_error("cannot start: out of memory");
        goto out;
    }
    c->jobs = st_jobs_new(ACTION_THREADS, ACTION_QUEUE, wake_loop, c, err, sizeof err);
    c->login_jobs =
        c->jobs ? st_jobs_new(LOGIN_THREADS, LOGIN_QUEUE, wake_loop, c, err, sizeof err) : NULL;
    if (!c->jobs || !c->login_jobs) {
        st_error("cannot start: %s", err);
        goto out;
    }
    if (serve(c, ready, err, sizeof err)) {
        st_error("cannot start: %s", err);
        goto out;
    }
    rc = 0;
out:
    c->stopping = 1;
    st_bus_stop(c->bus);
    c->bus = NULL;
    st_jobs_free(c->jobs, c);
    st_jobs_free(c->login_jobs, c);
    c->jobs = c->login_jobs = NULL;
    if (c->lws)
        lws_context_destroy(c->lws);
    running = NULL;
    if (c->model)
        st_ws_free(c);
    st_model_free(c->model);
    st_sessions_free(c->sessions);
    st_http_free_files(c);
    st_audit_close(c->audit);
    free(c->metrics_text);
    free(cfg);
    free(c);
    if (rc == 0)
        st_info("stopped cleanly");
    return rc;
}
