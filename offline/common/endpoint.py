"""The emulator as a client sees it: its URL, boto3 clients for it, and the environment a
process needs to talk to it instead of AWS. Every caller here (the local stack, the tests,
the benchmarks) makes its emulator clients with this one helper."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

# Service names arrive here as values; the stubs' overloads of boto3.client want literals.
new_client: Callable[..., Any] = boto3.client
ACCOUNT = "123456789012"  # moto's default account
# The emulator's administrator identity: what the deploy tooling and the tests call it as
# (offline/enforcement/gate.py lets it through, as an account administrator).
CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


@dataclass
class Endpoint:
    """Where the emulator listens; makes clients for it."""

    url: str

    def client(
        self,
        service: str,
        region: str,
        *,
        session: Mapping[str, str] | None = None,
        **config: Any,
    ) -> Any:
        """A client as the administrator, or in `session` (STS Credentials: AccessKeyId,
        SecretAccessKey, SessionToken) as the role it belongs to. `config` goes to botocore's
        Config, over standard retries."""
        credentials = (
            {
                "aws_access_key_id": session["AccessKeyId"],
                "aws_secret_access_key": session["SecretAccessKey"],
                "aws_session_token": session["SessionToken"],
            }
            if session
            else CREDENTIALS
        )
        return new_client(
            service,
            region_name=region,
            endpoint_url=self.url,
            config=Config(**{"retries": {"mode": "standard", "total_max_attempts": 3}, **config}),
            **credentials,
        )

    def environment(self, region: str) -> dict[str, str]:
        """What a process needs to talk to the emulator instead of AWS."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        }

    def reachable(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1):
                return True
        except OSError:
            return False
