/*
 * straitd: parse the command line, load the config, run the broker until SIGINT or
 * SIGTERM, shut down cleanly.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "broker/broker.h"
#include "common/logging.h"
#include "common/sdnotify.h"

/* A signal handler cannot be handed a context, so the running broker is reachable from
 * here — the one static of straitd, written once before signals are enabled. */
static st_broker *running;

static void on_signal(int sig)
{
    if (running)
        st_broker_stop(running);
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: straitd [-c FILE] [options]\n"
        "\n"
        "Runs one Strait broker, serving the Kafka protocol.\n"
        "\n"
        "  -c, --config FILE      libconfig file (see deploy/config/straitd.cfg);\n"
        "                         without it every setting has its default\n"
        "      --host HOST        listen host (broker.host) [127.0.0.1]\n"
        "      --port N           listen port (broker.port; 0 picks a free one) [9092]\n"
        "      --advertised-port N  the port Metadata tells clients, for a proxy in\n"
        "                         front of the broker (broker.advertised_port) [0: bound port]\n"
        "      --data-dir DIR     where logs live (broker.data_dir) [./data]\n"
        "      --mgmt URL         management endpoint (mgmt.url) [tcp://127.0.0.1:9192]\n"
        "      --survey URL       survey endpoint for the console (mgmt.survey_url)\n"
        "                         [the mgmt url's port + 100, or its ipc path + .survey]\n"
        "      --ready-file PATH  once serving, write \"<port> <mgmt url> PROTOCOL=<port>...\"\n"
        "                         (every listener) to PATH\n"
        "      --log-level LEVEL  debug, info, warn or error [info]\n"
        "      --log-format FMT   text, or json: one JSON object a line (broker.log_format)\n"
        "      --version          print the version and exit\n"
        "  -h, --help             this text\n"
        "\n"
        "Command-line options override the file. SIGINT or SIGTERM shuts down cleanly.\n"
        "Under systemd (Type=notify) it reports READY=1 once its listeners accept.\n");
}

static int write_ready_file(const char *path, const st_broker *b, const char *mgmt)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%d %s", st_broker_port(b), mgmt);
    st_sec_protocol proto;
    int port;
    for (size_t i = 0; (port = st_broker_listener(b, i, &proto)) >= 0; i++)
        fprintf(f, " %s=%d", st_sec_protocol_name(proto), port);
    fputc('\n', f);
    if (fclose(f))
        return -1;
    return rename(tmp, path);
}

/* systemd's Type=notify: READY=1 once the listeners accept, with the ports as status. */
static void notify_ready(const st_broker *b, const st_broker_config *cfg)
{
    char ports[256] = "";
    size_t used = 0;
    st_sec_protocol proto;
    int port;
    for (size_t i = 0; (port = st_broker_listener(b, i, &proto)) >= 0 && used < sizeof ports; i++)
        used += (size_t)snprintf(ports + used, sizeof ports - used, "%s%s=%d", i ? " " : "",
                                 st_sec_protocol_name(proto), port);
    if (st_sd_notifyf("READY=1\nSTATUS=serving Kafka on %s:%d (%s), management on %s",
                      cfg->listen_host, st_broker_port(b), ports, cfg->mgmt_url) < 0)
        st_warn("cannot tell systemd we are ready ($NOTIFY_SOCKET): %s", strerror(errno));
}

