"""One side of a saved-and-restored emulator state, run as its own process as the emulator
is: `make PATH` fills moto in-process with the state the stack keeps (keys, a user pool,
SecureStrings, a function with an alias, a table, an object) and saves it to PATH;
`check PATH` loads it in a new process and prints, as JSON, what the services answer."""

from __future__ import annotations

import base64
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from offline.stack import emulator_state

REGION = "eu-west-1"
PLAIN = b"kept across a restart"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}  # fmt: skip


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def make(path: Path) -> dict[str, Any]:
    kms = client("kms")
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    signing = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]["KeyId"]
    ciphertext = kms.encrypt(KeyId=symmetric, Plaintext=PLAIN)["CiphertextBlob"]
    public_key = kms.get_public_key(KeyId=signing)["PublicKey"]

    ssm = client("ssm")
    ssm.put_parameter(Name="/kit/key", Value="s3cret", Type="SecureString", KeyId=symmetric)
    ssm.add_tags_to_resource(
        ResourceType="Parameter", ResourceId="/kit/key", Tags=[{"Key": "team", "Value": "a"}]
    )

    cognito = client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="people")["UserPool"]["Id"]
    app = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH",
                                                              "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]  # fmt: skip
    cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="alice", Password="Correct-Horse-9", Permanent=True
    )

    role = client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))
    lambda_ = client("lambda")
    lambda_.create_function(
        FunctionName="fn", Runtime="python3.14", Role=role["Role"]["Arn"],
        Handler="app.handler", Code={"ZipFile": code()},
    )  # fmt: skip
    version = lambda_.publish_version(FunctionName="fn")["Version"]
    lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion=version)

    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="items", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )  # fmt: skip
    dynamodb.put_item(TableName="items", Item={"id": {"S": "1"}, "name": {"S": "Lamp"}})

    s3 = client("s3")
    s3.create_bucket(Bucket="uploads", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="uploads", Key="frame.png", Body=b"\x89PNG" + b"0" * 100)

    saved = emulator_state.save(path)
    return {
        "services": saved.services,
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "public_key": base64.b64encode(public_key).decode(),
        "symmetric": symmetric,
        "signing": signing,
        "pool": pool,
        "client": app,
    }


def check(path: Path, made: dict[str, Any]) -> dict[str, Any]:
    loaded = emulator_state.load(path)
    kms = client("kms")
    ciphertext = base64.b64decode(made["ciphertext"])
    signature = kms.sign(
        KeyId=made["signing"], Message=b"m", SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256"
    )["Signature"]
    cognito = client("cognito-idp")
    auth = cognito.admin_initiate_auth(
        UserPoolId=made["pool"], ClientId=made["client"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": "Correct-Horse-9"},
    )  # fmt: skip
    ssm = client("ssm")
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/kit/key")
    # A tag on a parameter never tagged before: the restored defaultdict still makes entries.
    ssm.put_parameter(Name="/kit/other", Value="x", Type="String")
    ssm.add_tags_to_resource(
        ResourceType="Parameter", ResourceId="/kit/other", Tags=[{"Key": "k", "Value": "v"}]
    )
    lambda_ = client("lambda")
    return {
        "loaded": loaded.services,
        "discarded": loaded.discarded,
        "decrypted": kms.decrypt(CiphertextBlob=ciphertext)["Plaintext"].decode(),
        "public_key": base64.b64encode(
            kms.get_public_key(KeyId=made["signing"])["PublicKey"]
        ).decode(),
        "verified": kms.verify(
            KeyId=made["signing"],
            Message=b"m",
            Signature=signature,
            SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256",
        )["SignatureValid"],
        "signed_in": "AccessToken" in auth["AuthenticationResult"],
        "parameter": ssm.get_parameter(Name="/kit/key", WithDecryption=True)["Parameter"]["Value"],
        "tags": tags["TagList"],
        "new_tags": ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/kit/other")[
            "TagList"
        ],
        "alias": lambda_.get_alias(FunctionName="fn", Name="live")["FunctionVersion"],
        "function_by_arn": lambda_.get_function(
            FunctionName=lambda_.get_alias(FunctionName="fn", Name="live")["AliasArn"]
        )["Configuration"]["FunctionName"],
        "item": client("dynamodb").get_item(TableName="items", Key={"id": {"S": "1"}})["Item"],
        "object": client("s3").get_object(Bucket="uploads", Key="frame.png")["Body"].read()[1:4],
    }


def main() -> int:
    command, path = sys.argv[1], Path(sys.argv[2])
    with mock_aws():
        if command == "make":
            print(json.dumps(make(path)))
        else:
            found = check(path, json.loads(sys.stdin.read()))
            print(json.dumps({**found, "object": found["object"].decode()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
