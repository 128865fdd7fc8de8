"""The deploy preflight: each failure one line with its fix, no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ops.preflight import PreflightError, check_origins
from tests.ops.conftest import clean_environment, client, ops


def test_no_credentials_fails_fast_with_the_message() -> None:
    result = ops("preflight", "--region", "eu-west-1", "--env", "prod", env=clean_environment())
    assert result.returncode == 1
    assert "preflight failed: no AWS credentials" in result.stderr
    assert "aws sso login" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_an_unknown_region_is_refused(emulator: dict[str, str]) -> None:
    result = ops("preflight", "--region", "eu-wset-1", "--env", "dev", env=emulator)
    assert result.returncode == 1
    assert "'eu-wset-1' is not an AWS region" in result.stderr


def test_a_missing_secure_string_names_it_and_make_params(
    emulator: dict[str, str], built: None
) -> None:
    result = ops("preflight", "--region", "eu-west-1", "--env", "staging", env=emulator)
    assert result.returncode == 1, result.stdout
    assert "ok  credentials: account 123456789012" in result.stdout
    assert "ok  artifacts:" in result.stdout and "ok  lint:" in result.stdout
    assert result.stderr.strip() == (
        "preflight failed: SecureString /backend-kit/staging/cursor-signing-key is missing in"
        " eu-west-1: run `make params REGION=eu-west-1 ENV=staging`"
    )
    assert ops("params", "--region", "eu-west-1", "--env", "staging", env=emulator).returncode == 0
    passed = ops("preflight", "--region", "eu-west-1", "--env", "staging", env=emulator)
    assert "ok  parameters: 1 SecureString parameter(s) exist" in passed.stdout, passed.stderr
    # The next check wants the bootstrap, which this repository's samconfig.toml has not had.
    assert passed.returncode == 1
    assert "`make bootstrap REGION=eu-west-1 ENV=staging`" in passed.stderr


@pytest.mark.parametrize(
    ("origins", "problem"),
    [
        ("https://app.example.com,*", "contains '*'"),
        ("https://*.example.com", "contains 'https://*.example.com'"),
        ("app.example.com", "is not scheme://host[:port]"),
    ],
)
def test_wildcard_and_malformed_origins_are_refused(
    tmp_path: Path, origins: str, problem: str
) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(
        'version = 0.1\n[prod.deploy.parameters]\nstack_name = "backend-kit-prod"\n'
        f'parameter_overrides = \'Environment="prod" AllowedOrigins="{origins}"\'\n'
    )
    with pytest.raises(PreflightError, match=re.escape(problem)):
        check_origins("prod", config)


def test_the_real_origins_pass() -> None:
    for environment in ("dev", "staging", "prod"):
        assert "*" not in check_origins(environment)


def test_a_secure_string_under_another_key_is_refused(
    emulator: dict[str, str], built: None
) -> None:
    region = "ap-northeast-1"
    client(emulator, "ssm", region).put_parameter(
        Name="/backend-kit/prod/cursor-signing-key",
        Type="SecureString",
        Value="v",
        KeyId="alias/aws/ssm",
    )
    result = ops("preflight", "--region", region, "--env", "prod", env=emulator)
    assert result.returncode == 1, result.stdout
    assert result.stderr.strip() == (
        "preflight failed: /backend-kit/prod/cursor-signing-key in ap-northeast-1 is encrypted"
        " with alias/aws/ssm, not alias/backend-kit-prod-parameters: run"
        " `make params REGION=ap-northeast-1 ENV=prod`, which moves it and keeps its value"
    )
