"""AWS clients, made once per environment with bounded retries, and how their failures map
onto the contract."""

from __future__ import annotations

import functools
import os
from typing import Any, Literal

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

# botocore's standard mode retries throttling and transient errors with backoff; three
# attempts keep a request well inside the function timeout.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)
RETRY_AFTER_S = 1
# Errors that mean "try again later", once botocore's own retries are spent.
UNAVAILABLE_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
    "RequestLimitExceeded", "InternalServerError", "InternalFailure", "ServiceUnavailable",
    "ServiceUnavailableException", "TransactionInProgressException", "LimitExceededException",
    "TooManyUpdates", "SlowDown", "RequestTimeout",
})  # fmt: skip


# The services the functions call, each with its grants (template_gen/grants.py).
Service = Literal["dynamodb", "s3", "ssm"]


@functools.cache
def _models() -> botocore.loaders.Loader:
    """The API models and endpoint rules botocore parses: the same data in every environment,
    so a session made after a SnapStart restore reuses what the snapshot parsed (a session
    that parses them again costs several times as much)."""
    return botocore.loaders.create_loader()


@functools.cache
def _session() -> boto3.Session:
    """This environment's session. A session resolves credentials once and every client it
    makes shares them, so a new client alone would still sign with the snapshot's."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _models())
    session = boto3.Session(botocore_session=core)
    paths = _models().search_paths  # boto3 adds its data folder to it each time: once will do
    paths[:] = dict.fromkeys(paths)
    return session


@functools.cache
def client(service: Service, config: Config | None = None) -> Any:
    """One client per service, `config` and environment. `config` (a module-level constant,
    so the cache finds it again) merges into the shared Config."""
    merged = CLIENT_CONFIG.merge(config) if config else CLIENT_CONFIG
    return _session().client(service, region_name=os.environ.get("AWS_REGION"), config=merged)


def renew() -> None:
    """Forget every client and the session behind them: the next client() is made with the
    credentials and connections of the environment it runs in (backend_kit/snapstart.py)."""
    client.cache_clear()
    _session.cache_clear()


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_unavailable(error: Exception) -> bool:
    if isinstance(error, ClientError):
        code = error_code(error)
        if code == "TransactionCanceledException":
            reasons = error.response.get("CancellationReasons") or []
            return any(r.get("Code") in ("ThrottlingError", "TransactionConflict")
                       for r in reasons)  # fmt: skip
        return code in UNAVAILABLE_CODES
    return isinstance(error, (ConnectionError, HTTPClientError))
