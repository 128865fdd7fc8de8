"""The resource types the emulator's CloudFormation does not know, created as part of the stack.

Each type is one CloudFormation model: create, update and delete call the emulator's own
service API with the template's resolved properties, as CloudFormation's resource handlers
call AWS. They register with moto's CloudFormation the way its own models do (as direct
subclasses of CloudFormationModel), so they appear in the stack's resources, take part in
Ref and Fn::GetAtt, and follow DeletionPolicy like every other resource.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel

from offline.common.endpoint import Endpoint
from offline.common.patching import wrap

# Set by the emulator process once it knows its own address (offline/stack/emulator_app.py).
SELF_URL_VARIABLE = "OFFLINE_EMULATOR_URL"


def client(service: str, region: str) -> Any:
    """A client of this same emulator, as its administrator: handlers call the service API,
    not moto's internals."""
    return Endpoint(os.environ[SELF_URL_VARIABLE]).client(
        service, region, retries={"mode": "standard", "total_max_attempts": 2}
    )


@dataclass
class Created:
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


Create = Callable[[str, str, dict[str, Any]], Created]  # (region, generated name, properties)
Update = Callable[[str, Created, dict[str, Any]], Created]
Delete = Callable[[str, Created, dict[str, Any]], None]


def camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys as the camelCase of APIs such as CodeDeploy's."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


# --- Cognito ---------------------------------------------------------------------------------


def _mfa(region: str, pool_id: str, p: dict[str, Any], enabled: list[str] | None) -> None:
    """EnabledMfas is set through SetUserPoolMfaConfig in the API, not Create/UpdateUserPool
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cognito-userpool.html#cfn-cognito-userpool-enabledmfas)."""
    if enabled:
        client("cognito-idp", region).set_user_pool_mfa_config(
            UserPoolId=pool_id,
            SoftwareTokenMfaConfiguration={"Enabled": "SOFTWARE_TOKEN_MFA" in enabled},
            MfaConfiguration=p.get("MfaConfiguration", "OPTIONAL"),
        )


def _user_pool(region: str, name: str, p: dict[str, Any]) -> Created:
    """UserPoolTier and UserPoolAddOns go to CreateUserPool as they are: the feature plan and
    threat protection (offline/cognito/rules.py holds the rule between them)."""
    p = dict(p)
    pool_name = p.pop("UserPoolName", name)
    mfa = p.pop("EnabledMfas", None)
    pool = client("cognito-idp", region).create_user_pool(PoolName=pool_name, **p)["UserPool"]
    _mfa(region, pool["Id"], p, mfa)
    return Created(
        pool["Id"],
        {
            "Arn": pool["Arn"],
            "UserPoolId": pool["Id"],
            "ProviderName": f"cognito-idp.{region}.amazonaws.com/{pool['Id']}",
            "ProviderURL": f"https://cognito-idp.{region}.amazonaws.com/{pool['Id']}",
        },
    )


def _user_pool_of(region: str, pool_id: str) -> Created:
    """An existing pool, as an import finds it."""
    pool = client("cognito-idp", region).describe_user_pool(UserPoolId=pool_id)["UserPool"]
    return Created(
        pool["Id"],
        {
            "Arn": pool["Arn"],
            "UserPoolId": pool["Id"],
            "ProviderName": f"cognito-idp.{region}.amazonaws.com/{pool['Id']}",
            "ProviderURL": f"https://cognito-idp.{region}.amazonaws.com/{pool['Id']}",
        },
    )


def _keep(region: str, old: Created, p: dict[str, Any]) -> Created:
    """Updated in place; the emulator keeps the resource (and its data) as it is."""
    return old


def _update_user_pool(region: str, old: Created, p: dict[str, Any]) -> Created:
    """The pool's updatable properties through UpdateUserPool, which "No interruption"
    properties such as UserPoolTier, UserPoolAddOns and MfaConfiguration are
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cognito-userpool.html);
    the pool, its users and their data are kept."""
    cognito = client("cognito-idp", region)
    updatable = set(
        cognito.meta.service_model.operation_model("UpdateUserPool").input_shape.members
    )
    request = {k: v for k, v in p.items() if k in updatable - {"UserPoolId", "PoolName"}}
    cognito.update_user_pool(UserPoolId=old.physical_id, **request)
    _mfa(region, old.physical_id, p, p.get("EnabledMfas"))
    return old


