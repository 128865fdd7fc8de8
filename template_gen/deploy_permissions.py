"""What CloudFormation's execution role needs to create, read, update and delete one resource:
the actions its type's registry handlers list (template_gen/registry.py), each on the ARNs of
this resource, or of the resources its properties name, that the Service Authorization
Reference says the action takes (template_gen/iam_reference.py).

One function serves both sides of the proof. The bootstrap renders the execution role's
policy from it with ARN patterns (`Place.pattern()`: any region, the account and partition as
`Sub` variables, `*` for the identifiers AWS generates); the emulator's CloudFormation
authorizes each resource operation with it on the concrete ARNs (`Place.concrete()`), so the
policy and the check cannot drift apart.

An action is not needed when the reference does not list it (registry schemas name a few
that are not IAM actions, such as s3:REST.PUT.OBJECT), or when it acts only on kinds of
resource this one has none of (lambda:GetCodeSigningConfig, for a function without code
signing): each such action comes back as `Skipped`, with the reason, for the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from template_gen import iam_reference, registry

# Condition keys whose value a handler's request carries, per action
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
PASSED_TO_SERVICE = "iam:PassedToService"
PERMISSIONS_BOUNDARY = "iam:PermissionsBoundary"

# Actions a handler lists that the execution role is never given, whatever the template: a
# stack role keeps the boundary the bootstrap made, which is what makes the rest safe
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-delegate).
NEVER: dict[str, str] = {
    "iam:DeleteRolePermissionsBoundary": "a stack role keeps the permissions boundary",
}

# Actions that make a service-linked role, whose ARN is always under the path
# /aws-service-role/<service>/ (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html):
# the roles a template names (a backup selection's IamRoleArn) are never one.
SERVICE_LINKED_ROLE_ACTIONS = frozenset({"iam:CreateServiceLinkedRole"})
# The service-linked role a type's handler may create on first use: AWS Backup's
# (https://docs.aws.amazon.com/aws-backup/latest/devguide/using-service-linked-roles-AWSServiceRoleForBackup.html).
SERVICE_LINKED_ROLES: dict[str, str] = {
    "AWS::Backup::BackupSelection": "backup.amazonaws.com/AWSServiceRoleForBackup",
}

# The service each type's handler passes a role to (iam:PassedToService).
PASSED_TO: dict[str, str] = {
    "AWS::Lambda::Function": "lambda.amazonaws.com",
    "AWS::CodeDeploy::DeploymentGroup": "codedeploy.amazonaws.com",
    "AWS::SNS::Subscription": "sns.amazonaws.com",
    "AWS::SNS::Topic": "sns.amazonaws.com",
    "AWS::Cognito::UserPool": "cognito-idp.amazonaws.com",
    "AWS::S3::Bucket": "s3.amazonaws.com",
    "AWS::Backup::BackupSelection": "backup.amazonaws.com",
}


@dataclass(frozen=True)
class Place:
    """Where ARNs point: concrete for the emulator, patterns for a policy."""

    partition: str
    region: str
    account: str
    # A resource without a physical id yet (before the emulator creates it) has no ARN that
    # needs one; a policy names every such resource with a pattern.
    generated: str | None = None

    @classmethod
    def pattern(cls, generated: str = "*") -> Place:
        return cls("${AWS::Partition}", "*", "${AWS::AccountId}", generated)

    @classmethod
    def concrete(cls, region: str, account: str, partition: str = "aws") -> Place:
        return cls(partition, region, account)

    def arn(self, service: str, rest: str, *, regional: bool = True, account: bool = True) -> str:
        region = self.region if regional else ""
        owner = self.account if account else ""
        return f"arn:{self.partition}:{service}:{region}:{owner}:{rest}"


@dataclass(frozen=True)
class Need:
    """One action a handler performs, on one resource, with the condition keys the request
    carries."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Skipped:
    action: str
    reason: str


@dataclass(frozen=True)
class Resource:
    """A template resource as a handler sees it: type, properties with their intrinsics
    resolved (to concrete values, or to patterns), the physical id once there is one."""

    type: str
    properties: Mapping[str, Any]
    physical_id: str | None = None
    update_policy: Mapping[str, Any] = field(default_factory=dict)

    def get(self, *path: str) -> Any:
        value: Any = self.properties
        for key in path:
            if not isinstance(value, Mapping) or key not in value:
                return None
            value = value[key]
        return value

    def name(self, prop: str, place: Place) -> str | None:
        """The physical name: the property, else the id CloudFormation generated."""
        value = self.get(prop)
        if isinstance(value, str):
            return value
        return self.physical_id if self.physical_id is not None else place.generated


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _lambda_name(value: str) -> str:
    """A function's name from a property that takes a name or an ARN (alias or version
    qualified: arn:aws:lambda:r:a:function:name:live)."""
    return value.split(":")[6] if value.startswith("arn:") else value


