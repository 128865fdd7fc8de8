"""The expanded main template's resources with their intrinsics resolved to ARN patterns, as
a policy names them for every region an environment is deployed to.

`Ref Environment` stays the bootstrap's own `${Environment}`; the account and partition stay
`Sub` variables; the region, other parameters and whatever AWS generates become `*`. An
`Fn::If` may take either branch, so a value resolves to every value it can have.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from template_gen.deploy_permissions import Place, Resource, own_arns

NO_VALUE = object()  # AWS::NoValue: the property is left out
# Beyond this many combinations of Fn::If branches a resource's variants are not multiplied
# further; the template has a handful, each with two branches.
MAX_VARIANTS = 64
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")

# SAM uploads code to its managed bucket under the stack's s3_prefix (samconfig.toml), which
# the deployer may write and the execution role read.
ARTIFACTS_BUCKET = "aws-sam-cli-managed-default-samclisourcebucket-*"


def artifacts_key(project: str) -> str:
    return f"{project}-${{Environment}}/*"


# The property holding each type's physical name; without it CloudFormation generates
# `<stack>-<logicalId>-<random>`, so the pattern is `<stack>-*`.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html
NAMES: dict[str, str] = {
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::CodeDeploy::Application": "ApplicationName",
    "AWS::CodeDeploy::DeploymentGroup": "DeploymentGroupName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
}
# Types whose Ref is an ARN, not a name or an id
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-ref.html).
REF_IS_ARN = {
    "AWS::Lambda::Alias",
    "AWS::Lambda::LayerVersion",
    "AWS::Lambda::Version",
    "AWS::SNS::Topic",
}


@dataclass
class Resolver:
    """Resolves the expanded template's values; `resources()` gives each one's variants."""

    template: Mapping[str, Any]
    project: str
    # `*` for a policy that serves every region; a region to check one deployment.
    region: str = "*"
    _variants: dict[str, list[Resource]] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)

    @property
    def stack(self) -> str:
        return f"{self.project}-${{Environment}}"

    def place(self, type_name: str) -> Place:
        generated = f"{self.stack}-*" if type_name in NAMES else "*"
        return Place("${AWS::Partition}", self.region, "${AWS::AccountId}", generated)

    def _definition(self, logical: str) -> Mapping[str, Any]:
        return dict(self.template.get("Resources", {})[logical])

    def variants(self, logical: str) -> list[Resource]:
        """The resource with each combination of its Fn::If branches."""
        if logical in self._variants:
            return self._variants[logical]
        if logical in self._busy:  # a reference cycle: nothing to go on
            return []
        self._busy.add(logical)
        try:
            definition = self._definition(logical)
            type_name = str(definition["Type"])
            properties = self.values(definition.get("Properties", {}))[:MAX_VARIANTS]
            policy = definition.get("UpdatePolicy", {})
            update = self.values(policy)[0] if policy else {}
            found = [
                Resource(type_name, self._fixed(type_name, p), None, update)
                for p in properties
                if isinstance(p, Mapping)
            ]
        finally:
            self._busy.discard(logical)
        self._variants[logical] = found
        return found

    def _fixed(self, type_name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        resolved = _artifacts(type_name, properties, self.project)
        # The SAM translator resolves a layer's name with the parameters' defaults (it hashes
        # the name into the logical id), so the expansion holds the default environment.
        default = self.template.get("Parameters", {}).get("Environment", {}).get("Default")
        name = resolved.get("LayerName")
        baked = f"{self.project}-{default}-"
        layer = type_name == "AWS::Lambda::LayerVersion"
        if layer and default and isinstance(name, str) and name.startswith(baked):
            resolved["LayerName"] = f"{self.stack}-{name[len(baked) :]}"
        return resolved

    def resources(self) -> list[tuple[str, Resource]]:
        return [
            (logical, variant)
            for logical in sorted(self.template.get("Resources", {}))
            for variant in self.variants(logical)
        ]

    def values(self, value: Any) -> list[Any]:
        """Every value `value` can take."""
        if isinstance(value, list):
            items = [self.values(v) for v in value]
            combos = itertools.islice(itertools.product(*items), MAX_VARIANTS)
            return [[v for v in combo if v is not NO_VALUE] for combo in combos]
        if not isinstance(value, Mapping):
            return [value]
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return [self._ref(str(arg))]
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return [self._get_att(str(logical), str(attribute))]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                return [
                    str(sep).join(str(p) for p in parts)
                    for sep in self.values(arg[0])
                    for parts in self.values(arg[1])
                ]
            if key == "Fn::If":
                return [*self.values(arg[1]), *self.values(arg[2])]
            if key.startswith("Fn::") or key == "Condition":
                return ["*"]
        keys = sorted(value)
        combos = itertools.islice(
            itertools.product(*(self.values(value[k]) for k in keys)), MAX_VARIANTS
        )
        return [
            {k: v for k, v in zip(keys, combo, strict=True) if v is not NO_VALUE}
            for combo in combos
        ]

    def _ref(self, name: str) -> Any:
        pseudo = {
            "Environment": "${Environment}",
            "AWS::AccountId": "${AWS::AccountId}",
            "AWS::Partition": "${AWS::Partition}",
            "AWS::StackName": self.stack,
            "AWS::NoValue": NO_VALUE,
            "AWS::Region": self.region,
        }
        if name in pseudo:
            return pseudo[name]
        if name not in self.template.get("Resources", {}):
            return "*"  # AWS::Region, AWS::URLSuffix, the other parameters
        type_name = str(self._definition(name)["Type"])
        variants = self.variants(name)
        if not variants:
            return "*"
        resource = variants[0]
        if type_name in REF_IS_ARN:
            arns = own_arns(resource, self.place(type_name))
            return arns[-1] if arns else "*"
        if type_name in NAMES:
            return resource.name(NAMES[type_name], self.place(type_name)) or "*"
        return "*"  # an id AWS generates: key, user pool, API, ...

    def _get_att(self, logical: str, attribute: str) -> str:
        if logical not in self.template.get("Resources", {}) or attribute != "Arn":
            return "*"
        type_name = str(self._definition(logical)["Type"])
        variants = self.variants(logical)
        if not variants:
            return "*"
        arns = own_arns(variants[0], self.place(type_name))
        if not arns:
            return "*"
        # A log group's Arn attribute ends in `:*`; every other is the resource's own ARN.
        return arns[-1] if type_name == "AWS::Logs::LogGroup" else arns[0]

    def _sub(self, arg: Any) -> list[str]:
        text, bindings = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
        local = {k: self.values(v)[0] for k, v in dict(bindings).items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self._get_att(logical, attribute)
            value = self._ref(name)
            return "*" if value is NO_VALUE else str(value)

        return [SUB_VARIABLE.sub(replace, str(text))]


def _artifacts(type_name: str, properties: Mapping[str, Any], project: str) -> dict[str, Any]:
    """Code and layer content come from SAM's artifacts bucket, under the stack's prefix."""
    location = {"S3Bucket": ARTIFACTS_BUCKET, "S3Key": artifacts_key(project)}
    resolved = dict(properties)
    if type_name == "AWS::Lambda::Function" and "Code" in resolved:
        resolved["Code"] = location
    if type_name == "AWS::Lambda::LayerVersion" and "Content" in resolved:
        resolved["Content"] = location
    return resolved