def _delete_user_pool(region: str, old: Created, p: dict[str, Any]) -> None:
    client("cognito-idp", region).delete_user_pool(UserPoolId=old.physical_id)


def _user_pool_client(region: str, name: str, p: dict[str, Any]) -> Created:
    p = {"ClientName": name, **p}
    created = client("cognito-idp", region).create_user_pool_client(**p)["UserPoolClient"]
    return Created(created["ClientId"], {"ClientId": created["ClientId"]})


def _update_user_pool_client(region: str, old: Created, p: dict[str, Any]) -> Created:
    client("cognito-idp", region).update_user_pool_client(ClientId=old.physical_id, **p)
    return old


def _delete_user_pool_client(region: str, old: Created, p: dict[str, Any]) -> None:
    client("cognito-idp", region).delete_user_pool_client(
        UserPoolId=p["UserPoolId"], ClientId=old.physical_id
    )


# --- S3, SNS ---------------------------------------------------------------------------------


def _bucket_policy(region: str, name: str, p: dict[str, Any]) -> Created:
    client("s3", region).put_bucket_policy(
        Bucket=p["Bucket"], Policy=json.dumps(p["PolicyDocument"])
    )
    return Created(p["Bucket"])


def _update_bucket_policy(region: str, old: Created, p: dict[str, Any]) -> Created:
    return _bucket_policy(region, old.physical_id, p)


def _delete_bucket_policy(region: str, old: Created, p: dict[str, Any]) -> None:
    client("s3", region).delete_bucket_policy(Bucket=old.physical_id)


def _topic_policy(region: str, name: str, p: dict[str, Any]) -> Created:
    for topic in p["Topics"]:
        client("sns", region).set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(p["PolicyDocument"])
        )
    return Created(name)


def _update_topic_policy(region: str, old: Created, p: dict[str, Any]) -> Created:
    return _topic_policy(region, old.physical_id, p)


def _subscription(region: str, name: str, p: dict[str, Any]) -> Created:
    arn = client("sns", region).subscribe(
        TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"]
    )["SubscriptionArn"]
    return Created(arn)


def _unsubscribe(region: str, old: Created, p: dict[str, Any]) -> None:
    client("sns", region).unsubscribe(SubscriptionArn=old.physical_id)


# --- CloudWatch ------------------------------------------------------------------------------


def _metric_filter(region: str, name: str, p: dict[str, Any]) -> Created:
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
    filter_name = p.get("FilterName", name)
    client("logs", region).put_metric_filter(
        logGroupName=p["LogGroupName"],
        filterName=filter_name,
        filterPattern=p["FilterPattern"],
        metricTransformations=transforms,
    )
    return Created(filter_name)


def _update_metric_filter(region: str, old: Created, p: dict[str, Any]) -> Created:
    return _metric_filter(region, old.physical_id, p)


def _delete_metric_filter(region: str, old: Created, p: dict[str, Any]) -> None:
    client("logs", region).delete_metric_filter(
        logGroupName=p["LogGroupName"], filterName=old.physical_id
    )


def _alarm(region: str, name: str, p: dict[str, Any]) -> Created:
    p = {"AlarmName": name, **p}
    cloudwatch = client("cloudwatch", region)
    cloudwatch.put_metric_alarm(**p)
    arn = cloudwatch.describe_alarms(AlarmNames=[p["AlarmName"]])["MetricAlarms"][0]["AlarmArn"]
    return Created(p["AlarmName"], {"Arn": arn})


def _update_alarm(region: str, old: Created, p: dict[str, Any]) -> Created:
    return _alarm(region, old.physical_id, p)


def _delete_alarm(region: str, old: Created, p: dict[str, Any]) -> None:
    client("cloudwatch", region).delete_alarms(AlarmNames=[old.physical_id])


# --- API Gateway, Lambda aliases, CodeDeploy ---------------------------------------------------


def _http_api(region: str, name: str, p: dict[str, Any]) -> Created:
    """The API's id and endpoint; its routes are served by the local gateway, which reads them
    from the stack's processed template (the emulator has no ImportApi)."""
    title = p.get("Body", {}).get("info", {}).get("title") or p.get("Name", name)
    api = client("apigatewayv2", region).create_api(
        Name=title, ProtocolType=p.get("ProtocolType", "HTTP")
    )
    endpoint = f"https://{api['ApiId']}.execute-api.{region}.amazonaws.com"
    return Created(api["ApiId"], {"ApiId": api["ApiId"], "ApiEndpoint": endpoint})


