"""`build_template(spec, artifacts)`: the spec to a SAM template, as a pure function."""

from __future__ import annotations

from collections.abc import Mapping

from troposphere import GetAtt, Output, Ref, Template

from template_gen import (
    api,
    backup,
    encryption,
    functions,
    iam,
    monitoring,
    parameters,
    rollout,
    storage,
)
from template_gen.model import UNBUILT, Spec
from template_gen.naming import (
    ALARM_TOPIC,
    BACKUP_VAULT,
    HTTP_API,
    USER_POOL,
    USER_POOL_CLIENT,
    Names,
    bucket_id,
    logical_id,
    table_id,
)
from template_gen.parameters import IS_PROD
from template_gen.validate import validate_spec

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


def build_template(
    spec: Spec, artifacts: Mapping[str, str] | None = None, build_version: str = UNBUILT
) -> Template:
    """Render the stack. `artifacts` maps a function or layer name to its built CodeUri;
    a name missing from it points at its source folder, as `sam build` expects.
    `build_version` is the build's content hash, for functions that report it."""
    validate_spec(spec)
    artifacts = artifacts or {}
    names = Names(spec.project)
    template = Template(
        Description=f"{spec.project}: HTTP API, functions, tables and buckets (rendered from"
        " template_gen/spec.py; do not edit)"
    )
    template.set_version("2010-09-09")
    template.set_transform(SAM_TRANSFORM)
    parameters.add_parameters(template, spec)
    encryption.add_stack_key(template, spec, names)
    storage.add_tables(template, spec, names)
    storage.add_buckets(template, spec, names)
    backup.add_backups(template, spec, names)
    iam.add_roles(template, spec, names)
    rollout.add_deployment_role(template, spec, names)
    functions.add_layers(template, spec, names, artifacts)
    functions.add_functions(template, spec, names, artifacts, build_version)
    api.add_user_pool(template, names)
    api.add_http_api(template, spec, names)
    monitoring.add_alarm_topic(template, names)
    monitoring.add_function_alarms(template, spec, names)
    monitoring.add_api_alarms(template, spec, names)
    monitoring.add_table_alarms(template, spec, names)
    monitoring.add_dashboard(template, spec, names)
    _add_outputs(template, spec)
    return template


def _add_outputs(template: Template, spec: Spec) -> None:
    outputs = [
        Output("ApiUrl", Description="Invoke URL of the HTTP API", Value=api.api_url()),
        Output("UserPoolId", Description="Cognito user pool", Value=Ref(USER_POOL)),
        Output("UserPoolClientId", Description="App client", Value=Ref(USER_POOL_CLIENT)),
        Output("AlarmTopicArn", Description="Alarm notifications", Value=Ref(ALARM_TOPIC)),
        Output("HttpApiId", Description="HTTP API id", Value=Ref(HTTP_API)),
    ]
    for table in spec.tables:
        outputs.append(
            Output(logical_id(table.name, "table name"), Value=Ref(table_id(table.name)))
        )
    for bucket in (*spec.buckets, spec.access_log_bucket):
        outputs.append(
            Output(logical_id(bucket.name, "bucket name"), Value=Ref(bucket_id(bucket.name)))
        )
    outputs.append(
        Output("StackKeyArn", Description="KMS key of the stack", Value=GetAtt("StackKey", "Arn"))
    )
    if spec.tables:
        outputs.append(
            Output(
                "BackupVaultName",
                Condition=IS_PROD,
                Description="AWS Backup vault of the tables (prod)",
                Value=Ref(BACKUP_VAULT),
            )
        )
    template.add_output(outputs)


def render_yaml(
    spec: Spec, artifacts: Mapping[str, str] | None = None, build_version: str = UNBUILT
) -> str:
    return build_template(spec, artifacts, build_version).to_yaml()
