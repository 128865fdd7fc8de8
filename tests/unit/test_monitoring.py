"""Alarms are fully wired, and the required signals each have one."""

from __future__ import annotations

import json
import re
from typing import Any

from template_gen.spec import SPEC
from tests.conftest import of_type

TOPIC = [{"Ref": "AlarmTopic"}]


def alarm_names(resources: dict[str, Any]) -> set[str]:
    return {
        a["Properties"]["AlarmName"]["Fn::Sub"].removeprefix("backend-kit-${Environment}-")
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
    }


def test_every_alarm_notifies_when_it_fires_and_when_it_recovers(
    resources: dict[str, Any],
) -> None:
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == TOPIC, name
        assert alarm["Properties"]["OKActions"] == TOPIC, name


def test_required_alarms_exist(resources: dict[str, Any]) -> None:
    expected = {"api-http-5xx-rate", "api-http-latency-p99"}
    for function in SPEC.functions:
        for signal in ("errors", "throttles", "duration-p99", "error-logs"):
            expected.add(f"function-{function.name}-{signal}")
    for table in SPEC.tables:
        expected.add(f"table-{table.name}-throttles")
    assert alarm_names(resources) == expected


def test_duration_alarms_sit_below_each_timeout(resources: dict[str, Any]) -> None:
    for function in SPEC.functions:
        alarm = resources[f"Function{function.name.capitalize()}DurationP99Alarm"]["Properties"]
        assert alarm["ExtendedStatistic"] == "p99"
        assert 0 < alarm["Threshold"] < function.timeout_s * 1000


def test_error_log_filters_feed_the_error_log_alarms(resources: dict[str, Any]) -> None:
    filters = of_type(resources, "AWS::Logs::MetricFilter")
    assert len(filters) == len(SPEC.functions)
    for function in SPEC.functions:
        name = function.name.capitalize()
        metric_filter = resources[f"{name}ErrorLogFilter"]["Properties"]
        assert metric_filter["LogGroupName"] == {"Ref": f"{name}LogGroup"}
        assert "ERROR" in metric_filter["FilterPattern"]
        (transform,) = metric_filter["MetricTransformations"]
        alarm = resources[f"Function{name}ErrorLogsAlarm"]["Properties"]
        assert alarm["MetricName"] == transform["MetricName"]
        assert alarm["Namespace"] == transform["MetricNamespace"]


def test_topic_is_encrypted_and_email_is_optional(resources: dict[str, Any]) -> None:
    assert resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {
        "Fn::GetAtt": ["StackKey", "Arn"]
    }
    subscription = resources["AlarmTopicEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_dashboard_body_is_json_whose_variables_are_all_bound(resources: dict[str, Any]) -> None:
    body, variables = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    assert len(widgets) >= 6
    used = set(re.findall(r"\$\{([^}]+)\}", body))
    assert used - {"AWS::Region"} == set(variables)