def _delete_http_api(region: str, old: Created, p: dict[str, Any]) -> None:
    client("apigatewayv2", region).delete_api(ApiId=old.physical_id)


def _stage(region: str, name: str, p: dict[str, Any]) -> Created:
    client("apigatewayv2", region).create_stage(
        ApiId=p["ApiId"], StageName=p["StageName"], AutoDeploy=bool(p.get("AutoDeploy", False))
    )
    return Created(p["StageName"])


def _delete_stage(region: str, old: Created, p: dict[str, Any]) -> None:
    client("apigatewayv2", region).delete_stage(ApiId=p["ApiId"], StageName=old.physical_id)


def _alias(region: str, name: str, p: dict[str, Any]) -> Created:
    alias = client("lambda", region).create_alias(
        FunctionName=p["FunctionName"], Name=p["Name"], FunctionVersion=p["FunctionVersion"]
    )
    return Created(alias["AliasArn"], {"AliasArn": alias["AliasArn"]})


def _update_alias(region: str, old: Created, p: dict[str, Any]) -> Created:
    client("lambda", region).update_alias(
        FunctionName=p["FunctionName"], Name=p["Name"], FunctionVersion=p["FunctionVersion"]
    )
    return old


def _delete_alias(region: str, old: Created, p: dict[str, Any]) -> None:
    client("lambda", region).delete_alias(FunctionName=p["FunctionName"], Name=p["Name"])


def _codedeploy_application(region: str, name: str, p: dict[str, Any]) -> Created:
    application = p.get("ApplicationName", name)
    client("codedeploy", region).create_application(
        applicationName=application, computePlatform=p.get("ComputePlatform", "Lambda")
    )
    return Created(application)


def _deployment_group(region: str, name: str, p: dict[str, Any]) -> Created:
    group = p.get("DeploymentGroupName", name)
    client("codedeploy", region).create_deployment_group(
        **{**camel(p), "deploymentGroupName": group}
    )
    return Created(group)


# --- AWS Backup ------------------------------------------------------------------------------


def _vault_attributes(vault: dict[str, Any]) -> dict[str, Any]:
    return {"BackupVaultName": vault["BackupVaultName"], "BackupVaultArn": vault["BackupVaultArn"]}


def _lock(region: str, name: str, p: dict[str, Any]) -> None:
    backup = client("backup", region)
    lock = p.get("LockConfiguration")
    if lock:
        backup.put_backup_vault_lock_configuration(
            BackupVaultName=name, **{k: int(v) for k, v in lock.items()}
        )
    else:
        backup.delete_backup_vault_lock_configuration(BackupVaultName=name)


def _backup_vault(region: str, name: str, p: dict[str, Any]) -> Created:
    vault_name = p.get("BackupVaultName", name)
    options = {k: p[k] for k in ("EncryptionKeyArn", "BackupVaultTags") if k in p}
    vault = client("backup", region).create_backup_vault(BackupVaultName=vault_name, **options)
    if p.get("LockConfiguration"):
        _lock(region, vault_name, p)
    return Created(vault_name, _vault_attributes(vault))


def backup_vault_of(region: str, name: str) -> Created:
    """An existing vault, as an import finds it."""
    vault = client("backup", region).describe_backup_vault(BackupVaultName=name)
    return Created(name, _vault_attributes(vault))


def _update_backup_vault(region: str, old: Created, p: dict[str, Any]) -> Created:
    _lock(region, old.physical_id, p)
    return old


def _delete_backup_vault(region: str, old: Created, p: dict[str, Any]) -> None:
    client("backup", region).delete_backup_vault(BackupVaultName=old.physical_id)


# CloudFormation's BackupRuleResourceType names the vault TargetBackupVault; the API's
# BackupRuleInput calls it TargetBackupVaultName.
RULE_FIELDS = ("RuleName", "ScheduleExpression", "ScheduleExpressionTimezone",
               "StartWindowMinutes", "CompletionWindowMinutes", "Lifecycle", "RecoveryPointTags",
               "CopyActions", "EnableContinuousBackup", "IndexActions")  # fmt: skip