def _key_arn(value: str, place: Place) -> str:
    # KmsKeyArn, KMSMasterKeyId, TargetKeyId: a key id, key ARN, alias name or alias ARN.
    if value.startswith("arn:"):
        return value
    return place.arn("kms", value if value.startswith("alias/") else f"key/{value}")


def _role_arn(value: str, place: Place) -> str:
    return value if value.startswith("arn:") else place.arn("iam", f"role/{value}", regional=False)


def _object_arn(location: Any, place: Place) -> list[str]:
    if not isinstance(location, Mapping):
        return []
    bucket, key = location.get("S3Bucket"), location.get("S3Key")
    if not (isinstance(bucket, str) and isinstance(key, str)):
        return []
    return [f"arn:{place.partition}:s3:::{bucket}/{key}"]


# Each type's own ARNs: what its handlers act on when they act on "the resource".
Arns = Callable[[Resource, Place], list[str]]


def _table(r: Resource, p: Place) -> list[str]:
    name = r.name("TableName", p)
    return [] if name is None else [p.arn("dynamodb", f"table/{name}")]


def _bucket(prop: str) -> Arns:
    def arns(r: Resource, p: Place) -> list[str]:
        name = r.name(prop, p)
        return [] if name is None else [f"arn:{p.partition}:s3:::{name}"]

    return arns


def _function(prop: str) -> Arns:
    def arns(r: Resource, p: Place) -> list[str]:
        value = r.name(prop, p)
        return [] if value is None else [p.arn("lambda", f"function:{_lambda_name(value)}")]

    return arns


def _lambda_alias(r: Resource, p: Place) -> list[str]:
    function, alias = r.get("FunctionName"), r.get("Name")
    if not isinstance(function, str):
        return []
    name = _lambda_name(function)
    arns = [p.arn("lambda", f"function:{name}")]
    return arns + ([p.arn("lambda", f"function:{name}:{alias}")] if isinstance(alias, str) else [])


def _lambda_version(r: Resource, p: Place) -> list[str]:
    function = r.get("FunctionName")
    if not isinstance(function, str):
        return []
    name = _lambda_name(function)
    version = r.physical_id.rsplit(":", 1)[-1] if r.physical_id else p.generated
    arns = [p.arn("lambda", f"function:{name}")]
    return arns + ([p.arn("lambda", f"function:{name}:{version}")] if version else [])


def _permission(r: Resource, p: Place) -> list[str]:
    function = r.get("FunctionName")
    if not isinstance(function, str):
        return []
    # The statement is added to the (qualified) function the property names.
    return [function if function.startswith("arn:") else p.arn("lambda", f"function:{function}")]


def _layer(r: Resource, p: Place) -> list[str]:
    name = r.get("LayerName")
    if not isinstance(name, str):
        return []
    version = r.physical_id.rsplit(":", 1)[-1] if r.physical_id else p.generated
    arns = [p.arn("lambda", f"layer:{name}")]
    return arns + ([p.arn("lambda", f"layer:{name}:{version}")] if version else [])


def _role(r: Resource, p: Place) -> list[str]:
    name = r.name("RoleName", p)
    path = r.get("Path") if isinstance(r.get("Path"), str) else "/"
    return [] if name is None else [p.arn("iam", f"role{path}{name}", regional=False)]


def _log_group(prop: str) -> Arns:
    def arns(r: Resource, p: Place) -> list[str]:
        name = r.name(prop, p)
        if name is None:
            return []
        # Logs authorizes most calls on the group's ARN with the `:*` suffix DescribeLogGroups
        # returns, some on the bare one.
        group = p.arn("logs", f"log-group:{name}")
        return [group, f"{group}:*"]

    return arns


def _alarm(r: Resource, p: Place) -> list[str]:
    name = r.name("AlarmName", p)
    return [] if name is None else [p.arn("cloudwatch", f"alarm:{name}")]


def _dashboard(r: Resource, p: Place) -> list[str]:
    name = r.name("DashboardName", p)
    return [] if name is None else [p.arn("cloudwatch", f"dashboard/{name}", regional=False)]


