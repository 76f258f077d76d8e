"""What S3 is told about an object: its type, disposition, ACL and checksum.

Pure functions of the name, the settings and the measured metadata, shared by
every write (a save, a claim, a copy, a browser's direct upload) and by the
presigned URLs that read objects back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..content import guess_type, is_inline_safe

if TYPE_CHECKING:
    from ..metadata import FileMetadata

#: Object metadata holding a random token per upload, so a retried write that
#: did reach S3 (its reply was lost) is recognised as ours, not as a clash.
UPLOAD_TOKEN = "flask-store-upload"  # noqa: S105 - a metadata name


def object_args(
    key: str,
    *,
    acl: str | None,
    metadata: FileMetadata | None = None,
    multipart_threshold: int,
) -> dict[str, Any]:
    """Content-Type, ACL, checksum and, for what a browser could run, an attachment.

    The local serving route's policy: a type that is not safe inline (HTML,
    SVG, XML, scripts, anything unknown), by the name or by the content, is
    stored with ``Content-Disposition: attachment``, so the bucket (or a CDN
    in front of it) makes browsers download it instead of running it. With
    the ``metadata`` a save measured, the type is the content's and the
    SHA-256 goes with the upload for S3 to check: as ``ChecksumSHA256`` in
    one request, per part (``ChecksumAlgorithm``) in a multipart upload; it
    is kept in the object's metadata either way.
    """
    by_name = guess_type(key)
    content_type = by_name if metadata is None else metadata.content_type
    extra: dict[str, Any] = {"ContentType": content_type}
    if not (is_inline_safe(content_type) and is_inline_safe(by_name)):
        extra["ContentDisposition"] = "attachment"
    if acl:
        extra["ACL"] = acl
    if metadata is not None and metadata.sha256 is not None:
        extra["Metadata"] = metadata.s3_metadata()
        extra["ChecksumAlgorithm"] = "SHA256"
        if metadata.size < multipart_threshold:
            extra["ChecksumSHA256"] = metadata.sha256_base64
    return extra


def read_params(bucket: str, key: str, path: str) -> dict[str, Any]:
    """A GetObject's parameters that make S3 answer with the name's type and,
    for a type a browser could run, as an attachment."""
    content_type = guess_type(path)
    params = {"Bucket": bucket, "Key": key, "ResponseContentType": content_type}
    if not is_inline_safe(content_type):
        params["ResponseContentDisposition"] = "attachment"
    return params
