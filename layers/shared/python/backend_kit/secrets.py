"""SecureString values, fetched and decrypted at run time and cached with a bounded age."""

from __future__ import annotations

import functools
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from backend_kit import errors
from backend_kit.aws import RETRY_AFTER_S, client

# A rotated value (`make params ROTATE=1`) reaches every container within this many seconds.
MAX_AGE_S = 300


@functools.cache
def _provider():
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=client("ssm"))


def forget() -> None:
    """Drop the cached values and the client that fetched them (backend_kit/snapstart.py)."""
    _provider.cache_clear()


def signing_key(parameter_name: str) -> Callable[[], bytes]:
    """A getter for the key: one SSM call per container per MAX_AGE_S, never per request."""

    def get() -> bytes:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            secret = _provider().get(parameter_name, decrypt=True, max_age=MAX_AGE_S)
        except (GetParameterError, ClientError, BotoCoreError):
            raise errors.unavailable(RETRY_AFTER_S) from None
        return str(secret).encode()

    return get
