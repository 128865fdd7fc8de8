"""Alarm topic, metric filters, alarms and the dashboard.

Every alarm is built by one function, which always wires AlarmActions and OKActions to the
encrypted alarm topic, so an alarm cannot be left half-wired.
"""

from __future__ import annotations

import json

from troposphere import GetAtt, Ref, Sub, Template, cloudwatch, logs, sns

from template_gen.api import STAGE
from template_gen.findings import ALARM_EMAIL_SUBSCRIPTION, EXPLICIT_NAMES, waiver_metadata
from template_gen.model import Function, Spec, Table
from template_gen.naming import (
    ALARM_TOPIC,
    HTTP_API,
    STACK_KEY,
    Names,
    alarm_id,
    function_id,
    log_group_id,
    logical_id,
    table_id,
)
from template_gen.parameters import ALARM_EMAIL, HAS_ALARM_EMAIL

PERIOD_S = 60
# p99 duration alarms fire when the slowest requests come this close to the timeout.
DURATION_ALARM_FRACTION = 0.8
ERROR_LOG_METRIC = "ErrorLogs"
ERROR_LOG_PATTERN = '{ $.level = "ERROR" }'


def add_alarm_topic(template: Template, names: Names) -> None:
    template.add_resource(
        sns.Topic(
            ALARM_TOPIC,
            TopicName=names.alarm_topic().sub(),
            KmsMasterKeyId=GetAtt(STACK_KEY, "Arn"),
        )
    )
    template.add_resource(
        sns.TopicPolicy(
            f"{ALARM_TOPIC}Policy",
            Topics=[Ref(ALARM_TOPIC)],
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AllowStackAlarms",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": Ref(ALARM_TOPIC),
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")},
                            "ArnLike": {
                                "aws:SourceArn": Sub(
                                    "arn:${AWS::Partition}:cloudwatch:${AWS::Region}"
                                    f":${{AWS::AccountId}}:alarm:{names.prefix}-*"
                                )
                            },
                        },
                    },
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sns:Publish",
                        "Resource": Ref(ALARM_TOPIC),
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        )
    )
    template.add_resource(
        sns.SubscriptionResource(
            f"{ALARM_TOPIC}EmailSubscription",
            Condition=HAS_ALARM_EMAIL,
            TopicArn=Ref(ALARM_TOPIC),
            Protocol="email",
            Endpoint=Ref(ALARM_EMAIL),
            Metadata=waiver_metadata(ALARM_EMAIL_SUBSCRIPTION),
        )
    )


def alarm(
    template: Template,
    names: Names,
    kind: str,
    subject: str,
    signal: str,
    description: str,
    threshold: float,
    **metric: object,
) -> None:
    """One alarm, always wired both ways: a page when it fires and when it recovers."""
    template.add_resource(
        cloudwatch.Alarm(
            alarm_id(kind, subject, signal),
            Metadata=waiver_metadata(EXPLICIT_NAMES),
            AlarmName=names.alarm(kind, subject, signal).sub(),
            AlarmDescription=description,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            Threshold=threshold,
            EvaluationPeriods=5,
            DatapointsToAlarm=3,
            TreatMissingData="notBreaching",
            AlarmActions=[Ref(ALARM_TOPIC)],
            OKActions=[Ref(ALARM_TOPIC)],
            **metric,
        )
    )


def _lambda_metric(function: Function, name: str, **statistic: object) -> dict:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": name,
        "Dimensions": [
            cloudwatch.MetricDimension(Name="FunctionName", Value=Ref(function_id(function.name)))
        ],
        "Period": PERIOD_S,
        **statistic,
    }


def add_function_alarms(template: Template, spec: Spec, names: Names) -> None:
    namespace = Sub(names.metric_namespace())
    for function in spec.functions:
        metric_name = logical_id(function.name, ERROR_LOG_METRIC)
        template.add_resource(
            logs.MetricFilter(
                logical_id(function.name, "error log filter"),
                LogGroupName=Ref(log_group_id(function.name)),
                FilterPattern=ERROR_LOG_PATTERN,
                MetricTransformations=[
                    logs.MetricTransformation(
                        MetricNamespace=namespace,
                        MetricName=metric_name,
                        MetricValue="1",
                        DefaultValue=0,
                        Unit="Count",
                    )
                ],
            )
        )
        alarm(
            template, names, "function", function.name, "errors",
            f"{function.name}: invocations ended in an error",
            1, **_lambda_metric(function, "Errors", Statistic="Sum"),
        )  # fmt: skip
        alarm(
            template, names, "function", function.name, "throttles",
            f"{function.name}: invocations were throttled",
            1, **_lambda_metric(function, "Throttles", Statistic="Sum"),
        )  # fmt: skip
        alarm(
            template, names, "function", function.name, "duration-p99",
            f"{function.name}: p99 duration is near the {function.timeout_s} s timeout",
            int(function.timeout_s * 1000 * DURATION_ALARM_FRACTION),
            **_lambda_metric(function, "Duration", ExtendedStatistic="p99"),
        )  # fmt: skip
        alarm(
            template, names, "function", function.name, "error-logs",
            f"{function.name}: ERROR lines in its log group",
            1, Namespace=namespace, MetricName=metric_name, Statistic="Sum", Period=PERIOD_S,
        )  # fmt: skip


