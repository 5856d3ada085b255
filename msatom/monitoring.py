"""Prometheus's configuration for a stack on one machine (`msatom stack`): the jobs of
monitoring/prometheus.yml, each service's replicas at their loopback ports, and the
project's rules. Written as JSON, which Prometheus reads as the YAML it is."""
from __future__ import annotations

import json
from pathlib import Path

MONITORING = Path(__file__).resolve().parents[1] / "monitoring"
RULES = MONITORING / "rules.yml"
# As monitoring/prometheus.yml has them.
INTERVALS = {"scrape_interval": "15s", "evaluation_interval": "15s"}


def prometheus_config(targets: dict[str, list[str]]) -> str:
    """The configuration that scrapes each service (a job) at its `targets` (host:port)."""
    return json.dumps({"global": INTERVALS, "rule_files": [str(RULES)],
                       "scrape_configs": [{"job_name": service, "static_configs": [{"targets": addresses}]}
                                          for service, addresses in targets.items()]}, indent=2)
