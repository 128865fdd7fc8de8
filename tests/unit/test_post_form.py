"""A POST Object form is read as S3 reads it: the fields in order, up to the file, and nothing
after it (offline/s3/post_form.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from offline.s3 import post_form
from offline.s3.post_policy import Upload, check_upload, secrets
from tests.e2e.conftest import multipart
from tests.unit.test_post_policy import EXAMPLE_FORM, EXAMPLE_SIGNER

BEFORE = {"key": "user/user1/${filename}", "acl": "public-read", "X-Amz-Date": "x"}


def test_fields_before_the_file_are_read_in_order_and_nothing_after_it() -> None:
    body, content_type = multipart(BEFORE, "cat.jpg", b"\x00meow\r\n", after={"policy": "late"})
    form = post_form.read(content_type, body)
    assert form is not None and form.file is not None
    assert [part.name for part in form.fields] == list(BEFORE)
    assert form.values() == BEFORE
    assert (form.file.filename, form.file.content) == ("cat.jpg", b"\x00meow\r\n")


def test_a_name_sent_twice_holds_both_values() -> None:
    body, content_type = multipart({"key": "a"}, "f", b"x")
    boundary = content_type.split("=", 1)[1]
    first = f'--{boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nb\r\n'.encode()
    form = post_form.read(content_type, first + body)
    assert form is not None and form.values() == {"key": "b,a"}


def test_the_body_written_back_is_the_form_without_what_followed_the_file() -> None:
    body, content_type = multipart(BEFORE, "cat.jpg", b"meow", after={"key": "elsewhere"})
    form = post_form.read(content_type, body)
    assert form is not None
    again = post_form.read(content_type, post_form.body(form))
    assert again == form
    assert b"elsewhere" in body and b"elsewhere" not in post_form.body(form)


def test_a_signed_form_whose_policy_comes_after_the_file_misses_its_policy() -> None:
    """S3 names the missing field and says to check the order
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html)."""
    before = {k: v for k, v in EXAMPLE_FORM.items() if k.lower() != "policy"}
    after = {k: v for k, v in EXAMPLE_FORM.items() if k.lower() == "policy"}
    body, content_type = multipart(before, "cat.jpg", b"x" * 10, after=after)
    form = post_form.read(content_type, body)
    assert form is not None and form.file is not None
    upload = Upload("sigv4examplebucket", form.values(), 10, datetime(2015, 12, 29, tzinfo=UTC))
    refusal = check_upload(upload, secrets([EXAMPLE_SIGNER]))
    assert refusal is not None and refusal.code == "InvalidArgument"
    assert "must contain a field named 'Policy'" in refusal.message
    # The same fields all before the file pass: the order alone made the difference.
    body, content_type = multipart(EXAMPLE_FORM, "cat.jpg", b"x" * 10)
    form = post_form.read(content_type, body)
    assert form is not None
    upload = Upload("sigv4examplebucket", form.values(), 10, datetime(2015, 12, 29, tzinfo=UTC))
    assert check_upload(upload, secrets([EXAMPLE_SIGNER])) is None


def test_a_body_that_is_not_multipart_is_not_a_form() -> None:
    assert post_form.read("application/json", b"{}") is None
    assert post_form.read("multipart/form-data", b"--x\r\n") is None  # no boundary
    form = post_form.read("multipart/form-data; boundary=x", b"--x\r\nno headers end")
    assert form is None or form.file is None