def _plan_document(p: dict[str, Any]) -> dict[str, Any]:
    plan = p["BackupPlan"]
    rules = [
        {
            "TargetBackupVaultName": rule["TargetBackupVault"],
            **{k: rule[k] for k in RULE_FIELDS if k in rule},
        }
        for rule in plan.get("BackupPlanRule", [])
    ]
    document = {"BackupPlanName": plan["BackupPlanName"], "Rules": rules}
    if "AdvancedBackupSettings" in plan:
        document["AdvancedBackupSettings"] = plan["AdvancedBackupSettings"]
    return document


def _plan_attributes(plan: dict[str, Any]) -> dict[str, Any]:
    return {k: plan[k] for k in ("BackupPlanId", "BackupPlanArn", "VersionId")}


def _backup_plan(region: str, name: str, p: dict[str, Any]) -> Created:
    options = {"BackupPlanTags": p["BackupPlanTags"]} if "BackupPlanTags" in p else {}
    plan = client("backup", region).create_backup_plan(BackupPlan=_plan_document(p), **options)
    return Created(plan["BackupPlanId"], _plan_attributes(plan))


def _update_backup_plan(region: str, old: Created, p: dict[str, Any]) -> Created:
    plan = client("backup", region).update_backup_plan(
        BackupPlanId=old.physical_id, BackupPlan=_plan_document(p)
    )
    return Created(old.physical_id, _plan_attributes(plan))


def _delete_backup_plan(region: str, old: Created, p: dict[str, Any]) -> None:
    client("backup", region).delete_backup_plan(BackupPlanId=old.physical_id)


def _backup_selection(region: str, name: str, p: dict[str, Any]) -> Created:
    selection = client("backup", region).create_backup_selection(
        BackupPlanId=p["BackupPlanId"], BackupSelection=p["BackupSelection"]
    )
    return Created(
        selection["SelectionId"],
        {"SelectionId": selection["SelectionId"], "BackupPlanId": p["BackupPlanId"]},
    )


def _delete_backup_selection(region: str, old: Created, p: dict[str, Any]) -> None:
    client("backup", region).delete_backup_selection(
        BackupPlanId=old.attributes["BackupPlanId"], SelectionId=old.physical_id
    )


def _replace_backup_selection(region: str, old: Created, p: dict[str, Any]) -> Created:
    """Every property of a selection is create-only: a change replaces it."""
    created = _backup_selection(region, old.physical_id, p)
    _delete_backup_selection(region, old, p)
    return created


def _not_found(error: Exception) -> bool:
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status == 404 or "NotFound" in error.response.get("Error", {}).get("Code", "")
    return "not found" in str(error).lower()


@dataclass(frozen=True)
class Handlers:
    create: Create
    update: Update
    delete: Delete | None = None  # None: nothing to remove on the service side
    name_property: str = ""  # the property that names it; absent, CloudFormation makes one


HANDLERS: dict[str, Handlers] = {
    "AWS::Cognito::UserPool": Handlers(
        _user_pool, _update_user_pool, _delete_user_pool, "UserPoolName"
    ),
    "AWS::Cognito::UserPoolClient": Handlers(
        _user_pool_client, _update_user_pool_client, _delete_user_pool_client, "ClientName"
    ),
    "AWS::S3::BucketPolicy": Handlers(_bucket_policy, _update_bucket_policy, _delete_bucket_policy),
    "AWS::SNS::TopicPolicy": Handlers(_topic_policy, _update_topic_policy),
    "AWS::SNS::Subscription": Handlers(_subscription, _keep, _unsubscribe),
    "AWS::Logs::MetricFilter": Handlers(
        _metric_filter, _update_metric_filter, _delete_metric_filter, "FilterName"
    ),
    "AWS::CloudWatch::Alarm": Handlers(_alarm, _update_alarm, _delete_alarm, "AlarmName"),
    "AWS::Backup::BackupVault": Handlers(
        _backup_vault, _update_backup_vault, _delete_backup_vault, "BackupVaultName"
    ),
    "AWS::Backup::BackupPlan": Handlers(_backup_plan, _update_backup_plan, _delete_backup_plan),
    "AWS::Backup::BackupSelection": Handlers(
        _backup_selection, _replace_backup_selection, _delete_backup_selection
    ),
    "AWS::ApiGatewayV2::Api": Handlers(_http_api, _keep, _delete_http_api),
    "AWS::ApiGatewayV2::Stage": Handlers(_stage, _keep, _delete_stage),
    "AWS::Lambda::Alias": Handlers(_alias, _update_alias, _delete_alias),
    "AWS::CodeDeploy::Application": Handlers(
        # The emulator's CodeDeploy cannot delete; a stack delete leaves these behind.
        _codedeploy_application,
        _keep,
        None,
        "ApplicationName",
    ),
    "AWS::CodeDeploy::DeploymentGroup": Handlers(
        _deployment_group, _keep, None, "DeploymentGroupName"
    ),
}


