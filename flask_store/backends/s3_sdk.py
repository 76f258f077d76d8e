"""boto3, imported once for the S3 modules, with a helpful error without it."""

from __future__ import annotations

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "Could not load boto3, which the S3 providers need. Install it with "
        "pip install 'Flask-Store[s3]'."
    ) from exc

__all__ = ["BotoConfig", "BotoCoreError", "ClientError", "TransferConfig", "boto3"]
