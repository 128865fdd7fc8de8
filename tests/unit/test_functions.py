"""Function configuration: runtime, logging, and environment variables that carry names."""

from __future__ import annotations

import json
from typing import Any

from template_gen.naming import function_id, layer_id
from template_gen.spec import SPEC
from tests.conftest import of_type


def functions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return of_type(resources, "AWS::Serverless::Function")


def test_every_spec_function_is_rendered(resources: dict[str, Any]) -> None:
    names = {f["Properties"]["FunctionName"]["Fn::Sub"] for f in functions(resources).values()}
    assert names == {f"backend-kit-${{Environment}}-{f.name}" for f in SPEC.functions}


def test_runtime_architecture_and_limits(resources: dict[str, Any]) -> None:
    for name, function in functions(resources).items():
        p = function["Properties"]
        assert p["Runtime"] == "python3.14", name
        assert p["Architectures"] == ["arm64"], name
        assert p["Tracing"] == "Active", name
        assert isinstance(p["MemorySize"], int) and isinstance(p["Timeout"], int), name
        assert p["KmsKeyArn"] == {"Fn::GetAtt": ["StackKey", "Arn"]}, name
        assert p["Handler"] == "app.handler", name


def test_each_function_logs_json_to_its_own_encrypted_group(resources: dict[str, Any]) -> None:
    for name, function in functions(resources).items():
        logging = function["Properties"]["LoggingConfig"]
        assert logging["LogFormat"] == "JSON", name
        group = resources[logging["LogGroup"]["Ref"]]["Properties"]
        fn_name = function["Properties"]["FunctionName"]["Fn::Sub"]
        assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{fn_name}"}
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert group["KmsKeyId"] == {"Fn::GetAtt": ["StackKey", "Arn"]}


def test_environment_has_the_sam_shape_and_string_keys(resources: dict[str, Any]) -> None:
    for name, function in functions(resources).items():
        environment = function["Properties"]["Environment"]
        assert list(environment) == ["Variables"], name
        for key, value in environment["Variables"].items():
            assert key.isupper() and key.replace("_", "").isalnum(), (name, key)
            # A plain string, or a single Ref/Sub: never a list, a nested map or a number.
            assert isinstance(value, str) or list(value) in (["Ref"], ["Fn::Sub"]), (name, key)


def test_environment_carries_resource_names(resources: dict[str, Any]) -> None:
    items = functions(resources)["ItemsFunction"]["Properties"]["Environment"]["Variables"]
    assert items["ITEMS_TABLE"] == {"Ref": "ItemsTable"}
    assert items["IDEMPOTENCY_TABLE"] == {"Ref": "IdempotencyTable"}
    assert items["ASSETS_BUCKET"] == {"Ref": "AssetsBucket"}
    assert items["CURSOR_SIGNING_KEY_PARAMETER"] == {
        "Fn::Sub": "/backend-kit/${Environment}/cursor-signing-key"
    }
    users = functions(resources)["UsersFunction"]["Properties"]["Environment"]["Variables"]
    assert users["USERS_TABLE"] == {"Ref": "UsersTable"}
    assert "ITEMS_TABLE" not in users and "ASSETS_BUCKET" not in users


def test_no_secret_value_reaches_the_template(template: dict[str, Any]) -> None:
    text = json.dumps(template)
    assert "{{resolve:" not in text  # dynamic references would put values in the config
    for parameter in template["Parameters"].values():
        assert "SSM" not in parameter["Type"]  # SSM parameter types resolve values at deploy
        assert not parameter.get("NoEcho")


def test_layers_target_the_function_runtime(resources: dict[str, Any]) -> None:
    layers = of_type(resources, "AWS::Serverless::LayerVersion")
    assert set(layers) == {"DepsLayer", "SharedLayer"}
    for layer in layers.values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.14"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    for function in SPEC.functions:
        properties = functions(resources)[function_id(function.name)]["Properties"]
        used = [{"Ref": layer_id(layer.name)} for layer in SPEC.layers_of(function)]
        assert properties.get("Layers", []) == used, function.name
    # The health check needs no third-party or shared code, so it loads no layer at all.
    assert "Layers" not in functions(resources)["HealthFunction"]["Properties"]


def published_versions(artifacts: dict[str, str], keyed: bool = True) -> dict[str, str]:
    """Function logical id -> the logical id of the Version SAM publishes for it."""
    from template_gen.expand import expand
    from template_gen.template import build_template

    template = build_template(SPEC, artifacts).to_dict()
    if not keyed:
        for function in functions(template["Resources"]).values():
            del function["Properties"]["AutoPublishCodeSha256"]
    return {
        r["Properties"]["FunctionName"]["Ref"]: logical
        for logical, r in expand(template)["Resources"].items()
        if r["Type"] == "AWS::Lambda::Version"
    }


def test_a_change_to_a_layer_publishes_a_version_of_each_function_using_it() -> None:
    """`live` moves only to a new Version; SAM names one from code, environment and memory
    (samtranslator/model/sam_resources.py), so the layers' zips must be in the key too."""
    kinds = {"function": "functions", "layer": "layers"}
    built = {
        item.name: f"{kinds[kind]}/{item.name}-{'0' * 16}.zip"
        for kind, items in (("function", SPEC.functions), ("layer", SPEC.layers))
        for item in items
    }
    changed = {**built, "shared": f"layers/shared-{'1' * 16}.zip"}
    before, after = published_versions(built), published_versions(changed)
    assert set(before) == {function_id(f.name) for f in SPEC.functions}
    for function in SPEC.functions:
        uses_shared = "shared" in {layer.name for layer in SPEC.layers_of(function)}
        logical = function_id(function.name)
        assert (before[logical] != after[logical]) == uses_shared, function.name
    # Without the key, SAM would keep every Version: `live` would stay on the old layer.
    assert published_versions(built, keyed=False) == published_versions(changed, keyed=False)


def test_artifacts_replace_code_locations_without_touching_the_spec() -> None:
    from template_gen.template import build_template

    built = build_template(SPEC, {"users": "build/functions/users-0123456789abcdef.zip"})
    resources = built.to_dict()["Resources"]
    assert resources["UsersFunction"]["Properties"]["CodeUri"] == (
        "build/functions/users-0123456789abcdef.zip"
    )
    assert resources["ItemsFunction"]["Properties"]["CodeUri"] == "functions/items"


def test_only_functions_that_report_it_get_the_build_version() -> None:
    from template_gen.template import build_template

    resources = build_template(SPEC, build_version="0123456789abcdef").to_dict()["Resources"]
    for function in SPEC.functions:
        variables = resources[f"{function.name.capitalize()}Function"]["Properties"]["Environment"][
            "Variables"
        ]
        if function.reports_build_version:
            assert variables["BUILD_VERSION"] == "0123456789abcdef"
        else:
            assert "BUILD_VERSION" not in variables