class ServiceResource:
    """Behaviour shared by every model below; each model class adds only its type."""

    resource_type: str
    created: Created
    properties: dict[str, Any]
    region: str

    @property
    def physical_resource_id(self) -> str:
        return self.created.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True  # checked when the attribute is read, against what the service returned

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name not in self.created.attributes:
            raise UnformattedGetAttTemplateException()
        return self.created.attributes[attribute_name]

    def delete(self, account_id: str, region_name: str) -> None:
        handlers = HANDLERS[self.resource_type]
        if handlers.delete is None:
            return
        try:
            handlers.delete(region_name, self.created, self.properties)
        except (ClientError, ResponseParserError) as error:
            # Already gone (a function deleted before its alias, say): CloudFormation counts
            # a delete of a missing resource as done.
            if not _not_found(error):
                raise


def _model(resource_type: str, handlers: Handlers) -> type[CloudFormationModel]:
    def init(self: Any, region: str, created: Created, properties: dict[str, Any]) -> None:
        self.region, self.created, self.properties = region, created, properties

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json.get("Properties", {})
        name = re.sub(r"[^A-Za-z0-9-_]", "-", resource_name)
        return cls(region_name, handlers.create(region_name, name, properties), properties)

    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json.get("Properties", {})
        created = handlers.update(region_name, original_resource.created, properties)
        return cls(region_name, created, properties)

    def delete_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        raise TypeError("deleted through the instance")  # parsing falls back only on TypeError

    name = "Emulated" + resource_type.split("::", 1)[1].replace("::", "")
    return type(
        name,
        (ServiceResource, CloudFormationModel),
        {
            "resource_type": resource_type,
            "__module__": __name__,
            "__init__": init,
            "cloudformation_type": staticmethod(lambda: resource_type),
            "cloudformation_name_type": staticmethod(lambda: handlers.name_property),
            "create_from_cloudformation_json": classmethod(create_from_cloudformation_json),
            "update_from_cloudformation_json": classmethod(update_from_cloudformation_json),
            "delete_from_cloudformation_json": classmethod(delete_from_cloudformation_json),
        },
    )


MODELS = {kind: _model(kind, handlers) for kind, handlers in HANDLERS.items()}
# Each model is also a name of this module, where pickle finds a class: the emulator's saved
# state (offline/stack/emulator_state.py) holds stack resources of these types.
globals().update({model.__name__: model for model in MODELS.values()})


def imported_backup_vault(region: str, name: str, properties: dict[str, Any]) -> Any:
    return MODELS["AWS::Backup::BackupVault"](region, backup_vault_of(region, name), properties)


def imported_user_pool(region: str, pool_id: str, properties: dict[str, Any]) -> Any:
    """An existing user pool as a stack resource: what a resource import adopts."""
    return MODELS["AWS::Cognito::UserPool"](region, _user_pool_of(region, pool_id), properties)


