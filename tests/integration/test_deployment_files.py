"""The files an operator deploys with: docker-compose.yml, the Dockerfiles and
Apache's configuration, checked by the real tools (no Docker engine needed)."""
from __future__ import annotations

import os
import re
import subprocess
from ipaddress import ip_address, ip_network
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from common.settings import JWKS_PATH, Settings
from common.web.errors import TOO_LARGE
from msatom import apache_errors
from msatom.bootstrap import SERVICES
from msatom.stack import PROXY_SOURCE, MissingProgram, check_apache_config
from tests.conftest import missing, require_program

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
APACHE = ROOT / "apache"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


SECRETS = ("SECRET_KEY", "SIGNING_KEY", "POSTGRES_PASSWORD", "ACCOUNT_DB_PASSWORD", "ORDER_DB_PASSWORD",
           "INVOICING_DB_PASSWORD", "SHIPPING_DB_PASSWORD")


def every_secret(**but: str | None) -> dict[str, str]:
    """A value for each secret the compose file needs, but those in `but` (None: left out)."""
    given = {name: f"{name.lower()}-0123456789abcdef0123456789abcdef" for name in SECRETS}
    given.update(but)
    return {name: value for name, value in given.items() if value is not None}


def docker_compose(tmp_path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    """docker-compose on our file with only `settings` of ours (no secret, no .env of the developer's)."""
    program = require_program("docker-compose")
    empty = tmp_path / "empty.env"
    empty.write_text("")
    env = {name: value for name, value in os.environ.items() if name not in SECRETS}
    return subprocess.run([program, "--env-file", str(empty), "-f", str(COMPOSE), *args], capture_output=True,
                          text=True, cwd=ROOT, env={**env, **settings})


def test_docker_compose_accepts_the_file(tmp_path):
    result = docker_compose(tmp_path, "config", "-q", **every_secret())
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("secret", SECRETS)
def test_docker_compose_refuses_to_start_without_each_secret(tmp_path, secret):
    without = docker_compose(tmp_path, "config", "-q", **every_secret(**{secret: None}))

    assert without.returncode != 0
    assert f"Set {secret}" in without.stderr


CREDENTIALS = {"INVOICING_ORDER_CREDENTIAL": "invoicing-order-token", "SHIPPING_ORDER_CREDENTIAL": "shipping-order-token",
               **{f"{name}_ACCOUNT_CREDENTIAL": f"{name.lower()}-account-token"
                  for name in ("ORDER", "INVOICING", "SHIPPING")}}


def configured_services(tmp_path) -> dict:
    """The services as docker-compose makes them of our file, given every secret and credential."""
    return yaml.safe_load(docker_compose(tmp_path, "config", **every_secret(), **CREDENTIALS).stdout)["services"]


def test_docker_compose_gives_the_secrets_to_the_services_that_need_them(tmp_path):
    secrets = every_secret()
    services = configured_services(tmp_path)

    assert {name: services[name]["environment"]["SECRET_KEY"] for name in SERVICES} == \
        dict.fromkeys(SERVICES, secrets["SECRET_KEY"])
    for name in SERVICES:
        password = secrets[f"{name.upper()}_DB_PASSWORD"]
        assert f"{name}:{password}@postgres" in services[name]["environment"]["DATABASE_URL"]
        assert services["postgres"]["environment"][f"{name.upper()}_DB_PASSWORD"] == password
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == secrets["POSTGRES_PASSWORD"]
    assert {name: services[name]["environment"]["ORDER_CREDENTIAL"] for name in ("invoicing", "shipping")} == \
        {"invoicing": "invoicing-order-token", "shipping": "shipping-order-token"}
    assert all("ORDER_CREDENTIAL" not in services[name]["environment"] for name in ("account", "order"))


def test_the_private_signing_key_is_the_account_services_alone(tmp_path):
    services = configured_services(tmp_path)
    holding = {name for name, service in services.items()
               if every_secret()["SIGNING_KEY"] in str(service.get("environment", {}))}

    assert holding == {"account"}
    assert services["account"]["environment"]["SIGNING_KEY"] == every_secret()["SIGNING_KEY"]
    assert "SIGNING_PUBLIC_KEYS" not in services["account"]["environment"]


def test_the_other_services_fetch_the_public_keys_and_show_credentials_of_their_own(tmp_path):
    services = configured_services(tmp_path)
    others = [name for name in services if name.startswith(tuple(set(SERVICES) - {"account"}))]

    assert sorted(others) == ["invoicing", "order", "order-2", "shipping"]
    for name in others:
        environment = services[name]["environment"]
        assert environment["SIGNING_PUBLIC_KEYS"] == f"{environment['ACCOUNT_URL']}{JWKS_PATH}", name
        assert urlsplit(environment["ACCOUNT_URL"]).hostname == "account"
        assert environment["ACCOUNT_CREDENTIAL"] == f"{name.split('-')[0]}-account-token", name
        assert services[name]["depends_on"]["account"]["condition"] == "service_healthy", name


def test_every_build_context_dockerfile_and_mounted_file_exists():
    for name, service in compose()["services"].items():
        build = service.get("build")
        if build is not None:
            context = ROOT / (build if isinstance(build, str) else build["context"])
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            assert (context / dockerfile).is_file(), f"{name}: {context / dockerfile}"
            for source in copied_sources(context / dockerfile):
                assert (context / source).exists(), f"{name}: COPY {source}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source}"


def test_the_services_wait_for_healthy_dependencies_and_restart():
    services = compose()["services"]
    for name in ("postgres", "order", "invoicing", "shipping"):
        assert "healthcheck" in services[name], name
    for name in ("order", "invoicing", "shipping", "apache"):
        assert services[name]["restart"] == "unless-stopped"
        assert all(dependency["condition"] == "service_healthy"
                   for dependency in services[name]["depends_on"].values()), name
    assert services["apache"]["ports"] == ["8080:8080"]
    assert [services[n]["command"][-1] for n in ("order", "invoicing", "shipping")] == [
        "msatom.wsgi:order()", "msatom.wsgi:invoicing()", "msatom.wsgi:shipping()"]


def test_the_services_believe_forwarded_headers_from_apache_alone():
    config = compose()
    services = config["services"]
    apache = ip_address(services["apache"]["networks"]["default"]["ipv4_address"])
    pools = config["networks"]["default"]["ipam"]["config"]

    assert any(apache in ip_network(pool["subnet"]) for pool in pools)
    assert all("ip_range" in pool and apache not in ip_network(pool["ip_range"]) for pool in pools), \
        "another container could be given Apache's address"
    for name in ("order", "order-2", "invoicing", "shipping"):
        assert set(services[name].get("networks", ["default"])) == {"default"}, name  # with Apache
        trusted = services[name]["environment"]["TRUSTED_PROXIES"]
        assert Settings.from_env(name, {"TRUSTED_PROXIES": trusted}).trusted_proxies == (ip_network(apache),)


@pytest.mark.parametrize("proxy_source", [None, PROXY_SOURCE], ids=["system's source address", "ProxySourceAddress"])
def test_apache_accepts_its_configuration(tmp_path, proxy_source):
    try:
        result = check_apache_config(tmp_path, proxy_source)
    except MissingProgram as error:
        missing(str(error))
    assert result.returncode == 0, result.stderr
    assert "Syntax OK" in result.stderr


def balancers(tmp_path, *services: str, **settings: str) -> subprocess.CompletedProcess:
    """apache/balancers.sh for `services` with only `settings` of ours."""
    env = {name: value for name, value in os.environ.items() if not re.match(r"[A-Z]+_URLS?$", name)}
    return subprocess.run(["sh", str(APACHE / "balancers.sh"), str(tmp_path / "balancers.conf"), *services],
                          env={**env, **settings}, capture_output=True, text=True)


def test_apaches_balancers_have_a_member_per_replica_named(tmp_path):
    result = balancers(tmp_path, "order", "invoicing", ORDER_URLS="http://order-1:8080  http://order-2:8080",
                       INVOICING_URL="http://invoicing:8080")

    assert result.returncode == 0, result.stderr
    written = (tmp_path / "balancers.conf").read_text()
    members = dict(re.findall(r'<Proxy "balancer://(\w+)">\n((?:  BalancerMember .*\n)+)</Proxy>', written))
    assert {name: re.findall(r'BalancerMember "(\S+)"', lines) for name, lines in members.items()} == {
        "order": ["http://order-1:8080", "http://order-2:8080"], "invoicing": ["http://invoicing:8080"]}


def test_apaches_balancers_name_the_setting_missing(tmp_path):
    result = balancers(tmp_path, "shipping")

    assert result.returncode == 2
    assert "set SHIPPING_URLS or SHIPPING_URL" in result.stderr


def test_apaches_error_documents_are_those_msatom_apache_errors_writes():
    """Both images serve them: the Apache image copies apache/htdocs/ whole."""
    documents = re.findall(r"^\s*ErrorDocument (\d{3}) (\S+)$", (APACHE / "httpd.conf").read_text(), re.M)
    written = {path.name: path.read_text() for path in apache_errors.FOLDER.iterdir()}

    assert sorted(path for _, path in documents) == sorted(f"/error/{name}" for name in apache_errors.documents())
    assert written == apache_errors.documents(), "run .venv/bin/python -m msatom.apache_errors"
    assert {403, 404, 413, 502, 503, 504} <= set(apache_errors.SENTENCES)
    assert apache_errors.SENTENCES[413] == TOO_LARGE
    assert "COPY apache/htdocs/ " in (APACHE / "Dockerfile").read_text()


def test_apache_balances_over_both_order_replicas_which_the_consumers_follow_by_one_name():
    services = compose()["services"]
    replicas = {name: service for name, service in services.items()
                if service.get("command", [""])[-1] == "msatom.wsgi:order()"}
    aliases = {name: set(service["networks"]["default"]["aliases"]) for name, service in replicas.items()}

    assert sorted(replicas) == ["order", "order-2"]
    assert replicas["order"] | {"networks": None} == replicas["order-2"] | {"networks": None}, "the same but the name"
    members = {urlsplit(url).hostname for url in services["apache"]["environment"]["ORDER_URLS"].split()}
    assert len(members) == 2
    assert [len(names & members) for names in aliases.values()] == [1, 1], "each replica a member by a name of its own"
    assert all(name == "order" or "order" in names for name, names in aliases.items()), "each answers to order"
    for consumer in ("invoicing", "shipping"):
        assert urlsplit(services[consumer]["environment"]["ORDER_FEED_URL"]).hostname == "order"
    assert set(replicas) <= set(services["apache"]["depends_on"])


def copied_sources(dockerfile: Path) -> list[str]:
    sources = []
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if words and words[0] == "COPY" and not any(w.startswith("--from") for w in words):
            sources += words[1:-1]
    return sources
