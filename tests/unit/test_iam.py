"""Each role allows exactly what its function's relations imply, on exact resources."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from template_gen.model import Function, Route, reads
from template_gen.spec import SPEC
from template_gen.template import build_template
from tests.conftest import of_type

KEY = {"Fn::GetAtt": ["StackKey", "Arn"]}
# Every function writes its own encrypted log group, and traces. Nothing decrypts the
# environment: Lambda does that through its grant, not the role.
BASELINE = {
    ("logs:CreateLogStream", "LOG_GROUP"),
    ("logs:PutLogEvents", "LOG_GROUP"),
    ("kms:GenerateDataKey", json.dumps(KEY)),  # through Logs, for the own group only
    ("xray:PutTelemetryRecords", "*"),
    ("xray:PutTraceSegments", "*"),
}
PARAMETER = json.dumps(
    {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
        "/backend-kit/${Environment}/cursor-signing-key"
    }
)
ANY_KEY_HERE = json.dumps(
    {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"}
)
# Reading the signing key, and using tables encrypted with the stack key.
SIGNING_KEY = {("ssm:GetParameter", PARAMETER), ("kms:Decrypt", ANY_KEY_HERE)}
TABLE_KEY_USE = {("kms:Decrypt", json.dumps(KEY))}
WRITE = ("dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem")


def statements(role: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (policy,) = role["Properties"]["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def table(name: str) -> str:
    return json.dumps({"Fn::GetAtt": [name, "Arn"]})


def index(name: str, index: str) -> str:
    return json.dumps({"Fn::Sub": f"${{{name}.Arn}}/index/{index}"})


def grants(role: dict[str, Any], log_group: str) -> set[tuple[str, str]]:
    """(action, resource) pairs of a role, with its own log group shown as LOG_GROUP."""
    own_log_group = json.dumps({"Fn::GetAtt": [log_group, "Arn"]})
    pairs = set()
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in statement["Action"]:
                for resource in statement["Resource"]:
                    text = resource if isinstance(resource, str) else json.dumps(resource)
                    pairs.add((action, "LOG_GROUP" if text == own_log_group else text))
    return pairs


def test_health_role_has_only_the_baseline(resources: dict[str, Any]) -> None:
    assert grants(resources["HealthRole"], "HealthLogGroup") == BASELINE


def test_users_role_has_the_calls_of_its_handler(resources: dict[str, Any]) -> None:
    """Profiles are read by key, listed through the `by-created` index only, and written by
    transactions of puts and deletes: no UpdateItem, no query of the table itself."""
    expected = BASELINE | {
        ("dynamodb:GetItem", table("UsersTable")),
        ("dynamodb:Query", index("UsersTable", "by-created")),
        ("dynamodb:DeleteItem", table("UsersTable")),
        ("dynamodb:PutItem", table("UsersTable")),
        *SIGNING_KEY,
        *TABLE_KEY_USE,
    }
    assert grants(resources["UsersRole"], "UsersLogGroup") == expected


def test_items_role_matches_its_relations(resources: dict[str, Any]) -> None:
    expected = BASELINE | {
        *((a, table("ItemsTable")) for a in ("dynamodb:GetItem", "dynamodb:Query", *WRITE)),
        *((a, table("IdempotencyTable")) for a in WRITE),  # no GetItem: see the spec
        ("s3:PutObject", json.dumps({"Fn::Sub": "${AssetsBucket.Arn}/items/*"})),
        ("kms:GenerateDataKey", json.dumps(KEY)),  # through S3, for SSE-KMS uploads
        *SIGNING_KEY,
        *TABLE_KEY_USE,
    }
    assert grants(resources["ItemsRole"], "ItemsLogGroup") == expected


def test_key_use_is_pinned_to_the_related_resources(resources: dict[str, Any]) -> None:
    """Each use of a key names, in its encryption context, exactly the tables, bucket, log
    group or parameter the function relates to."""
    items = statements(resources["ItemsRole"])
    tables = items["DecryptTablesViaDynamodb"]["Condition"]["StringEquals"]
    assert tables["kms:EncryptionContext:aws:dynamodb:tableName"] == [
        {"Fn::Sub": "backend-kit-${Environment}-idempotency"},
        {"Fn::Sub": "backend-kit-${Environment}-items"},
    ]
    upload = items["GenerateDataKeyViaS3"]["Condition"]["ArnEquals"]
    assert upload == {"kms:EncryptionContext:aws:s3:arn": [{"Fn::GetAtt": ["AssetsBucket", "Arn"]}]}
    logs = items["EncryptOwnLogsViaLogs"]["Condition"]["ArnEquals"]
    assert logs["kms:EncryptionContext:aws:logs:arn"]["Fn::Sub"].endswith(
        ":log-group:/aws/lambda/backend-kit-${Environment}-items"
    )
    ssm = items["DecryptCursorSigningKeyViaSsm"]["Condition"]
    assert ssm["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": {"Fn::Sub": "alias/backend-kit-${Environment}-parameters"}
    }


def test_key_use_is_limited_to_the_service_that_needs_it(resources: dict[str, Any]) -> None:
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                if any(a.startswith("kms:") for a in statement["Action"]):
                    via = statement["Condition"]["StringEquals"]["kms:ViaService"]
                    assert via["Fn::Sub"].endswith(".${AWS::Region}.amazonaws.com"), name


def test_the_signing_key_decrypt_is_pinned_to_the_parameter(resources: dict[str, Any]) -> None:
    for role in ("UsersRole", "ItemsRole"):
        statements = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        (ssm,) = [s for s in statements if s["Sid"] == "DecryptCursorSigningKeyViaSsm"]
        context = ssm["Condition"]["StringEquals"]["kms:EncryptionContext:PARAMETER_ARN"]
        assert json.dumps(context) == PARAMETER


def test_a_read_only_relation_grants_no_write() -> None:
    reader = Function(
        name="reader",
        source="functions/reader",
        routes=(Route("GET", "/reports"),),
        relations=(reads("items"),),
    )
    spec = dataclasses.replace(SPEC, functions=(*SPEC.functions, reader))
    role = build_template(spec).to_dict()["Resources"]["ReaderRole"]
    actions = {action for action, _ in grants(role, "ReaderLogGroup")}
    assert "dynamodb:GetItem" in actions
    assert not actions & {*WRITE, "s3:PutObject", "kms:Encrypt", "ssm:GetParameter"}


def test_no_managed_policies_anywhere(resources: dict[str, Any], expanded: dict[str, Any]) -> None:
    for name, resource in {**resources, **expanded["Resources"]}.items():
        properties = resource.get("Properties", {})
        assert "ManagedPolicyArns" not in properties, name
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            assert "Policies" not in properties, name  # SAM would turn these into managed ones
    assert not of_type(expanded["Resources"], "AWS::IAM::ManagedPolicy")
    assert not of_type(expanded["Resources"], "AWS::IAM::Policy")


def test_one_role_per_function(resources: dict[str, Any]) -> None:
    functions = of_type(resources, "AWS::Serverless::Function")
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(functions)
    # The only other roles are CodeDeploy's and AWS Backup's, which no function runs as.
    others = {"DeploymentRole", "BackupRole"}
    assert set(of_type(resources, "AWS::IAM::Role")) - set(roles) == others


def test_the_deployment_role_only_moves_this_stacks_aliases(resources: dict[str, Any]) -> None:
    role = resources["DeploymentRole"]["Properties"]
    principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "codedeploy.amazonaws.com"}
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"MoveTheAlias", "ReadRollbackAlarms"}
    targets = {json.dumps(r) for r in statements["MoveTheAlias"]["Resource"]}
    for function in of_type(resources, "AWS::Serverless::Function"):
        assert json.dumps({"Fn::GetAtt": [function, "Arn"]}) in targets
        assert json.dumps({"Fn::Sub": f"${{{function}.Arn}}:*"}) in targets


def test_no_wildcard_actions_and_star_resources_only_for_xray(
    resources: dict[str, Any],
) -> None:
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                for action in statement["Action"]:
                    assert "*" not in action, (name, action)
                if "*" in statement["Resource"]:
                    assert all(a.startswith("xray:") for a in statement["Action"]), name


def _actions(node: Any) -> list[str]:
    """Every Action and NotAction entry of every policy document in a template."""
    found: list[str] = []
    if isinstance(node, dict):
        for name, value in node.items():
            if name in ("Action", "NotAction") and isinstance(value, str | list):
                found += [value] if isinstance(value, str) else [str(v) for v in value]
            else:
                found += _actions(value)
    elif isinstance(node, list):
        for value in node:
            found += _actions(value)
    return found


def test_every_action_the_template_names_is_one_the_reference_lists(
    expanded: dict[str, Any],
) -> None:
    """Roles, key and bucket policies, trust policies: an action the Service Authorization
    Reference does not list (a typo, a renamed action) would be granted to nothing."""
    from template_gen import iam_reference

    actions = sorted(set(_actions(expanded["Resources"])))
    assert len(actions) > 20
    unknown = [a for a in actions if a != "*" and not iam_reference.matching(a)]
    assert unknown == []
    assert iam_reference.matching("dynamodb:GetItems") == []  # the check can fail
