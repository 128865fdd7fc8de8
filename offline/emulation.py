"""What the emulator's CloudFormation cannot take as it is, adapted in one place.

The emulator has no Lambda aliases: a reference to the `live` alias would leave the invoke
permissions without a function. Locally, references to an alias go to its function (the
latest version, which is what the alias would point at after an AllAtOnce deploy), and the
alias is left out. CodeDeploy resources stay in the template; the emulator skips them.
"""

from __future__ import annotations

import copy
import re
from typing import Any

ALIAS = "AWS::Lambda::Alias"
# Types offline does not create, and why; start-up prints this list.
NOT_CREATED = {
    "AWS::ApiGatewayV2::Api": "served by the local gateway",
    "AWS::ApiGatewayV2::Stage": "served by the local gateway",
    ALIAS: "the emulator has no aliases; routes call the function itself",
    "AWS::CodeDeploy::Application": "no traffic shifting locally",
    "AWS::CodeDeploy::DeploymentGroup": "no traffic shifting locally",
}


def without_aliases(template: dict[str, Any]) -> dict[str, Any]:
    adapted = copy.deepcopy(template)
    resources = adapted["Resources"]
    targets = {
        logical: resource["Properties"]["FunctionName"]["Ref"]
        for logical, resource in resources.items()
        if resource["Type"] == ALIAS
    }
    for logical in targets:
        del resources[logical]

    def rewrite(value: Any) -> Any:
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in targets:
                return {"Ref": targets[value["Ref"]]}
            if set(value) == {"Fn::Sub"}:
                sub = value["Fn::Sub"]
                text, variables = (sub, None) if isinstance(sub, str) else sub
                for alias, function in targets.items():
                    text = re.sub(rf"\$\{{{alias}\}}", f"${{{function}.Arn}}", text)
                return {"Fn::Sub": text if variables is None else [text, rewrite(variables)]}
            return {k: rewrite(v) for k, v in value.items()}
        return value

    adapted["Resources"] = rewrite(resources)
    return adapted
