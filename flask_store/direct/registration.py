"""Which upload endpoints an app has, registered by ``Store.init_app``.

With ``STORE_DIRECT_UPLOADS`` on (the default), ``init_app`` registers the
endpoints that fit the app's provider at ``STORE_UPLOADS_URL_PREFIX``
(``/_flask_store/uploads``), under the blueprint name :data:`UPLOADS`: the
tus endpoint for the local disk, the direct S3 endpoints for the S3
providers, none for others. An app that also registers one itself (under
the blueprint's own name) gets a second mount of the same endpoints; the
upload macro uses Flask-Store's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Blueprint, url_for

from ..state import store_state
from .tus import tus_uploads

if TYPE_CHECKING:
    from flask import Flask

    from ..backends.base import Backend

#: The name Flask-Store registers the upload endpoints under:
#: ``url_for("flask_store_uploads.create")`` (tus) or ``...params`` (S3).
UPLOADS = "flask_store_uploads"

#: Where they are registered when ``STORE_UPLOADS_URL_PREFIX`` is not set.
DEFAULT_PREFIX = "/_flask_store/uploads"

#: The tus blueprint's name, and the direct S3 one's (importing that needs boto3).
TUS = tus_uploads.name
S3 = "flask_store_s3"


@dataclass(frozen=True)
class UploadEndpoints:
    """The upload endpoints of an app: their kind and the view that roots them."""

    #: ``"tus"`` or ``"s3"``.
    kind: str
    #: The endpoint whose URL is the root the browser is given.
    endpoint: str

    def url(self) -> str:
        """The endpoints' root URL, ending with ``/`` (a request is needed)."""
        if self.kind == "tus":
            return url_for(self.endpoint)
        return url_for(self.endpoint).removesuffix("s3/params")


def kind_for(backend: Backend) -> str | None:
    """``"tus"``, ``"s3"`` or ``None``: the endpoints that fit ``backend``."""
    return backend.storage.direct_uploads


def _blueprint(kind: str) -> Blueprint:
    if kind == "tus":
        return tus_uploads
    # Imported only for an app whose provider stores in S3: boto3 is there.
    from .s3 import s3_uploads

    return s3_uploads


def register_uploads(app: Flask) -> None:
    """Register the upload endpoints that fit ``app``'s provider, if any."""
    kind = kind_for(store_state(app).backend)
    if kind is None or not app.config.get("STORE_DIRECT_UPLOADS", True):
        return
    prefix = "/" + str(app.config.get("STORE_UPLOADS_URL_PREFIX") or "").strip("/")
    app.register_blueprint(_blueprint(kind), url_prefix=prefix, name=UPLOADS)


def upload_endpoints(app: Flask) -> UploadEndpoints | None:
    """The upload endpoints ``app`` has for its provider, however registered.

    Flask-Store's own registration first, then one the app made itself.
    """
    kind = kind_for(store_state(app).backend)
    if kind is None:
        return None
    wanted = TUS if kind == "tus" else S3
    view = "create" if kind == "tus" else "params"
    for name, blueprint in app.blueprints.items():
        if name == UPLOADS and blueprint.name == wanted:
            return UploadEndpoints(kind, f"{name}.{view}")
    for name, blueprint in app.blueprints.items():
        if blueprint.name == wanted:
            return UploadEndpoints(kind, f"{name}.{view}")
    return None
