"""Safe rollout: every function publishes the `live` alias through CodeDeploy. In prod the
new version takes a canary share first and rolls back on its error and latency alarms; in
dev and staging it takes all traffic at once. One condition, one template."""

from __future__ import annotations

from troposphere import GetAtt, If, Ref, Sub, Template, serverless

from template_gen.defaults import service_role
from template_gen.model import Function, Spec
from template_gen.naming import Names, alarm_id, function_id
from template_gen.parameters import IS_PROD

ALIAS = "live"
PROD_DEPLOYMENT = "Canary10Percent5Minutes"
OTHER_DEPLOYMENT = "AllAtOnce"
ROLLBACK_SIGNALS = ("errors", "duration-p99")
DEPLOYMENT_ROLE = "DeploymentRole"


def rollback_alarms(function: Function) -> list[Ref]:
    return [Ref(alarm_id("function", function.name, signal)) for signal in ROLLBACK_SIGNALS]


def deployment_preference(function: Function) -> serverless.DeploymentPreference:
    return serverless.DeploymentPreference(
        Type=If(IS_PROD, PROD_DEPLOYMENT, OTHER_DEPLOYMENT),
        # SAM takes a condition over whole alarm lists; [NoValue] means no alarms.
        Alarms=If(IS_PROD, rollback_alarms(function), [Ref("AWS::NoValue")]),
        Role=GetAtt(DEPLOYMENT_ROLE, "Arn"),
    )


def add_deployment_role(template: Template, spec: Spec, names: Names) -> None:
    """CodeDeploy's role, inline and scoped, instead of SAM's default with a managed policy."""
    functions = [function_id(f.name) for f in spec.functions]
    template.add_resource(
        service_role(
            DEPLOYMENT_ROLE,
            names,
            names.deployment_role(),
            Sub(f"CodeDeploy shifts traffic between versions of {names.prefix}"),
            "codedeploy.amazonaws.com",
            "shift-alias-traffic",
            [
                {
                    "Sid": "MoveTheAlias",
                    "Effect": "Allow",
                    "Action": [
                        "lambda:GetAlias",
                        "lambda:GetProvisionedConcurrencyConfig",
                        "lambda:UpdateAlias",
                    ],
                    "Resource": [
                        arn
                        for logical in functions
                        for arn in (GetAtt(logical, "Arn"), Sub(f"${{{logical}.Arn}}:*"))
                    ],
                },
                {
                    "Sid": "ReadRollbackAlarms",
                    "Effect": "Allow",
                    "Action": ["cloudwatch:DescribeAlarms"],
                    "Resource": [
                        Sub(
                            "arn:${AWS::Partition}:cloudwatch:${AWS::Region}"
                            f":${{AWS::AccountId}}:alarm:{names.prefix}-*"
                        )
                    ],
                },
            ],
        )
    )
