"""Region-agnostic in fact: no region, account or partition is written into the template."""

from __future__ import annotations

import json
import re
from typing import Any

REGION = re.compile(r"\b(us|eu|ap|sa|ca|me|af|il|mx|cn)(-gov|-iso[a-z]?)?-[a-z]+-\d\b")
ACCOUNT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
LITERAL_PARTITION = re.compile(r"arn:aws(-[a-z-]+)?:")
# Content hashes (the versions' AutoPublishCodeSha256) may hold twelve digits in a row.
SHA256 = re.compile(r"\b[0-9a-f]{64}\b")


def test_no_hard_coded_region_account_or_partition(
    template: dict[str, Any], expanded: dict[str, Any]
) -> None:
    for document in (template, expanded):
        text = SHA256.sub("<sha256>", json.dumps(document))
        assert not REGION.search(text), REGION.search(text)
        assert not ACCOUNT.search(text), ACCOUNT.search(text)
        assert not LITERAL_PARTITION.search(text), LITERAL_PARTITION.search(text)


def test_the_patterns_catch_what_they_are_for() -> None:
    assert REGION.search('"eu-west-1"') and REGION.search("us-gov-west-1")
    assert ACCOUNT.search("arn:x:iam::123456789012:root")
    assert ACCOUNT.search(SHA256.sub("", f"{'a' * 64} 123456789012"))
    assert LITERAL_PARTITION.search("arn:aws:s3:::bucket")
    assert LITERAL_PARTITION.search("arn:aws-cn:s3:::bucket")
    assert not LITERAL_PARTITION.search("arn:${AWS::Partition}:s3:::bucket")
