"""docker-compose.yml, as Compose itself reads it, and the Dockerfile it builds."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.routes.codec import CODEC_PREFIX
from reclaim.codec import KeyRing, new_key_setting
from reclaim.config import Settings
from reclaim.keys import InsecureSetting, secured

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
RECLAIM_ROLES = ("api", "worker", "payer")
SEARCH_ATTRIBUTES = ("ClaimStatus", "PayerId", "DenialRoute", "AssignedTo")
ONE_SHOT_JOBS = ("temporal-admin-tools", "temporal-create-namespace", "temporal-search-attributes")
# Variables a developer may have exported that would change what Compose interpolates.
_LEAKY_PREFIXES = ("RECLAIM_", "TEMPORAL_", "POSTGRES", "MAILPIT_", "COMPOSE_")


def compose_command() -> list[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        message = "docker-compose is not installed (apt-get install docker-compose)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run this test")
        pytest.skip(message)
    return [binary]


def compose_config(scratch: Path, **variables: str) -> dict[str, Any]:
    """`docker-compose config` with only `variables` set; a developer's .env is ignored."""
    env_file = scratch / "empty.env"
    env_file.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    env.update(variables)
    result = subprocess.run(
        [*compose_command(), "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    parsed = yaml.safe_load(result.stdout)
    assert isinstance(parsed, dict)
    return parsed


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return compose_config(tmp_path_factory.mktemp("compose"))["services"]


def env_of(service: dict[str, Any]) -> dict[str, str]:
    """Variables with a value; a bare name (passed through from the shell if set) is left out."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment if "=" in item)
    return {key: str(value) for key, value in environment.items() if value is not None}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def test_every_service_is_there(services: dict[str, dict[str, Any]]) -> None:
    expected = {
        "postgresql",
        "temporal-admin-tools",
        "temporal",
        "temporal-create-namespace",
        "temporal-search-attributes",
        "temporal-ui",
        "mailpit",
        *RECLAIM_ROLES,
    }
    assert expected <= set(services), f"missing: {expected - set(services)}"


@pytest.mark.parametrize(
    ("service", "image"),
    [
        ("postgresql", "postgres:"),
        ("temporal-admin-tools", "temporalio/admin-tools:"),
        ("temporal", "temporalio/server:"),
        ("temporal-create-namespace", "temporalio/admin-tools:"),
        ("temporal-search-attributes", "temporalio/admin-tools:"),
        ("temporal-ui", "temporalio/ui:"),
        ("mailpit", "axllent/mailpit"),
    ],
)
def test_images(services: dict[str, dict[str, Any]], service: str, image: str) -> None:
    assert services[service]["image"].startswith(image)


def test_reclaim_roles_are_one_image_and_the_command_picks_the_role(
    services: dict[str, dict[str, Any]],
) -> None:
    images = {services[role]["image"] for role in RECLAIM_ROLES}
    assert len(images) == 1
    for role in RECLAIM_ROLES:
        assert Path(services[role]["build"]["context"]).resolve() == ROOT
        assert services[role]["command"] == [role]


@pytest.mark.parametrize("role", ["api", "worker"])
@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("RECLAIM_DATABASE_URL", "postgresql+psycopg://"),
        ("RECLAIM_TEMPORAL_ADDRESS", "temporal:7233"),
        ("RECLAIM_TEMPORAL_NAMESPACE", "default"),
        ("RECLAIM_PAYER_URL", "http://payer:8001"),
        ("RECLAIM_SMTP_HOST", "mailpit"),
        ("RECLAIM_SMTP_PORT", "1025"),
        ("RECLAIM_PAYLOAD_KEY", ""),
        ("RECLAIM_SECRET_KEY", ""),
        ("RECLAIM_ADMIN_TOKEN", ""),
        ("RECLAIM_DEMO", "1"),
        ("RECLAIM_TEMPORAL_UI_ORIGIN", "http://localhost:8080"),
    ],
)
def test_reclaim_settings(
    services: dict[str, dict[str, Any]], role: str, variable: str, expected: str
) -> None:
    env = env_of(services[role])
    assert env.get(variable), f"{role} lacks {variable}"
    assert env[variable].startswith(expected)


def test_reclaim_database_is_the_compose_postgresql(services: dict[str, dict[str, Any]]) -> None:
    url = env_of(services["api"])["RECLAIM_DATABASE_URL"]
    assert "@postgresql:5432/reclaim" in url
    postgres_env = env_of(services["postgresql"])
    assert postgres_env["RECLAIM_DB_PASSWORD"] in url


def test_the_sandbox_payer_gets_none_of_reclaims_secrets(
    services: dict[str, dict[str, Any]],
) -> None:
    env = env_of(services["payer"])
    for secret in ("RECLAIM_PAYLOAD_KEY", "RECLAIM_SECRET_KEY", "RECLAIM_ADMIN_TOKEN"):
        assert secret not in env
    assert "RECLAIM_DATABASE_URL" not in env
    assert env["RECLAIM_PAYER_PORT"] == "8001"


def test_ui_codec_endpoint_points_at_reclaim(services: dict[str, dict[str, Any]]) -> None:
    ui = env_of(services["temporal-ui"])
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == f"http://localhost:8000{CODEC_PREFIX}"
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    assert ui["TEMPORAL_ADDRESS"] == "temporal:7233"
    published = {str(port.get("published")) for port in _ports(services["temporal-ui"])}
    assert "8080" in published
    published_api = {str(port.get("published")) for port in _ports(services["api"])}
    assert "8000" in published_api


def test_public_urls_follow_the_environment(tmp_path: Path) -> None:
    config = compose_config(
        tmp_path,
        RECLAIM_PUBLIC_URL="https://reclaim.clinic.example",
        TEMPORAL_UI_PUBLIC_URL="https://temporal.clinic.example",
        RECLAIM_PAYLOAD_KEY="k1:" + "A" * 43 + "=",
    )
    ui = env_of(config["services"]["temporal-ui"])
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == f"https://reclaim.clinic.example{CODEC_PREFIX}"
    api = env_of(config["services"]["api"])
    assert api["RECLAIM_TEMPORAL_UI_ORIGIN"] == "https://temporal.clinic.example"
    assert api["RECLAIM_PAYLOAD_KEY"] == "k1:" + "A" * 43 + "="


TEMPORAL_CLOUD_SETTINGS = {
    "RECLAIM_TEMPORAL_ADDRESS": "clinic.a1b2c.tmprl.cloud:7233",
    "RECLAIM_TEMPORAL_NAMESPACE": "clinic.a1b2c",
    "RECLAIM_TEMPORAL_TLS_CERT": "/run/secrets/temporal.pem",
    "RECLAIM_TEMPORAL_TLS_KEY": "/run/secrets/temporal.key",
    "RECLAIM_TEMPORAL_API_KEY": "an-api-key",
}


def test_temporal_cloud_settings_pass_through_only_when_set(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    optional = ("RECLAIM_TEMPORAL_TLS_CERT", "RECLAIM_TEMPORAL_TLS_KEY", "RECLAIM_TEMPORAL_API_KEY")
    for role in ("api", "worker"):
        for variable in optional:
            assert variable in (services[role].get("environment") or {})
            assert variable not in env_of(services[role]), f"{variable} must stay unset"
    config = compose_config(tmp_path, **TEMPORAL_CLOUD_SETTINGS)
    for role in ("api", "worker"):
        env = env_of(config["services"][role])
        for variable, value in TEMPORAL_CLOUD_SETTINGS.items():
            assert env[variable] == value


def test_compose_defaults_for_the_secrets_are_refused(services: dict[str, dict[str, Any]]) -> None:
    """The compose fallbacks are public: the API and worker refuse them, naming the setting."""
    env = env_of(services["api"])
    assert KeyRing.from_setting(env["RECLAIM_PAYLOAD_KEY"]).primary.kid.startswith("p-")
    shared = Settings(temporal_address=env["RECLAIM_TEMPORAL_ADDRESS"],
                      payload_key=env["RECLAIM_PAYLOAD_KEY"])
    with pytest.raises(InsecureSetting, match="RECLAIM_PAYLOAD_KEY"):
        secured(shared, metrics_token="a-metrics-token-long-enough", serves_metrics=True)
    assert env["RECLAIM_METRICS_TOKEN"] == ""
    mine = shared.model_copy(update={"payload_key": new_key_setting("k1")})
    with pytest.raises(InsecureSetting, match="RECLAIM_METRICS_TOKEN"):
        secured(mine, metrics_token=env["RECLAIM_METRICS_TOKEN"], serves_metrics=True)


def test_schema_job_runs_before_the_server(services: dict[str, dict[str, Any]]) -> None:
    assert depends_on(services["temporal"])["temporal-admin-tools"] == (
        "service_completed_successfully"
    )
    assert depends_on(services["temporal-admin-tools"])["postgresql"] == "service_healthy"
    server = env_of(services["temporal"])
    assert server["DB"] == "postgres12"
    assert server["POSTGRES_SEEDS"] == "postgresql"


def test_search_attribute_job(services: dict[str, dict[str, Any]]) -> None:
    job = services["temporal-search-attributes"]
    deps = depends_on(job)
    assert deps["temporal"] == "service_healthy"
    assert deps["temporal-create-namespace"] == "service_completed_successfully"
    declared = env_of(job)["SEARCH_ATTRIBUTES"].split()
    assert sorted(declared) == sorted(f"{name}:Keyword" for name in SEARCH_ATTRIBUTES)
    script = _host_path(job, job["command"][-1])
    assert script.is_file()
    for role in ("api", "worker"):
        assert depends_on(services[role])["temporal-search-attributes"] == (
            "service_completed_successfully"
        )


@pytest.mark.parametrize("job", ONE_SHOT_JOBS)
def test_one_shot_jobs_run_a_script_from_the_repository(
    services: dict[str, dict[str, Any]], job: str
) -> None:
    service = services[job]
    assert service["entrypoint"] == ["/bin/sh"]
    assert _host_path(service, service["command"][-1]).is_file()
    assert str(service.get("restart", "")).startswith("on-failure")


@pytest.mark.parametrize("service", ["postgresql", "temporal", "mailpit", "api", "payer"])
def test_healthchecks(services: dict[str, dict[str, Any]], service: str) -> None:
    check = services[service].get("healthcheck")
    assert check, f"{service} has no healthcheck"
    assert check["test"][0] in ("CMD", "CMD-SHELL")


def test_depends_on_conditions_are_satisfiable(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition == "service_healthy":
                assert services[dependency].get("healthcheck"), f"{name} -> {dependency}"
            if condition == "service_completed_successfully":
                assert dependency in ONE_SHOT_JOBS, f"{name} -> {dependency}"
    api_deps = depends_on(services["api"])
    assert api_deps["postgresql"] == "service_healthy"
    assert depends_on(services["worker"])["api"] == "service_healthy"


def test_worker_scales(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert int(worker["deploy"]["replicas"]) >= 2
    assert "container_name" not in worker, "a fixed name prevents --scale"
    assert not worker.get("ports"), "published ports collide between replicas"


def test_mounted_files_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for source, _target in _bind_mounts(service):
            assert source.exists(), f"{name} mounts missing {source}"


def test_dockerfile_runs_reclaim_as_a_non_root_user() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[0] == "FROM python:3.11-slim"
    assert 'ENTRYPOINT ["reclaim"]' in lines
    assert 'CMD ["api"]' in lines
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in ("root", "0")
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".git", ".venv", "var", ".env"):
        assert path in ignored


def _ports(service: dict[str, Any]) -> list[dict[str, Any]]:
    ports: list[dict[str, Any]] = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            ports.append(port)
        else:
            *_, published, target = str(port).split("/")[0].split(":")
            ports.append({"published": published, "target": target})
    return ports


def _bind_mounts(service: dict[str, Any]) -> list[tuple[Path, str]]:
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((Path(volume["source"]), volume["target"]))
            continue
        source, target = str(volume).split(":")[:2]
        if source.startswith(("/", ".")):
            mounts.append(((ROOT / source).resolve(), target))
    return mounts


def _host_path(service: dict[str, Any], container_path: str) -> Path:
    for source, target in _bind_mounts(service):
        if container_path.startswith(target.rstrip("/") + "/"):
            return source / container_path[len(target.rstrip("/")) + 1 :]
    raise AssertionError(f"{container_path} is not inside a mounted directory")
