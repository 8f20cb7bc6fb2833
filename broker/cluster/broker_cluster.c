/*
 * straitd's side of cluster mode: builds st_cluster's config from the broker's (the
 * advertised endpoint of every listener) and waits for the first registration at start.
 * Without cluster.zookeeper nothing here runs (the embedded single broker).
 */
#include <stdio.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/cluster/cluster.h"
#include "broker/shard.h"
#include "common/logging.h"

int st_broker_cluster_open(st_broker *b, char *err, size_t errlen)
{
    const st_broker_config *cfg = &b->cfg;
    if (!cfg->zookeeper[0])
        return 0;
    st_cluster_config cc = {.zookeeper = cfg->zookeeper,
                            .session_timeout_ms = cfg->zookeeper_session_timeout_ms,
                            .connect_timeout_ms = cfg->zookeeper_connect_timeout_ms,
                            .broker_id = cfg->node_id,
                            .rack = cfg->rack,
                            .loop = st_shard_main(b)->loop};
    for (size_t i = 0; i < cfg->nlisteners && cc.nendpoints < ST_ZK_MAX_ENDPOINTS; i++) {
        st_zk_endpoint *ep = &cc.endpoints[cc.nendpoints++];
        const char *proto = st_sec_protocol_name(cfg->listeners[i].protocol);
        snprintf(ep->listener, sizeof ep->listener, "%s", proto);
        snprintf(ep->security_protocol, sizeof ep->security_protocol, "%s", proto);
        snprintf(ep->host, sizeof ep->host, "%s",
                 cfg->advertised_host[0] ? cfg->advertised_host : cfg->listeners[i].host);
        ep->port =
            i == 0 && cfg->advertised_port ? cfg->advertised_port : st_broker_listener(b, i, NULL);
    }
    if (!(b->cluster = st_cluster_start(&cc, err, errlen)))
        return -1;
    st_info("cluster mode: joining ZooKeeper at %s as broker %d%s%s", cfg->zookeeper, cfg->node_id,
            cfg->rack[0] ? " in rack " : "", cfg->rack);
    if (st_cluster_wait_registered(b->cluster, err, errlen))
        return -1;
    /* One cluster id for every broker: ZooKeeper's, as Metadata reports it. One set in
     * the file must agree (Kafka refuses a broker of another cluster the same way). */
    if (st_broker_config_is_set(cfg, "broker.cluster_id") &&
        strcmp(cfg->cluster_id, st_cluster_id(b->cluster)) != 0) {
        snprintf(err, errlen,
                 "broker.cluster_id \"%s\" is not this ZooKeeper's cluster (/cluster/id is "
                 "\"%s\"): remove broker.cluster_id, or point cluster.zookeeper at its cluster",
                 cfg->cluster_id, st_cluster_id(b->cluster));
        return -1;
    }
    snprintf(b->cfg.cluster_id, sizeof b->cfg.cluster_id, "%s", st_cluster_id(b->cluster));
    return 0;
}

void st_broker_cluster_close(st_broker *b)
{
    st_cluster_free(b->cluster);
    b->cluster = NULL;
}
