"""Lambda functions, their log groups and the layers they share."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import ClassVar

from troposphere import GetAtt, If, Ref, Sub, Template, awslambda, serverless
from troposphere.serverless import SnapStart

from template_gen import rollout
from template_gen.defaults import encrypted_log_group
from template_gen.findings import LAMBDA_FUNCTION, RESOLVED_LAYER_NAME, waiver_metadata
from template_gen.model import (
    SERVICE_NAME_VARIABLE,
    Buildable,
    Function,
    Route,
    SecureParameter,
    Spec,
    Table,
    environment_variable,
)
from template_gen.naming import (
    HTTP_API,
    STACK_KEY,
    Names,
    bucket_id,
    function_id,
    layer_id,
    log_group_id,
    logical_id,
    role_id,
    table_id,
)
from template_gen.parameters import IS_PROD


class LoggingConfig(awslambda.LoggingConfig):
    """troposphere's LoggingConfig lost LogFormat to a later class of the same name."""

    props: ClassVar[dict] = {**awslambda.LoggingConfig.props, "LogFormat": (str, False)}


def environment(spec: Spec, names: Names, function: Function, build_version: str) -> dict:
    """Names of what the function relates to, never values: secrets are fetched at run time."""
    variables: dict = {
        SERVICE_NAME_VARIABLE: function.name,
        "POWERTOOLS_METRICS_NAMESPACE": Sub(names.metric_namespace()),
    }
    for relation in function.relations:
        resource = spec.resource(relation.target)
        key = environment_variable(resource)
        if isinstance(resource, SecureParameter):
            variables[key] = names.parameter(resource.name).sub()
        elif isinstance(resource, Table):
            variables[key] = Ref(table_id(resource.name))
        else:
            variables[key] = Ref(bucket_id(resource.name))
    if function.reports_build_version:
        variables["BUILD_VERSION"] = build_version
    return variables


def route_event(route: Route) -> tuple[str, dict]:
    """One SAM HttpApi event per route, keyed by a name made from the plain route key."""
    properties: dict = {
        "ApiId": Ref(HTTP_API),
        "Method": route.method,
        "Path": route.path,
        "PayloadFormatVersion": "2.0",
    }
    if not route.authorized:
        properties["Auth"] = {"Authorizer": "NONE"}
    return logical_id(route.method, route.path.replace("{", "by ").replace("}", "")), {
        "Type": "HttpApi",
        "Properties": properties,
    }


def version_key(spec: Spec, function: Function, artifacts: Mapping[str, str]) -> str:
    """What a published version is made of: the function's zip and the zips of its layers.
    SAM names a new Version from the code, environment and memory only
    (samtranslator/model/sam_resources.py, _construct_version), so a change to a layer alone
    would leave `live` on the old version. The zips' names carry their content hashes."""
    code: tuple[Buildable, ...] = (function, *spec.layers_of(function))
    uris = [artifacts.get(item.name, item.source) for item in code]
    return hashlib.sha256("\n".join(uris).encode()).hexdigest()


def add_layers(template: Template, spec: Spec, names: Names, artifacts: Mapping[str, str]) -> None:
    for layer in spec.layers:
        template.add_resource(
            serverless.LayerVersion(
                layer_id(layer.name),
                LayerName=names.layer(layer.name).sub(),
                Description=layer.description,
                ContentUri=artifacts.get(layer.name, layer.source),
                CompatibleRuntimes=[spec.runtime],
                CompatibleArchitectures=[spec.architecture],
                # Old versions stay, so a rollback can return to them.
                RetentionPolicy="Retain",
                Metadata=waiver_metadata(RESOLVED_LAYER_NAME),
            )
        )


def layers(spec: Spec, function: Function) -> dict[str, list[Ref]]:
    """`Layers`, left out where a function loads none."""
    used = [Ref(layer_id(layer.name)) for layer in spec.layers_of(function)]
    return {"Layers": used} if used else {}


def add_functions(
    template: Template,
    spec: Spec,
    names: Names,
    artifacts: Mapping[str, str],
    build_version: str,
) -> None:
    for function in spec.functions:
        template.add_resource(
            encrypted_log_group(
                log_group_id(function.name), names.function_log_group(function.name)
            )
        )
        template.add_resource(
            serverless.Function(
                function_id(function.name),
                FunctionName=names.function(function.name).sub(),
                Description=function.description,
                CodeUri=artifacts.get(function.name, function.source),
                Handler=function.handler,
                Runtime=spec.runtime,
                Architectures=[spec.architecture],
                MemorySize=function.memory_mb,
                Timeout=function.timeout_s,
                Tracing="Active",
                Role=GetAtt(role_id(function.name), "Arn"),
                KmsKeyArn=GetAtt(STACK_KEY, "Arn"),
                **layers(spec, function),
                LoggingConfig=LoggingConfig(
                    LogFormat="JSON",
                    LogGroup=Ref(log_group_id(function.name)),
                    ApplicationLogLevel="INFO",
                    SystemLogLevel="WARN",
                ),
                Environment=serverless.Environment(
                    Variables=environment(spec, names, function, build_version)
                ),
                Events=dict(route_event(route) for route in function.routes),
                # Published versions start from a snapshot in prod: a cold start restores
                # instead of importing (backend_kit/snapstart.py refreshes what must not be
                # shared); elsewhere no snapshot is taken, so no caching cost.
                SnapStart=If(
                    IS_PROD,
                    SnapStart(ApplyOn="PublishedVersions"),
                    SnapStart(ApplyOn="None"),
                ),
                AutoPublishAlias=rollout.ALIAS,
                AutoPublishCodeSha256=version_key(spec, function, artifacts),
                DeploymentPreference=rollout.deployment_preference(function),
                Metadata=waiver_metadata(*LAMBDA_FUNCTION),
            )
        )
