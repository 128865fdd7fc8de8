"""samconfig.toml, read the way `sam deploy --config-env` reads it."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMCONFIG = ROOT / "samconfig.toml"


class ConfigError(Exception):
    pass


def deploy_parameters(environment: str, path: Path = SAMCONFIG) -> dict[str, Any]:
    config = tomllib.loads(path.read_text())
    try:
        return config[environment]["deploy"]["parameters"]
    except KeyError:
        raise ConfigError(f"{path.name} has no [{environment}.deploy.parameters]") from None


def parameter_overrides(environment: str, path: Path = SAMCONFIG) -> dict[str, str]:
    """`Key="value" Other="v"` as sam parses it."""
    text = deploy_parameters(environment, path).get("parameter_overrides", "")
    overrides = {}
    for token in shlex.split(text):
        key, _, value = token.partition("=")
        overrides[key] = value
    return overrides