def _complete_lambda_version() -> None:
    """moto's AWS::Lambda::Version keeps only the number. In AWS, Ref gives the version's ARN
    and Fn::GetAtt answers Version (CloudFormation's aws-resource-lambda-version.html)."""
    from moto.awslambda import models

    # Patched in place: moto's own types do not allow it, so it is handled as Any.
    LambdaVersion: Any = models.LambdaVersion
    get_backend: Any = models.get_backend

    if getattr(LambdaVersion, "_offline", False):
        return

    def create(
        cls: Any,
        name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        function = cloudformation_json["Properties"]["FunctionName"]
        published = get_backend(account_id, region_name).publish_version(function)
        version = LambdaVersion({"Version": published.version})
        version.arn = published.function_arn
        return version

    def attribute(self: Any, name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if name == "Version":
            return str(self.version)
        raise UnformattedGetAttTemplateException()

    LambdaVersion.create_from_cloudformation_json = classmethod(create)
    LambdaVersion.get_cfn_attribute = attribute
    LambdaVersion.has_cfn_attr = classmethod(lambda cls, name: name == "Version")
    LambdaVersion.physical_resource_id = property(lambda self: self.arn)
    LambdaVersion._offline = True


def _complete_lambda_function() -> None:
    """moto's AWS::Lambda::Function is created without its layers, architectures, tracing,
    key or SnapStart, and Ref to a layer version gives moto's object instead of the version's
    ARN, which AWS gives (aws-resource-lambda-layerversion.html), so an update that changes the
    layers fails. The deployed configuration holds what the template says."""
    from moto.awslambda import models

    LambdaFunction: Any = models.LambdaFunction  # patched in place, as Any
    LayerVersion: Any = models.LayerVersion

    original = LambdaFunction.create_from_cloudformation_json
    if getattr(original, "_offline", False):
        return

    def create(cls: Any, name: str, cloudformation_json: dict[str, Any], *args: Any, **kw: Any):
        function = original.__func__(cls, name, cloudformation_json, *args, **kw)
        properties = cloudformation_json["Properties"]
        if "Layers" in properties:
            function.layers = function._get_layers_data(properties["Layers"])
        function.architectures = properties.get("Architectures", function.architectures)
        function.tracing_config = properties.get("TracingConfig", function.tracing_config)
        function.kms_key_arn = properties.get("KmsKeyArn", function.kms_key_arn)
        function.offline_snap_start = (properties.get("SnapStart") or {}).get("ApplyOn", "None")
        return function

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config = get_configuration.original(self, on_create)  # type: ignore[attr-defined]
        # https://docs.aws.amazon.com/lambda/latest/api/API_SnapStartResponse.html
        applied = getattr(self, "offline_snap_start", "None")
        status = "On" if applied == "PublishedVersions" and self.version != "$LATEST" else "Off"
        config["SnapStart"] = {"ApplyOn": applied, "OptimizationStatus": status}
        return config

    get_configuration.original = LambdaFunction.get_configuration  # type: ignore[attr-defined]
    create._offline = True  # type: ignore[attr-defined]
    LambdaFunction.create_from_cloudformation_json = classmethod(create)
    LambdaFunction.get_configuration = get_configuration
    LayerVersion.physical_resource_id = property(lambda self: self.arn)


def _lambda_permission_named() -> None:
    """An AWS::Lambda::Permission is one statement of its function's policy, identified by
    the function and the statement's Id, which CloudFormation names from the stack and the
    logical id (the registry schema's primaryIdentifier is FunctionName and Id; Id is
    read-only: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-permission.html#aws-resource-lambda-permission-return-values).
    moto adds the statement under a random Sid and gives the resource no physical id, so
    DescribeStackResources listed it without a PhysicalResourceId."""
    from moto.awslambda import models

    Permission: Any = models.Permission

    def make(original: Any) -> Callable[..., Any]:  # bound to the model: called as cls's
        def create(cls: Any, name: str, cloudformation_json: dict[str, Any], *args: Any, **kw: Any):
            # `name` is the physical name moto's CloudFormation made: stack-LogicalId-SUFFIX.
            properties = {**cloudformation_json["Properties"], "StatementId": name}
            permission = original.__func__(
                cls, name, {**cloudformation_json, "Properties": properties}, *args, **kw
            )
            permission.statement_id = name
            return permission

        return create

    wrap(Permission, "create_from_cloudformation_json", make)
    Permission.physical_resource_id = property(lambda self: self.statement_id)
    Permission.has_cfn_attr = classmethod(lambda cls, name: name == "Id")
    Permission.get_cfn_attribute = lambda self, name: self.statement_id


def _log_group_arn_as_cloudformation_gives_it() -> None:
    """Fn::GetAtt of an AWS::Logs::LogGroup's Arn ends in `:*` in AWS, which is what lets a
    policy on it cover the group's streams
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html#aws-resource-logs-loggroup-return-values);
    moto gives the bare group ARN."""
    from moto.logs import models

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def attribute(self: Any, name: str) -> Any:
            value = original(self, name)
            return f"{value}:*" if name == "Arn" and not str(value).endswith(":*") else value

        return attribute

    wrap(models.LogGroup, "get_cfn_attribute", make)


def _role_policies_as_text() -> None:
    """IAM stores an inline policy as the JSON text it was given, and GetRolePolicy returns
    it so; moto keeps a CloudFormation role's policy as a Python dict and answers with its
    repr, which no client can parse."""
    from moto.iam import models

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def put_policy(self: Any, policy_name: str, policy_json: Any) -> None:
            text = policy_json if isinstance(policy_json, str) else json.dumps(policy_json)
            original(self, policy_name, text)

        return put_policy

    wrap(models.Role, "put_policy", make)


def _created_with(
    model: Any,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    after: Callable[[Any, dict[str, Any]], None] | None = None,
) -> None:
    """A model's create_from_cloudformation_json given the template's properties as `change`
    rewrites them (moto reads some only in the API's spelling or type), then `after` given
    the created resource, for what moto's model does not apply at all."""

    def make(original: Any) -> Callable[..., Any]:  # bound to the model: called as cls's
        def create(cls: Any, name: str, cloudformation_json: dict[str, Any], *args: Any, **kw: Any):
            properties = change(dict(cloudformation_json["Properties"]))
            created = original.__func__(cls, name, {**cloudformation_json,
                                        "Properties": properties}, *args, **kw)  # fmt: skip
            if after is not None:
                after(created, properties)
            return created

        return create

    wrap(model, "create_from_cloudformation_json", make)


def _log_group_keeps_its_key() -> None:
    """An AWS::Logs::LogGroup's KmsKeyId encrypts the group; moto's model reads the API's
    `kmsKeyId` spelling only, and drops it."""
    from moto.logs import models

    def change(properties: dict[str, Any]) -> dict[str, Any]:
        if "KmsKeyId" in properties:
            properties["kmsKeyId"] = properties.pop("KmsKeyId")
        return properties

    _created_with(models.LogGroup, change)


def _table_encryption_as_the_api_spells_it() -> None:
    """An AWS::DynamoDB::Table's SSESpecification says `SSEEnabled`
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-table-ssespecification.html),
    the API's says `Enabled`; moto's model keeps the template's spelling, and then neither
    DescribeTable nor the emulator's KMS checks see the table as encrypted."""
    from moto.dynamodb.models import table

    def change(properties: dict[str, Any]) -> dict[str, Any]:
        sse = properties.get("SSESpecification")
        if isinstance(sse, dict) and "SSEEnabled" in sse:
            sse = dict(sse)
            sse["Enabled"] = sse.pop("SSEEnabled")
            properties["SSESpecification"] = sse
        return properties

    _created_with(table.Table, change, _point_in_time_recovery)


def _point_in_time_recovery(resource: Any, properties: dict[str, Any]) -> None:
    """A table's PointInTimeRecoverySpecification
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-table-pointintimerecoveryspecification.html),
    which moto's model ignores, applied as UpdateContinuousBackups applies it."""
    from moto.dynamodb.models import dynamodb_backends

    spec = properties.get("PointInTimeRecoverySpecification")
    if not isinstance(spec, dict) or resource is None:
        return
    enabled = str(spec.get("PointInTimeRecoveryEnabled", False)).lower() == "true"
    backend = dynamodb_backends[resource.account_id][resource.region_name]
    backend.update_continuous_backups(resource.name, {"PointInTimeRecoveryEnabled": enabled})


def _bucket_keys_kept() -> None:
    """A bucket's BucketEncryption keeps `BucketKeyEnabled`, which decides the encryption
    context of its KMS calls (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html);
    moto's CloudFormation drops it."""
    from moto.s3 import models

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def convert(properties: dict[str, Any]) -> Any:
            converted = original(properties)
            rule = properties["ServerSideEncryptionConfiguration"][0]
            if "BucketKeyEnabled" in rule:
                converted["Rule"]["BucketKeyEnabled"] = str(rule["BucketKeyEnabled"]).lower()
            return converted

        return convert

    wrap(models, "cfn_to_api_encryption", make)


def _bucket_cors_applied() -> None:
    """An AWS::S3::Bucket's CorsConfiguration
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-corsconfiguration.html,
    "Update requires: No interruption") set as PutBucketCors sets it, on create and on update;
    moto's CloudFormation ignores it, and a browser's upload then met a bucket without
    rules."""
    from moto.s3 import models

    _created_with(models.FakeBucket, lambda properties: properties, _bucket_cors)

    def make(original: Any) -> Callable[..., Any]:  # bound to the model: called as cls's
        def update(cls: Any, *args: Any, **kw: Any) -> Any:
            updated = original.__func__(cls, *args, **kw)
            # moto's CloudFormation passes the arguments by name; the template is the third.
            template = kw["cloudformation_json"] if "cloudformation_json" in kw else args[2]
            _bucket_cors(updated, template.get("Properties", {}))
            return updated

        return update

    wrap(models.FakeBucket, "update_from_cloudformation_json", make)


def _bucket_cors(bucket: Any, properties: dict[str, Any]) -> None:
    """The template's CorsRules (AllowedHeaders, AllowedMethods, AllowedOrigins,
    ExposedHeaders, Id, MaxAge:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-corsrule.html)
    as the bucket keeps a PutBucketCors document; none removes the configuration."""
    if bucket is None:
        return
    rules = (properties.get("CorsConfiguration") or {}).get("CorsRules") or []
    bucket.set_cors([
        {
            "AllowedMethod": list(rule["AllowedMethods"]),
            "AllowedOrigin": list(rule["AllowedOrigins"]),
            **({"AllowedHeader": list(rule["AllowedHeaders"])} if "AllowedHeaders" in rule else {}),
            **({"ExposeHeader": list(rule["ExposedHeaders"])} if "ExposedHeaders" in rule else {}),
            **({"MaxAgeSeconds": str(rule["MaxAge"])} if "MaxAge" in rule else {}),
            **({"ID": str(rule["Id"])} if "Id" in rule else {}),
        }
        for rule in rules
    ])  # fmt: skip


def _key_policy_as_text() -> None:
    """CloudFormation takes KeyPolicy as a JSON object; KMS stores and returns it as text. moto
    keeps the object, and then fails every DescribeKey on that key."""
    from moto.kms import models

    def change(properties: dict[str, Any]) -> dict[str, Any]:
        if isinstance(properties.get("KeyPolicy"), dict):
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        return properties

    _created_with(models.Key, change)


def _layer_named() -> None:
    """An AWS::Lambda::LayerVersion is published under its LayerName
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-layerversion.html#cfn-lambda-layerversion-layername);
    moto publishes it under a name it generates from the stack, so the version's ARN was not the
    one a policy naming the layer grants."""
    from moto.awslambda import models

    LayerVersion: Any = models.LayerVersion

    def make(original: Any) -> Callable[..., Any]:  # bound to the model: called as cls's
        def create(cls: Any, name: str, cloudformation_json: dict[str, Any], *args: Any, **kw: Any):
            layer_name = cloudformation_json.get("Properties", {}).get("LayerName")
            return original(layer_name if isinstance(layer_name, str) else name,
                            cloudformation_json, *args, **kw)  # fmt: skip

        return create

    wrap(LayerVersion, "create_from_cloudformation_json", make)


def update_in_place(kind: str, resource: Any, properties: dict[str, Any]) -> None:
    """What an update of a type moto cannot update changes on the resource it keeps: a table's
    point-in-time recovery and TimeToLiveSpecification (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html#cfn-dynamodb-table-timetolivespecification,
    "Update requires: No interruption")."""
    if kind != "AWS::DynamoDB::Table" or resource is None:
        return
    from moto.dynamodb.models import dynamodb_backends

    spec = properties.get("TimeToLiveSpecification")
    backend = dynamodb_backends[resource.account_id][resource.region_name]
    if isinstance(spec, dict) and "AttributeName" in spec:
        enabled = str(spec.get("Enabled", False)).lower() == "true"
        backend.update_time_to_live(resource.name, {**spec, "Enabled": enabled})
    _point_in_time_recovery(resource, properties)


def register() -> None:
    """Make moto's CloudFormation see the models (its type map is cached on first use)."""
    _layer_named()
    _complete_lambda_version()
    _complete_lambda_function()
    _lambda_permission_named()
    _log_group_arn_as_cloudformation_gives_it()
    _bucket_keys_kept()
    _bucket_cors_applied()
    _log_group_keeps_its_key()
    _table_encryption_as_the_api_spells_it()
    _role_policies_as_text()
    _key_policy_as_text()
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    missing = set(MODELS) - set(parsing.get_model_map())
    if missing:
        raise RuntimeError(f"models not registered: {sorted(missing)}")
