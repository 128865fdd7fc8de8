"""Attachment uploads: where an item's files live in the assets bucket, and the presigned POST
with which a browser puts one there, S3 enforcing what the request declared."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from backend_kit.aws import client

UPLOAD_EXPIRES_S = 900
# Under the prefix the function's role may write to (template_gen.spec: writes(ASSETS, ...)).
PREFIX = "items/"
# The upload URL names the bucket's own region (https://<bucket>.s3.<region>.amazonaws.com/).
# botocore's default is the legacy global host, which S3 answers with a 307 redirect for
# older regions (a browser's cross-origin POST does not follow it) and with 400 for regions
# launched after 20 March 2019 (https://docs.aws.amazon.com/AmazonS3/latest/API/
# UsingRouting.html). Behind an IP endpoint such as the emulator's, botocore keeps path style.
UPLOADS = Config(
    signature_version="s3v4",
    s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"},
)


def safe_filename(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit("/", 1)[-1]).strip("._")
    return cleaned[:120] or "file"


def attachment_key(owner: str, item_id: str, filename: str) -> str:
    """`items/<owner>/<item>/<random>/<filename>`: a new key per upload, in the item's folder."""
    return f"{PREFIX}{owner}/{item_id}/{uuid.uuid4()}/{safe_filename(filename)}"


@dataclass(frozen=True)
class Uploads:
    bucket: str

    def presigned_post(
        self, owner: str, item_id: str, attachment: dict[str, Any]
    ) -> dict[str, Any]:
        """`{url, fields, key}` for one upload of `attachment` (a validated ATTACHMENT body):
        its exact content type, 1 byte to its declared size, within UPLOAD_EXPIRES_S."""
        key = attachment_key(owner, item_id, attachment["filename"])
        content_type = attachment["content_type"]
        upload = client("s3", UPLOADS).generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, attachment["size"]],
            ],
            ExpiresIn=UPLOAD_EXPIRES_S,
        )
        return {"url": upload["url"], "fields": upload["fields"], "key": key}
