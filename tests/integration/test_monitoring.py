"""The Prometheus rules and scrape configurations the project ships (monitoring/): valid
for Debian's promtool, their alerts firing as their unit tests say, and naming only
metrics the services expose, jobs the deployments have."""
from __future__ import annotations

import re
import shutil
import subprocess

import yaml

from msatom.bootstrap import SERVICES
from msatom.monitoring import MONITORING, RULES, prometheus_config
from tests.conftest import missing
from tests.integration.test_deployment_files import compose

# A metric a rule reads: not a recording rule's name (job:...:...), which holds one.
READ_METRIC = re.compile(r"(?<![:\w])msatom_[a-z0-9_]+")
SERIES_SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def promtool(*args: str) -> subprocess.CompletedProcess:
    path = shutil.which("promtool")
    if path is None:
        missing("promtool is not installed (Debian package prometheus)")
    return subprocess.run([str(path), *args], cwd=MONITORING, capture_output=True, text=True, timeout=60)


def test_the_rules_are_valid_and_their_alerts_fire_as_their_unit_tests_say():
    checked, tested = promtool("check", "rules", "rules.yml"), promtool("test", "rules", "rules-test.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert tested.returncode == 0, tested.stdout + tested.stderr
    alerts = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
              if "alert" in rule}
    tests = (MONITORING / "rules-test.yml").read_text()
    assert {alert for alert in alerts if f"alertname: {alert}\n" not in tests} == set(), "every alert unit-tested"


def test_the_rules_read_only_metrics_the_services_expose(make_app, settings_for):
    exposed = set()
    for service in SERVICES:
        client = make_app(service, settings_for(service)).test_client()
        client.get("/health")  # a request counted
        exposed |= {line.split()[2] for line in client.get("/metrics").get_data(as_text=True).splitlines()
                    if line.startswith("# TYPE ")}
    read = set(READ_METRIC.findall(RULES.read_text()))

    unknown = {name for name in read
               if not any(name.removesuffix(suffix) in exposed for suffix in ("", *SERIES_SUFFIXES))}
    assert read and unknown == set()


def test_compose_and_the_stack_are_scraped_with_the_rules_a_job_per_service_a_target_per_replica(tmp_path):
    shipped = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    stack_file = tmp_path / "prometheus.yml"
    stack_file.write_text(prometheus_config({"account": ["127.0.0.1:8001"], "order": ["127.0.0.1:8002", "127.0.0.1:8003"],
                                             "invoicing": ["127.0.0.1:8004"], "shipping": ["127.0.0.1:8005"]}))
    replicas = {service: sorted(f"{name}:8080" for name, container in compose()["services"].items()
                                if container.get("command", [""])[-1] == f"msatom.wsgi:{service}()")
                for service in SERVICES}

    for config in (shipped, yaml.safe_load(stack_file.read_text())):
        assert [job["job_name"] for job in config["scrape_configs"]] == list(SERVICES)
        assert config["rule_files"][0].endswith("rules.yml")
    assert {job["job_name"]: sorted(job["static_configs"][0]["targets"]) for job in shipped["scrape_configs"]} == replicas
    for path in (MONITORING / "prometheus.yml", stack_file):
        checked = promtool("check", "config", str(path))
        assert checked.returncode == 0, checked.stdout + checked.stderr