def _topic(r: Resource, p: Place) -> list[str]:
    # The physical id of a topic is its ARN.
    name = r.get("TopicName")
    if isinstance(name, str):
        return [p.arn("sns", name)]
    if r.physical_id is not None:
        return [r.physical_id]
    return [] if p.generated is None else [p.arn("sns", p.generated)]


def _topics(prop: str) -> Arns:
    def arns(r: Resource, p: Place) -> list[str]:
        return _strings(r.get(prop))

    return arns


def _key(r: Resource, p: Place) -> list[str]:
    key = r.physical_id if r.physical_id is not None else p.generated
    return [] if key is None else [_key_arn(key, p)]


def _key_alias(r: Resource, p: Place) -> list[str]:
    name = r.get("AliasName")
    return [p.arn("kms", name)] if isinstance(name, str) else []


def _user_pool(prop: str | None) -> Arns:
    def arns(r: Resource, p: Place) -> list[str]:
        pool = r.get(prop) if prop else (r.physical_id or p.generated)
        return [p.arn("cognito-idp", f"userpool/{pool}")] if isinstance(pool, str) else []

    return arns


def _http_api(r: Resource, p: Place) -> list[str]:
    apis = p.arn("apigateway", "/apis", account=False)
    api = r.physical_id or p.generated
    return [apis] + ([f"{apis}/{api}"] if api else [])


def _stage(r: Resource, p: Place) -> list[str]:
    api, stage = r.get("ApiId"), r.get("StageName")
    if not isinstance(api, str):
        return []
    stages = p.arn("apigateway", f"/apis/{api}/stages", account=False)
    return [stages] + ([f"{stages}/{stage}"] if isinstance(stage, str) else [])


def _application(r: Resource, p: Place) -> list[str]:
    name = r.name("ApplicationName", p)
    return [] if name is None else [p.arn("codedeploy", f"application:{name}")]


def _deployment_group(r: Resource, p: Place) -> list[str]:
    application = r.get("ApplicationName")
    group = r.name("DeploymentGroupName", p)
    if not isinstance(application, str) or group is None:
        return []
    return [p.arn("codedeploy", f"deploymentgroup:{application}/{group}")]


def _backup_vault(r: Resource, p: Place) -> list[str]:
    name = r.name("BackupVaultName", p)
    return [] if name is None else [p.arn("backup", f"backup-vault:{name}")]


def _backup_plan(prop: str | None) -> Arns:
    """A plan's ARN, from its own physical id or, for a selection, the plan it names:
    backup:CreateBackupSelection acts on the plan
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html)."""

    def arns(r: Resource, p: Place) -> list[str]:
        plan = r.get(prop) if prop else (r.physical_id or p.generated)
        return [p.arn("backup", f"backup-plan:{plan}")] if isinstance(plan, str) else []

    return arns


OWN: dict[str, Arns] = {
    "AWS::ApiGatewayV2::Api": _http_api,
    "AWS::ApiGatewayV2::Stage": _stage,
    "AWS::Backup::BackupPlan": _backup_plan(None),
    "AWS::Backup::BackupSelection": _backup_plan("BackupPlanId"),
    "AWS::Backup::BackupVault": _backup_vault,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::Dashboard": _dashboard,
    "AWS::CodeDeploy::Application": _application,
    "AWS::CodeDeploy::DeploymentGroup": _deployment_group,
    "AWS::Cognito::UserPool": _user_pool(None),
    "AWS::Cognito::UserPoolClient": _user_pool("UserPoolId"),
    "AWS::DynamoDB::Table": _table,
    "AWS::IAM::Role": _role,
    "AWS::KMS::Alias": _key_alias,
    "AWS::KMS::Key": _key,
    "AWS::Lambda::Alias": _lambda_alias,
    "AWS::Lambda::Function": _function("FunctionName"),
    "AWS::Lambda::LayerVersion": _layer,
    "AWS::Lambda::Permission": _permission,
    "AWS::Lambda::Version": _lambda_version,
    "AWS::Logs::LogGroup": _log_group("LogGroupName"),
    "AWS::Logs::MetricFilter": _log_group("LogGroupName"),
    "AWS::S3::Bucket": _bucket("BucketName"),
    "AWS::S3::BucketPolicy": _bucket("Bucket"),
    "AWS::SNS::Subscription": _topics("TopicArn"),
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::TopicPolicy": _topics("Topics"),
}


