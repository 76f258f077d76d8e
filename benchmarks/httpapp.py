"""The WSGI app the HTTP benchmarks upload to, and a way to serve it.

Four Flask apps are mounted side by side, one per way of saving: ``/copy``
and ``/copy-fsync`` use Flask's own request class, ``/spool`` and
``/spool-fsync`` use :class:`flask_store.spool.StoreRequest`; the ``-fsync``
ones keep ``STORE_FSYNC=True``. Each has ``POST /ours`` (a Flask-Store save),
``POST /werkzeug`` (``FileStorage.save``) and ``POST /werkzeug-fsync``
(``FileStorage.save`` then fsync). Files go under ``$BENCH_STORE``; a response
is the saved file's absolute path, which the client deletes.

``python -m benchmarks.httpapp PORT`` serves it with Werkzeug's threaded
server on 127.0.0.1; gunicorn serves ``benchmarks.httpapp:application``.
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import TYPE_CHECKING

from flask import Flask, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

from flask_store import Store
from flask_store.spool import StoreRequest


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_app(root: str, *, spool: bool, fsync: bool) -> Flask:
    app = Flask(__name__, instance_path=os.path.join(root, "instance"))
    if spool:
        app.request_class = StoreRequest
    name = ("spool" if spool else "copy") + ("-fsync" if fsync else "")
    app.config.update(STORE_PATH=os.path.join(root, name), STORE_FSYNC=fsync)
    store = Store(app)
    plain = os.path.join(root, "werkzeug")
    os.makedirs(plain, exist_ok=True)

    @app.post("/ours")
    def ours() -> str:
        provider = store.Provider(request.files["file"])
        provider.save()
        return str(provider.absolute_path)

    @app.post("/werkzeug")
    def werkzeug() -> str:
        path = os.path.join(plain, uuid.uuid4().hex)
        request.files["file"].save(path)
        return path

    @app.post("/werkzeug-fsync")
    def werkzeug_fsync() -> str:
        path = os.path.join(plain, uuid.uuid4().hex)
        request.files["file"].save(path)
        _fsync(path)
        _fsync(plain)
        return path

    return app


def create_application(root: str) -> DispatcherMiddleware:
    """All four apps, mounted under their names."""
    mounts: dict[str, WSGIApplication] = {
        f"/{'spool' if spool else 'copy'}{'-fsync' if fsync else ''}": create_app(
            root, spool=spool, fsync=fsync
        )
        for spool in (False, True)
        for fsync in (False, True)
    }
    return DispatcherMiddleware(Response("not found", status=404), mounts)


def __getattr__(name: str) -> DispatcherMiddleware:
    # gunicorn imports ``application``; it is built from $BENCH_STORE then,
    # so importing this module has no side effects.
    if name == "application":
        return create_application(os.environ["BENCH_STORE"])
    raise AttributeError(name)


if __name__ == "__main__":
    from werkzeug.serving import make_server

    server = make_server(
        "127.0.0.1",
        int(sys.argv[1]),
        create_application(os.environ["BENCH_STORE"]),
        threaded=True,
    )
    server.serve_forever()
