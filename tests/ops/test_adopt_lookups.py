"""ops/adopt.py's look-ups of retained resources run at once and answer in the template's
order; its template loader reads a template as cfn_flip does. Fake clients count the calls
in flight: counts and order are asserted, never time."""

from __future__ import annotations

import threading
from contextlib import suppress
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cfn_flip import load_yaml

from ops import adopt
from ops.adopt import AdoptError, Found

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
Parameters:
  Environment:
    Type: String
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Properties:
      BucketName: !Sub 'assets-${Environment}'
  Key:
    Type: AWS::KMS::Key
    DeletionPolicy: Retain
    Properties:
      KeyPolicy: {}
  KeyAlias:
    Type: AWS::KMS::Alias
    DeletionPolicy: Retain
    Properties:
      AliasName: alias/data
      TargetKeyId: !Ref Key
  OtherAlias:
    Type: AWS::KMS::Alias
    DeletionPolicy: Retain
    Properties:
      AliasName: alias/other
      TargetKeyId: !GetAtt Key.Arn
  Orders:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    Properties:
      TableName: !Join ['-', [orders, !Ref Environment]]
  Gone:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    Properties:
      TableName: gone
  Audit:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    Condition: IsProd
    Properties:
      TableName: audit
  Scratch:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: scratch
Outputs:
  Arn:
    Value: !If [IsProd, !GetAtt Orders.Arn, !Ref 'AWS::NoValue']
"""
PARAMETERS = {"Environment": "dev", "AWS::Region": "us-east-1", "AWS::AccountId": "1"}
# One look-up per retained resource of the dev stack: Bucket, KeyAlias, OtherAlias, Orders, Gone.
LOOKUPS = 5
WAIT_S = 10  # a barrier nobody else reaches breaks after this; the count then shows it
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


class Calls:
    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.lock = threading.Lock()
        self.barrier = barrier
        self.in_flight = self.peak = 0
        self.seen: set[str] = set()
        self.made: list[str] = []

    def answer(self, name: str, respond: Any) -> Any:
        with self.lock:
            first = name not in self.seen
            self.seen.add(name)
            self.made.append(name)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if first and self.barrier is not None:
                # Look-ups one at a time never bring all of them here: the barrier breaks.
                with suppress(threading.BrokenBarrierError):
                    self.barrier.wait()
            return respond()
        finally:
            with self.lock:
                self.in_flight -= 1


def missing(code: str = "ResourceNotFoundException") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "not there"}}, "Describe")


class Clients:
    """dynamodb, s3 and kms as the account after a destroy has them: everything but `gone`."""

    def __init__(self, calls: Calls, refuse_tables: bool = False) -> None:
        self.calls, self.refuse_tables = calls, refuse_tables

    def describe_table(self, TableName: str) -> dict[str, Any]:
        def respond() -> dict[str, Any]:
            if self.refuse_tables:
                raise missing("AccessDeniedException")
            if TableName == "gone":
                raise missing()
            return {"Table": {"TableName": TableName}}

        return dict(self.calls.answer(TableName, respond))

    def head_bucket(self, Bucket: str) -> dict[str, Any]:
        return dict(self.calls.answer(Bucket, dict))

    def describe_key(self, KeyId: str) -> dict[str, Any]:
        return dict(self.calls.answer(KeyId, lambda: {"KeyMetadata": {"KeyId": KEY_ID}}))


class Session:
    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self.made: list[str] = []

    def client(self, service: str) -> Any:
        self.made.append(service)
        return self.clients


def template() -> dict[str, Any]:
    return adopt.load_template(TEMPLATE)


def test_the_template_loader_reads_as_cfn_flip_does() -> None:
    assert template() == dict(load_yaml(TEMPLATE))
    assert template()["Resources"]["OtherAlias"]["Properties"]["TargetKeyId"] == {
        "Fn::GetAtt": ["Key", "Arn"]
    }


def test_the_look_ups_run_at_once_and_answer_in_the_templates_order() -> None:
    calls = Calls(threading.Barrier(LOOKUPS, timeout=WAIT_S))
    session = Session(Clients(calls))

    found = adopt.find_retained(session, template(), PARAMETERS)

    assert calls.peak >= LOOKUPS, calls.made
    # In the template's order (cfn_flip's maps keep it through sorted()), the key after the
    # alias it was found through and once for its two aliases: what one look-up at a time gave.
    assert found == [
        Found("Bucket", "AWS::S3::Bucket", {"BucketName": "assets-dev"}),
        Found("KeyAlias", "AWS::KMS::Alias", {"AliasName": "alias/data"}),
        Found("Key", "AWS::KMS::Key", {"KeyId": KEY_ID}),
        Found("OtherAlias", "AWS::KMS::Alias", {"AliasName": "alias/other"}),
        Found("Orders", "AWS::DynamoDB::Table", {"TableName": "orders-dev"}),
    ]
    assert sorted(session.made) == ["dynamodb", "kms", "s3"]  # one client per service
    assert "audit" not in calls.made and "scratch" not in calls.made


def test_a_refused_look_up_is_an_error_not_a_missing_resource() -> None:
    with pytest.raises(AdoptError, match=r"cannot tell whether table .* AccessDeniedException"):
        adopt.find_retained(Session(Clients(Calls(), refuse_tables=True)), template(), PARAMETERS)
