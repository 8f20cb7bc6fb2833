#!/usr/bin/python3
"""GET /metrics of a running console parsed by the Prometheus Python client's own
text-format parser (Debian python3-prometheus-client), as a scraper would, then checked
against what tests/ui did: the estate up, acme's producer bytes and throttle counted, the
mirror flow known; and that without the token the console refuses. Usage:
check_metrics.py URL TOKEN (console.metrics_token)"""
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

url, token = sys.argv[1], sys.argv[2]
try:
    urllib.request.urlopen(url + "/metrics", timeout=10)
    sys.exit("check_metrics: GET /metrics without the token answered 200")
except urllib.error.HTTPError as e:
    if e.code != 401:
        sys.exit(f"check_metrics: GET /metrics without the token: HTTP {e.code}, expected 401")
req = urllib.request.Request(url + "/metrics", headers={"Authorization": "Bearer " + token})
with urllib.request.urlopen(req, timeout=10) as res:
    ctype = res.headers.get("Content-Type", "")
    text = res.read().decode("utf-8")
if not ctype.startswith("text/plain; version=0.0.4"):
    sys.exit(f"check_metrics: Content-Type {ctype!r}, expected text/plain; version=0.0.4")

families = {}
for fam in text_string_to_metric_families(text):  # raises on malformed exposition
    if fam.name in families:
        sys.exit(f"check_metrics: family {fam.name} appears twice (its lines are not grouped)")
    families[fam.name] = fam


def value(family, **labels):
    for s in families[family].samples:
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    sys.exit(f"check_metrics: no {family} sample with {labels}")


checks = [
    (value("strait_up", cluster="dc1", broker="b0", kind="broker") == 1, "dc1/b0 up"),
    (value("strait_up", cluster="dc1", mirror="m0", kind="mirror") == 1, "dc1/m0 up"),
    (value("strait_topic_received_bytes", cluster="dc1", broker="b0", topic="acme.quota") > 1e6,
     "acme.quota's produced bytes counted"),
    (value("strait_tenant_throttle_seconds", cluster="dc1", broker="b0", tenant="acme") > 0,
     "acme's throttle time counted"),
    (value("strait_quota", cluster="dc1", broker="b0", tenant="acme", key="producer_byte_rate")
     == 1048576, "the quota set in the UI"),
    (value("strait_partition_end_offset", cluster="dc1", broker="b0", topic="orders",
           partition="0") >= 28, "orders' end offset"),
    ("strait_mirror_flow_lag_records" in families, "the mirror flow family"),
]
for ok, what in checks:
    if not ok:
        sys.exit(f"check_metrics: wrong: {what}")
print(f"check_metrics: {len(families)} families, {sum(len(f.samples) for f in families.values())} "
      f"samples parsed by prometheus_client; {len(checks)} checks hold")