def _api_metric(name: str, **statistic: object) -> dict:
    return {
        "Namespace": "AWS/ApiGateway",
        "MetricName": name,
        "Dimensions": [
            cloudwatch.MetricDimension(Name="ApiId", Value=Ref(HTTP_API)),
            cloudwatch.MetricDimension(Name="Stage", Value=STAGE),
        ],
        "Period": PERIOD_S,
        **statistic,
    }


def add_api_alarms(template: Template, spec: Spec, names: Names) -> None:
    # The 5xx metric is 0 or 1 per request, so its average is the error rate.
    alarm(
        template, names, "api", "http", "5xx-rate",
        f"HTTP API: 5xx responses above {spec.api.error_rate_alarm:.0%} of requests",
        spec.api.error_rate_alarm, **_api_metric("5xx", Statistic="Average"),
    )  # fmt: skip
    alarm(
        template, names, "api", "http", "latency-p99",
        f"HTTP API: p99 latency above {spec.api.latency_alarm_ms} ms",
        spec.api.latency_alarm_ms, **_api_metric("Latency", ExtendedStatistic="p99"),
    )  # fmt: skip


def _table_metric(table: Table, metric_id: str, name: str) -> cloudwatch.MetricDataQuery:
    return cloudwatch.MetricDataQuery(
        Id=metric_id,
        ReturnData=False,
        MetricStat=cloudwatch.MetricStat(
            Metric=cloudwatch.Metric(
                Namespace="AWS/DynamoDB",
                MetricName=name,
                Dimensions=[
                    cloudwatch.MetricDimension(Name="TableName", Value=Ref(table_id(table.name)))
                ],
            ),
            Period=PERIOD_S,
            Stat="Sum",
        ),
    )


def add_table_alarms(template: Template, spec: Spec, names: Names) -> None:
    for table in spec.tables:
        alarm(
            template, names, "table", table.name, "throttles",
            f"{table.name} table: read or write requests were throttled",
            1,
            Metrics=[
                _table_metric(table, "reads", "ReadThrottleEvents"),
                _table_metric(table, "writes", "WriteThrottleEvents"),
                cloudwatch.MetricDataQuery(
                    Id="throttles", Expression="reads + writes", Label="Throttled requests"
                ),
            ],
        )  # fmt: skip


def _widget(title: str, metrics: list, x: int, y: int, stat: str = "Sum") -> dict:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "stat": stat,
            "period": PERIOD_S,
            "view": "timeSeries",
            "metrics": metrics,
        },
    }


def add_dashboard(template: Template, spec: Spec, names: Names) -> None:
    """The body is a JSON string; Sub fills in resolved names through its variable map."""
    variables: dict = {"ApiId": Ref(HTTP_API)}
    invocations, errors, durations = [], [], []
    for function in spec.functions:
        var = logical_id(function.name, "name")
        variables[var] = Ref(function_id(function.name))
        invocations.append(["AWS/Lambda", "Invocations", "FunctionName", f"${{{var}}}"])
        errors.append(["AWS/Lambda", "Errors", "FunctionName", f"${{{var}}}"])
        durations.append(["AWS/Lambda", "Duration", "FunctionName", f"${{{var}}}"])
    throttles = []
    for table in spec.tables:
        var = logical_id(table.name, "table name")
        variables[var] = Ref(table_id(table.name))
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            throttles.append(["AWS/DynamoDB", metric, "TableName", f"${{{var}}}"])

    def api(name: str) -> list[str]:
        return ["AWS/ApiGateway", name, "ApiId", "${ApiId}", "Stage", STAGE]

    widgets = [
        _widget("API requests and errors", [api("Count"), api("4xx"), api("5xx")], 0, 0),
        _widget("API latency p99", [api("Latency")], 12, 0, "p99"),
        _widget("Function invocations", invocations, 0, 6),
        _widget("Function errors", errors, 12, 6),
        _widget("Function duration p99", durations, 0, 12, "p99"),
        _widget("DynamoDB throttles", throttles, 12, 12),
    ]
    body = json.dumps({"widgets": widgets}, sort_keys=True, separators=(",", ":"))
    template.add_resource(
        cloudwatch.Dashboard(
            "Dashboard",
            DashboardName=names.dashboard().sub(),
            DashboardBody=Sub(body, **variables),
        )
    )
