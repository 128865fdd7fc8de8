"""`make params`: created per region, idempotent, rotated on request, values never on the
command line."""

from __future__ import annotations

import json
import os
import subprocess

from tests.ops.conftest import ROOT, client, ops

NAME = "/backend-kit/{env}/cursor-signing-key"


def value(env: dict[str, str], region: str, environment: str) -> str:
    ssm = client(env, "ssm", region)
    parameter = ssm.get_parameter(Name=NAME.format(env=environment), WithDecryption=True)
    assert parameter["Parameter"]["Type"] == "SecureString"
    return parameter["Parameter"]["Value"]


def make_params(env: dict[str, str], region: str, environment: str, *extra: str) -> str:
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "params",
            f"REGION={region}",
            f"ENV={environment}",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return result.stdout


def test_two_regions_idempotent_and_rotated(emulator: dict[str, str]) -> None:
    # Regions no other suite touches: the emulator keeps one state per process.
    regions = ("ap-southeast-2", "ca-central-1")
    for region in regions:
        assert f"{NAME.format(env='dev')} in {region}: created" in make_params(
            emulator, region, "dev"
        )
    first = {region: value(emulator, region, "dev") for region in regions}
    assert first["ap-southeast-2"] != first["ca-central-1"]  # random, per region
    assert all(len(v) >= 64 for v in first.values())
    for region in regions:
        assert ": kept" in make_params(emulator, region, "dev")
        assert value(emulator, region, "dev") == first[region]
    assert ": rotated" in make_params(emulator, "ca-central-1", "dev", "ROTATE=1")
    assert value(emulator, "ca-central-1", "dev") != first["ca-central-1"]
    assert value(emulator, "ap-southeast-2", "dev") == first["ap-southeast-2"]


def test_a_value_comes_from_standard_input_only(emulator: dict[str, str]) -> None:
    result = ops(
        "params",
        "--region",
        "us-east-1",
        "--env",
        "prod",
        "--from-stdin",
        env=emulator,
        stdin="typed-by-the-operator\n",
    )
    assert result.returncode == 0, result.stderr
    assert value(emulator, "us-east-1", "prod") == "typed-by-the-operator"
    assert "typed-by-the-operator" not in result.stdout + result.stderr


def test_no_value_on_standard_input_changes_nothing(emulator: dict[str, str]) -> None:
    before = os.environ.get("PATH")
    result = ops(
        "params", "--region", "eu-west-1", "--env", "prod", "--from-stdin", env=emulator, stdin=""
    )
    assert result.returncode != 0
    assert "no value for /backend-kit/prod/cursor-signing-key" in result.stderr
    assert before == os.environ.get("PATH")


def test_the_parameters_get_a_key_of_their_own(emulator: dict[str, str]) -> None:
    """Not the account's `alias/aws/ssm`, which every principal of the account may decrypt
    with (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html)."""
    region, alias = "sa-east-1", "alias/backend-kit-staging-parameters"
    first = make_params(emulator, region, "staging")
    assert f"{alias} in {region}: created" in first
    assert f"{alias} in {region}: kept" in make_params(emulator, region, "staging")
    ssm, kms = client(emulator, "ssm", region), client(emulator, "kms", region)
    name = NAME.format(env="staging")
    (described,) = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])[
        "Parameters"
    ]
    assert described["KeyId"] == alias
    key = kms.describe_key(KeyId=alias)["KeyMetadata"]
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    use = next(s for s in policy["Statement"] if s["Sid"] == "UseThroughSsm")
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == f"ssm.{region}.amazonaws.com"
    assert use["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}  # IAM decides who


def test_a_parameter_under_the_aws_managed_key_is_moved_with_its_value(
    emulator: dict[str, str],
) -> None:
    region, name = "eu-north-1", NAME.format(env="dev")
    ssm = client(emulator, "ssm", region)
    ssm.put_parameter(Name=name, Type="SecureString", Value="kept-value", KeyId="alias/aws/ssm")
    assert f"{name} in {region}: moved to alias/backend-kit-dev-parameters" in make_params(
        emulator, region, "dev"
    )
    assert value(emulator, region, "dev") == "kept-value"
    assert f"{name} in {region}: kept" in make_params(emulator, region, "dev")
