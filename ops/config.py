"""samconfig.toml, read the way SAM CLI reads it for `--config-env <env>`."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMCONFIG = ROOT / "samconfig.toml"


class ConfigError(Exception):
    pass


def environments(path: Path = SAMCONFIG) -> list[str]:
    """The environments the file deploys: every table but SAM's own `default`."""
    config = tomllib.loads(path.read_text())
    return sorted(k for k, v in config.items() if isinstance(v, dict) and k != "default")


def command_parameters(
    environment: str, command: str = "deploy", path: Path = SAMCONFIG
) -> dict[str, Any]:
    """`[<env>.global.parameters]` overlaid by `[<env>.<command>.parameters]`, as SAM merges
    them (samcli/lib/config/samconfig.py: the command's own section wins)."""
    config = tomllib.loads(path.read_text())
    if environment not in config:
        raise ConfigError(f"{path.name} has no [{environment}.global.parameters]")
    table = config[environment]
    merged = dict(table.get("global", {}).get("parameters", {}))
    merged.update(table.get(command, {}).get("parameters", {}))
    return merged


def deploy_parameters(environment: str, path: Path = SAMCONFIG) -> dict[str, Any]:
    return command_parameters(environment, "deploy", path)


def parameter_overrides(environment: str, path: Path = SAMCONFIG) -> dict[str, str]:
    """`Key="value" Other="v"` as sam parses it."""
    text = deploy_parameters(environment, path).get("parameter_overrides", "")
    overrides = {}
    for token in shlex.split(text):
        key, _, value = token.partition("=")
        overrides[key] = value
    return overrides
