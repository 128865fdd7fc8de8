"""Offline SAM expansion: the SAM template to plain CloudFormation, as `sam deploy` would
have CloudFormation do it, without an AWS account."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

# The translator logs feature-toggle notices at INFO on every run; they are not findings.
logging.getLogger("samtranslator").setLevel(logging.WARNING)

CODE_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}
PLACEHOLDER_BUCKET = "artifacts-placeholder"


def no_managed_policies() -> dict[str, str]:
    """The stack uses inline policies only; asking for a managed policy is a bug."""
    raise RuntimeError("the template must not reference managed policies")


def with_code_locations(
    template: Mapping[str, Any], locations: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Point every CodeUri/ContentUri at S3, as `sam package` does. `locations` maps a local
    path to its `s3://bucket/key`; other local paths get a placeholder, which is enough to lint."""
    locations = locations or {}
    result = copy.deepcopy(dict(template))
    for resource in result.get("Resources", {}).values():
        prop = CODE_PROPERTIES.get(resource.get("Type"))
        uri = resource.get("Properties", {}).get(prop) if prop else None
        if isinstance(uri, str) and not uri.startswith("s3://"):
            key = "-".join(part for part in uri.split("/") if part not in ("", ".", ".."))
            resource["Properties"][prop] = locations.get(
                uri, f"s3://{PLACEHOLDER_BUCKET}/{key}.zip"
            )
    return result


def expand(
    template: Mapping[str, Any],
    locations: Mapping[str, str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """Expand with aws-sam-translator. The region only tells the translator which partition
    to assume; pseudo parameters stay references in the output."""
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=region))
    return translator.translate(
        with_code_locations(template, locations),
        parameter_values=dict(parameters or {}),
        passthrough_metadata=True,
        get_managed_policy_map=no_managed_policies,
    )
