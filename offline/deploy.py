"""Deploy the built template into the emulator through its CloudFormation API, then create
what the emulator's CloudFormation skips through each service's own API."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfn_flip import load_yaml

from offline.console import say, step
from offline.emulation import without_aliases
from offline.emulator import ACCOUNT, Endpoint
from offline.intrinsics import Context, resolve
from ops import params
from template_gen.expand import expand
from template_gen.spec import SPEC

LOCAL_API_ID = "offline"


@dataclass
class LocalStack:
    endpoint: Endpoint
    region: str
    name: str
    environment: str
    build: Path
    template: dict[str, Any]  # the expanded template as deployed
    parameters: dict[str, Any]
    physical_ids: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.endpoint.client(service, self.region)

    def context(self) -> Context:
        return Context(
            self.parameters, self.physical_ids, self.template.get("Conditions", {}), self.attribute
        )

    def resolve(self, value: Any) -> Any:
        return resolve(value, self.context())

    def attribute(self, logical: str, name: str) -> Any:
        kind = self.template["Resources"][logical]["Type"]
        physical = self.physical_ids[logical]
        arns: dict[str, Callable[[], str]] = {
            "AWS::S3::Bucket": lambda: f"arn:aws:s3:::{physical}",
            "AWS::Logs::LogGroup": lambda: (
                f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{physical}:*"
            ),
            "AWS::KMS::Key": lambda: self.client("kms").describe_key(KeyId=physical)["KeyMetadata"][
                "Arn"
            ],
            "AWS::SNS::Topic": lambda: physical,
            "AWS::DynamoDB::Table": lambda: self.client("dynamodb").describe_table(
                TableName=physical
            )["Table"]["TableArn"],
            "AWS::Lambda::Function": lambda: self.client("lambda").get_function_configuration(
                FunctionName=physical
            )["FunctionArn"],
            "AWS::IAM::Role": lambda: self.client("iam").get_role(RoleName=physical)["Role"]["Arn"],
            "AWS::Cognito::UserPool": lambda: (
                f"arn:aws:cognito-idp:{self.region}:{ACCOUNT}:userpool/{physical}"
            ),
        }
        if name in ("Arn", "TopicArn") and kind in arns:
            return arns[kind]()
        raise KeyError(f"offline cannot resolve {logical}.{name} ({kind})")

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == kind}


def upload_artifacts(stack: LocalStack) -> dict[str, str]:
    """The hashed zips into an artifacts bucket, keyed by their build path, as sam deploy
    would upload them; returns template code location -> s3 URI."""
    s3 = stack.client("s3")
    bucket = f"{SPEC.project}-local-artifacts-{stack.region}"
    if stack.region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": stack.region}
        )
    manifest = json.loads((stack.build / "manifest.json").read_text())
    locations = {}
    for artifact in manifest["artifacts"]:
        s3.upload_file(str(stack.build / artifact["path"]), bucket, artifact["path"])
        locations[artifact["path"]] = f"s3://{bucket}/{artifact['path']}"
    return locations


def deploy_change_set(stack: LocalStack) -> None:
    cloudformation = stack.client("cloudformation")
    try:
        cloudformation.describe_stacks(StackName=stack.name)
        kind = "UPDATE"
    except cloudformation.exceptions.ClientError:
        kind = "CREATE"
    change_set = cloudformation.create_change_set(
        StackName=stack.name,
        ChangeSetName=f"offline-{int(time.time())}",
        ChangeSetType=kind,
        TemplateBody=json.dumps(stack.template),
        Parameters=[
            {"ParameterKey": key, "ParameterValue": ",".join(v) if isinstance(v, list) else str(v)}
            for key, v in stack.parameters.items()
            if key in stack.template["Parameters"]
        ],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"], StackName=stack.name)
    deadline = time.monotonic() + 120
    while True:
        status = cloudformation.describe_stacks(StackName=stack.name)["Stacks"][0]
        if not status["StackStatus"].endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"stack {stack.name} is still {status['StackStatus']}")
        time.sleep(0.2)
    if status["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise RuntimeError(
            f"stack {stack.name}: {status['StackStatus']} {status.get('StackStatusReason', '')}"
        )
    for resource in cloudformation.list_stack_resources(StackName=stack.name)[
        "StackResourceSummaries"
    ]:
        stack.physical_ids[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]


def _user_pool(stack: LocalStack, logical: str, p: dict[str, Any]) -> str:
    p = dict(p)
    name = p.pop("UserPoolName")
    p.pop("EnabledMfas", None)  # set through SetUserPoolMfaConfig in the API, not here
    return stack.client("cognito-idp").create_user_pool(PoolName=name, **p)["UserPool"]["Id"]


def _user_pool_client(stack: LocalStack, logical: str, p: dict[str, Any]) -> str:
    client = stack.client("cognito-idp").create_user_pool_client(**p)
    return client["UserPoolClient"]["ClientId"]


def _requires_tls(statement: dict[str, Any]) -> bool:
    return statement.get("Effect") == "Deny" and statement.get("Condition") == {
        "Bool": {"aws:SecureTransport": "false"}
    }


def _bucket_policy(stack: LocalStack, logical: str, p: dict[str, Any]) -> str:
    """Everything but the TLS-only denial: the emulator serves plain HTTP on loopback, so
    that statement would refuse every request the handlers and tests make."""
    document = dict(p["PolicyDocument"])
    kept = [s for s in document["Statement"] if not _requires_tls(s)]
    if len(kept) < len(document["Statement"]):
        say(f"    {logical}: the TLS-only statement is left out (the emulator speaks HTTP)")
    stack.client("s3").put_bucket_policy(
        Bucket=p["Bucket"], Policy=json.dumps({**document, "Statement": kept})
    )
    return p["Bucket"]


def _topic_policy(stack: LocalStack, logical: str, p: dict[str, Any]) -> str:
    for topic in p["Topics"]:
        stack.client("sns").set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(p["PolicyDocument"])
        )
    return logical


def _subscription(stack: LocalStack, logical: str, p: dict[str, Any]) -> str:
    return stack.client("sns").subscribe(
        TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"]
    )["SubscriptionArn"]


def _metric_filter(stack: LocalStack, logical: str, p: dict[str, Any]) -> str:
    transforms = [
        {
            "metricName": t["MetricName"],
            "metricNamespace": t["MetricNamespace"],
            "metricValue": t["MetricValue"],
            "defaultValue": float(t.get("DefaultValue", 0)),
            **({"unit": t["Unit"]} if "Unit" in t else {}),
        }
        for t in p["MetricTransformations"]
    ]
    stack.client("logs").put_metric_filter(
        logGroupName=p["LogGroupName"],
        filterName=logical,
        filterPattern=p["FilterPattern"],
        metricTransformations=transforms,
    )
    return logical


def _alarm(stack: LocalStack, logical: str, p: dict[str, Any]) -> str:
    stack.client("cloudwatch").put_metric_alarm(**p)
    return p["AlarmName"]


# In dependency order. Each takes resolved CloudFormation properties, returns a physical id.
CREATORS: dict[str, Callable[[LocalStack, str, dict[str, Any]], str]] = {
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Cognito::UserPoolClient": _user_pool_client,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SNS::Subscription": _subscription,
    "AWS::Logs::MetricFilter": _metric_filter,
    "AWS::CloudWatch::Alarm": _alarm,
}


def create_skipped(stack: LocalStack) -> dict[str, int]:
    created: dict[str, int] = {}
    context = stack.context()
    for kind, create in CREATORS.items():
        for logical, resource in stack.of_type(kind).items():
            if logical in stack.physical_ids:
                continue  # the emulator made it after all
            condition = resource.get("Condition")
            if condition and not context.condition(condition):
                continue
            properties = stack.resolve(resource.get("Properties", {}))
            stack.physical_ids[logical] = create(stack, logical, properties)
            created[kind] = created.get(kind, 0) + 1
    return created


def deploy(
    endpoint: Endpoint,
    region: str,
    build: Path,
    *,
    environment: str = "dev",
    origins: list[str],
) -> LocalStack:
    sam_template = load_yaml((build / "template.yaml").read_text())
    parameters = {
        name: definition.get("Default")
        for name, definition in sam_template.get("Parameters", {}).items()
    }
    parameters.update({"Environment": environment, "AllowedOrigins": origins})
    parameters.update(
        {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": f"{SPEC.project}-{environment}",
        }
    )
    stack = LocalStack(
        endpoint, region, f"{SPEC.project}-{environment}", environment, build, {}, parameters
    )
    with step(f"{region}: uploading the built artifacts"):
        locations = upload_artifacts(stack)
    with step(f"{region}: expanding the SAM template"):
        translator_parameters = {
            k: ",".join(v) if isinstance(v, list) else v
            for k, v in parameters.items()
            if not k.startswith("AWS::")
        }
        expanded = expand(sam_template, locations, translator_parameters, region=region)
        stack.template = without_aliases(expanded)
    with step(f"{region}: SecureString parameters, as `make params` creates them"):
        for outcome in params.ensure(stack.client("ssm"), SPEC, environment):
            say(f"    {outcome.name}: {outcome.action}")
    with step(f"{region}: creating stack {stack.name} through a change set"):
        deploy_change_set(stack)
    stack.physical_ids.setdefault("HttpApi", LOCAL_API_ID)
    with step(f"{region}: creating what the emulator's CloudFormation skips"):
        for kind, count in create_skipped(stack).items():
            say(f"    {kind}: {count}")
    return stack
