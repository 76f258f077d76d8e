"""A local S3 server for the benchmarks: moto's ThreadedMotoServer in its own
process, so the server's work never shares a GIL with the client measured.

``python -m benchmarks.motoserver`` prints the port it listens on (127.0.0.1,
chosen by the system) and serves until its standard input closes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

REGION = "eu-west-1"
CREDENTIALS = {
    "aws_access_key_id": "bench-key",
    "aws_secret_access_key": "bench-secret",
}


@contextmanager
def moto_server() -> Iterator[str]:
    """Start the server process; yield its endpoint URL; stop it afterwards."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.motoserver"],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def raw_client(endpoint: str) -> Any:
    """A plain boto3 S3 client for ``endpoint``: the baseline."""
    import boto3

    return boto3.session.Session().client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
    )


def create_bucket(endpoint: str, bucket: str) -> Any:
    client = raw_client(endpoint)
    client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return client


def s3_config(
    endpoint: str, bucket: str, provider: str = "S3Provider"
) -> dict[str, Any]:
    return {
        "STORE_PROVIDER": f"flask_store.providers.s3.{provider}",
        "STORE_S3_BUCKET": bucket,
        "STORE_S3_REGION": REGION,
        "STORE_S3_ACCESS_KEY": CREDENTIALS["aws_access_key_id"],
        "STORE_S3_SECRET_KEY": CREDENTIALS["aws_secret_access_key"],
        "STORE_S3_ENDPOINT_URL": endpoint,
    }


def main() -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
