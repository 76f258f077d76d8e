"""An example app that uses every part of Flask-Store.

Documents (a title, an attachment and an image, two ``FlaskStoreType``
columns) in SQLite, files on the local disk or in S3, the upload macro on the
home page and the file admin at ``/admin/files`` behind a login::

    flask --app example_app run

Configuration comes from the environment; see :mod:`example_app.settings`
and "The example app" in docs/quickstart.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from flask_store import Store
from flask_store.blueprint import blueprint as store_admin
from flask_store.exceptions import StoreError
from flask_store.forms import human_size
from flask_store.providers.local import LocalProvider

from . import flask_admin_views, settings
from .auth import LogoutForm, logged_in, to_login
from .auth import bp as auth_bp
from .models import db
from .views import bp as documents_bp
from .views import file_url, wants_json

store = Store()


def create_app(
    config: Mapping[str, Any] | None = None, *, instance_path: str | None = None
) -> Flask:
    """Build the app: defaults, then the environment, then ``config``."""
    app = Flask(__name__, instance_path=instance_path)
    app.config.update(settings.defaults(app.instance_path))
    app.config.from_prefixed_env()  # FLASK_SECRET_KEY and other FLASK_* values
    app.config.update(settings.from_environment(os.environ))
    app.config.update(config or {})
    # Only a logged-in user may use the file admin.
    app.config.setdefault("STORE_ADMIN_ACCESS", logged_in)

    # The database and local uploads live in the instance folder: create it.
    os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    store.init_app(app)

    app.register_blueprint(documents_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(store_admin, url_prefix="/admin/files")
    app.before_request(send_anonymous_admin_to_login)
    app.register_error_handler(HTTPException, http_error)
    app.jinja_env.globals.update(
        logged_in=logged_in,
        logout_form=LogoutForm,
        file_url=file_url,
        human_size=human_size,
    )
    app.cli.command("make-bucket")(make_bucket)
    flask_admin_views.init_app(app)  # at /flask-admin/, when it is installed

    with app.app_context():
        db.create_all()
        if issubclass(store.provider(app), LocalProvider):
            LocalProvider.create_folder("", app=app)
    if should_announce(app):
        announce(app)
    return app


def send_anonymous_admin_to_login() -> ResponseReturnValue | None:
    """Send a visitor who is not logged in from the file admin to the login."""
    if request.blueprint == store_admin.name and not logged_in():
        return to_login()
    return None


def http_error(exc: HTTPException) -> ResponseReturnValue:
    """Errors as a page, or as JSON for clients that asked for JSON."""
    if request.blueprint == store_admin.name:
        return exc  # the admin blueprint renders its own errors
    message = error_message(exc)
    if wants_json():
        return jsonify(error=message, status=exc.code), exc.code or 500
    return render_template("error.html", error=exc, message=message), exc.code or 500


def error_message(exc: HTTPException) -> str:
    """What went wrong, for people; a body too large says what the limit is."""
    limit = request.max_content_length
    if exc.code == 413 and limit is not None and not isinstance(exc, StoreError):
        return (
            f"The upload is too large: this site accepts at most "
            f"{human_size(limit)} per upload. Nothing was stored."
        )
    return str(exc.description or exc.name)


def should_announce(app: Flask) -> bool:
    """Announce on ``flask run`` and under a WSGI server, not for other commands."""
    if app.testing:
        return False
    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.info_name == "run"


def announce(app: Flask) -> None:
    """Say where things are and which development defaults are in use."""
    config = app.config
    lines = [f"Flask-Store example: files via {config['STORE_PROVIDER']}"]
    if config.get("STORE_PATH") and "local" in config["STORE_PROVIDER"]:
        lines.append(f"  files in {config['STORE_PATH']}")
    lines.append(f"  database {config['SQLALCHEMY_DATABASE_URI']}")
    if config["EXAMPLE_PASSWORD"] == settings.DEV_PASSWORD:
        lines.append(
            f"  log in as {config['EXAMPLE_USERNAME']} / {settings.DEV_PASSWORD}"
            " (development default: set EXAMPLE_PASSWORD to change it)"
        )
    if config["SECRET_KEY"] == settings.DEV_SECRET_KEY:
        lines.append(
            "  using the development SECRET_KEY: set FLASK_SECRET_KEY anywhere "
            "but your own machine"
        )
    click.echo("\n".join(lines), err=True)


def make_bucket() -> None:
    """Create the STORE_S3_BUCKET bucket (for a fresh local S3 server)."""
    config = current_app.config
    if not config.get("STORE_S3_BUCKET"):
        raise click.ClickException("Set STORE_PROVIDER=s3 and STORE_S3_BUCKET first.")
    import boto3

    client = boto3.client(
        "s3",
        region_name=config.get("STORE_S3_REGION"),
        endpoint_url=config.get("STORE_S3_ENDPOINT_URL"),
        aws_access_key_id=config.get("STORE_S3_ACCESS_KEY"),
        aws_secret_access_key=config.get("STORE_S3_SECRET_KEY"),
    )
    bucket = config["STORE_S3_BUCKET"]
    options: dict[str, Any] = {"Bucket": bucket}
    region = config.get("STORE_S3_REGION")
    if region and region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**options)
    except client.exceptions.BucketAlreadyOwnedByYou:
        click.echo(f"Bucket {bucket} already exists.")
        return
    except Exception as exc:  # report any S3 or connection error as a message
        raise click.ClickException(f"Could not create bucket {bucket}: {exc}") from exc
    click.echo(f"Created bucket {bucket}.")