int main(int argc, char **argv)
{
    enum {
        O_HOST = 1000,
        O_PORT,
        O_DATA,
        O_MGMT,
        O_READY,
        O_LEVEL,
        O_APORT,
        O_SURVEY,
        O_VERSION,
        O_LFORMAT
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, O_PORT},
        {"data-dir", required_argument, NULL, O_DATA},
        {"mgmt", required_argument, NULL, O_MGMT},
        {"survey", required_argument, NULL, O_SURVEY},
        {"ready-file", required_argument, NULL, O_READY},
        {"log-level", required_argument, NULL, O_LEVEL},
        {"log-format", required_argument, NULL, O_LFORMAT},
        {"advertised-port", required_argument, NULL, O_APORT},
        {"version", no_argument, NULL, O_VERSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *host = NULL, *data = NULL, *mgmt = NULL, *ready = NULL;
    const char *survey = NULL;
    const char *level = NULL, *log_format = NULL;
    long port = -1, advertised_port = -1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case O_HOST:
            host = optarg;
            break;
        case O_PORT: {
            char *end;
            port = strtol(optarg, &end, 10);
            if (*end || port < 0 || port > 65535) {
                fprintf(stderr, "straitd: --port wants 0..65535, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        }
        case O_APORT: {
            char *end;
            advertised_port = strtol(optarg, &end, 10);
            if (*end || advertised_port < 0 || advertised_port > 65535) {
                fprintf(stderr, "straitd: --advertised-port wants 0..65535, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        }
        case O_DATA:
            data = optarg;
            break;
        case O_MGMT:
            mgmt = optarg;
            break;
        case O_SURVEY:
            survey = optarg;
            break;
        case O_READY:
            ready = optarg;
            break;
        case O_LEVEL:
            level = optarg;
            break;
        case O_LFORMAT:
            log_format = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case O_VERSION:
            printf("straitd %s\n", ST_VERSION);
            return 0;
        default:
            fprintf(stderr, "straitd: see straitd --help\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "straitd: unexpected argument \"%s\"; see straitd --help\n", argv[optind]);
        return 2;
    }

    st_broker_config cfg;
    char err[1024];
    st_broker_config_defaults(&cfg);
    if (config && st_broker_config_load(&cfg, config, err, sizeof err)) {
        fprintf(stderr, "straitd: bad config: %s\n", err);
        return 1;
    }
    if (host)
        snprintf(cfg.listen_host, sizeof cfg.listen_host, "%s", host);
    if (port >= 0)
        cfg.port = (int)port;
    /* With broker.listeners set, --host/--port apply to the first listener. */
    if (host && cfg.nlisteners)
        snprintf(cfg.listeners[0].host, sizeof cfg.listeners[0].host, "%s", host);
    if (port >= 0 && cfg.nlisteners)
        cfg.listeners[0].port = (int)port;
    if (advertised_port >= 0)
        cfg.advertised_port = (int)advertised_port;
    if (data)
        snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
    if (mgmt)
        snprintf(cfg.mgmt_url, sizeof cfg.mgmt_url, "%s", mgmt);
    if (survey)
        snprintf(cfg.mgmt_survey_url, sizeof cfg.mgmt_survey_url, "%s", survey);
    if (level)
        snprintf(cfg.log_level, sizeof cfg.log_level, "%s", level);
    int lvl = st_logging_parse_level(cfg.log_level);
    if (lvl < 0) {
        fprintf(stderr, "straitd: log level must be debug, info, warn or error, not \"%s\"\n",
                cfg.log_level);
        return 2;
    }
    if (log_format)
        snprintf(cfg.log_format, sizeof cfg.log_format, "%.7s", log_format);
    int fmt = st_logging_parse_format(log_format ? log_format : cfg.log_format);
    if (fmt < 0) {
        fprintf(stderr, "straitd: log format must be text or json, not \"%s\"\n", log_format);
        return 2;
    }
    st_logging_setup((enum st_log_level)lvl, stderr);
    st_logging_set_format((enum st_log_format)fmt, "straitd");

    /* A client vanishing mid-sendfile must be an EPIPE, not a dead broker. */
    signal(SIGPIPE, SIG_IGN);
    /* Every active segment holds three fds and every connection one: take the hard
     * limit rather than the usual soft 1024. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl))
            st_warn("cannot raise the open-file limit: %s", strerror(errno));
    }
    st_broker *b = st_broker_new(&cfg, err, sizeof err);
    if (!b) {
        st_error("cannot start: %s", err);
        return 1;
    }
    running = b;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (ready && write_ready_file(ready, b, cfg.mgmt_url)) {
        st_error("cannot write the ready file %s: %s", ready, strerror(errno));
        st_broker_free(b);
        return 1;
    }
    notify_ready(b, &cfg);
    st_broker_run(b);
    st_sd_notify("STOPPING=1");
    running = NULL;
    st_broker_free(b);
    st_info("stopped cleanly");
    return 0;
}
