"""The preflight's comparison of the deployed execution role with the built policy."""

from __future__ import annotations

from ops.execution_role import missing, resolved

BUILT = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:CreateTable", "dynamodb:DeleteTable"],
            "Resource": [
                "arn:${AWS::Partition}:dynamodb:*:${AWS::AccountId}:table/app-${Environment}-items"
            ],
            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        }
    ]
}


def test_a_deployed_policy_that_grants_as_much_misses_nothing() -> None:
    needed = resolved(BUILT, "dev", "123456789012", "aws")
    assert missing(needed, [needed]) == []


def test_a_grant_the_deployed_role_lacks_is_named() -> None:
    needed = resolved(BUILT, "dev", "123456789012", "aws")
    older = resolved(BUILT, "dev", "123456789012", "aws")
    older["Statement"][0]["Action"] = ["dynamodb:DeleteTable"]
    assert missing(needed, [older]) == [(
        "dynamodb:createtable", "arn:aws:dynamodb:*:123456789012:table/app-dev-items",
        '{"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}',
    )]  # fmt: skip
    # Another environment's role grants nothing for this one.
    other = resolved(BUILT, "prod", "123456789012", "aws")
    assert len(missing(needed, [other])) == 2