def _related(r: Resource, p: Place) -> Iterator[str]:
    """ARNs of other resources a resource's properties name, which its handlers act on too:
    the role a function runs as, the object its code is read from, the key it encrypts
    with."""
    for prop in ("Role", "ServiceRoleArn", "SubscriptionRoleArn"):
        for value in _strings(r.get(prop)):
            yield _role_arn(value, p)
    for value in _strings(r.get("BackupSelection", "IamRoleArn")):
        yield _role_arn(value, p)
    for prop in ("KmsKeyArn", "KmsKeyId", "KmsMasterKeyId", "TargetKeyId", "EncryptionKeyArn"):
        for value in _strings(r.get(prop)):
            yield _key_arn(value, p)
    for value in _strings(r.get("SSESpecification", "KMSMasterKeyId")):
        yield _key_arn(value, p)
    yield from _object_arn(r.get("Code"), p)
    yield from _object_arn(r.get("Content"), p)
    yield from _strings(r.get("Layers"))
    config = r.get("DeploymentConfigName")
    if isinstance(config, str):
        yield p.arn("codedeploy", f"deploymentconfig:{config}")
    shift = r.update_policy.get("CodeDeployLambdaAliasUpdate")
    if isinstance(shift, Mapping):
        application, group = shift.get("ApplicationName"), shift.get("DeploymentGroupName")
        if isinstance(application, str) and isinstance(group, str):
            yield p.arn("codedeploy", f"deploymentgroup:{application}/{group}")
            yield p.arn("codedeploy", f"application:{application}")
            # The group's config is not in the alias's properties: any the account has.
            yield p.arn("codedeploy", "deploymentconfig:*")


def own_arns(resource: Resource, place: Place) -> list[str]:
    arns = OWN.get(resource.type)
    if arns is None:
        raise registry.NoSchema(f"no ARNs are modelled for {resource.type}")
    return arns(resource, place)


def _context(action: str, resource: Resource) -> tuple[tuple[str, str], ...]:
    entry = iam_reference.action(action)
    keys = {k.lower() for k in entry.condition_keys}
    context: list[tuple[str, str]] = []
    if action == "iam:PassRole" and resource.type in PASSED_TO:
        context.append((PASSED_TO_SERVICE, PASSED_TO[resource.type]))
    if PERMISSIONS_BOUNDARY.lower() in keys and resource.type == "AWS::IAM::Role":
        boundary = resource.get("PermissionsBoundary")
        if isinstance(boundary, str):
            context.append((PERMISSIONS_BOUNDARY, boundary))
    return tuple(context)


def _takes(action: iam_reference.Action, arn: str) -> bool:
    try:
        kind = action.resource_type(arn)
    except iam_reference.NotInReference:
        return False
    if kind is None:
        return False
    # A type whose service is a variable (AWS Backup's recoveryPoint: ${Vendor}) matches any
    # service's ARN pattern; a handler acts on its own service's resources through it.
    service = kind.arn.split(":")[2]
    return not service.startswith("${") or arn.split(":")[2] == action.name.split(":")[0]


def needs(resource: Resource, operation: str, place: Place) -> tuple[list[Need], list[Skipped]]:
    """The (action, resource) pairs a handler operation needs, and the actions it lists that
    this resource does not need, with why."""
    own = own_arns(resource, place)
    candidates = list(dict.fromkeys([*own, *_related(resource, place)]))
    found: list[Need] = []
    skipped: list[Skipped] = []
    for listed in registry.handler_permissions(resource.type, operation):
        try:
            entry = iam_reference.action(listed)
        except iam_reference.NotInReference:
            skipped.append(Skipped(listed, "not an action in the Service Authorization Reference"))
            continue
        if entry.name in NEVER:
            skipped.append(Skipped(entry.name, f"never granted: {NEVER[entry.name]}"))
            continue
        context = _context(entry.name, resource)
        if not entry.resource_types:
            found.append(Need(entry.name, "*", context))
            continue
        arns = [arn for arn in candidates if _takes(entry, arn)]
        if entry.name in SERVICE_LINKED_ROLE_ACTIONS:
            # Only the service's own service-linked role, never a role the template names.
            linked = SERVICE_LINKED_ROLES.get(resource.type)
            arns = (
                [place.arn("iam", f"role/aws-service-role/{linked}", regional=False)]
                if linked
                else []
            )
            if not arns:
                skipped.append(
                    Skipped(
                        entry.name, f"makes service-linked roles; this {resource.type} names none"
                    )
                )
                continue
        if not arns:
            kinds = ", ".join(sorted({t.name for t in entry.resource_types}))
            skipped.append(Skipped(entry.name, f"acts on {kinds}; this {resource.type} has none"))
            continue
        found.extend(Need(entry.name, arn, context) for arn in arns)
    return list(dict.fromkeys(found)), list(dict.fromkeys(skipped))
