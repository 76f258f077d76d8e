"""A deliberately small login: one user, credentials from the configuration.

Enough to keep uploads and the file admin away from anonymous visitors in a
demo. A real app would use its own user model (Flask-Login and friends).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired

bp = Blueprint("auth", __name__)

_F = TypeVar("_F", bound=Callable[..., Any])


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    next = HiddenField()


class LogoutForm(FlaskForm):  # type: ignore[misc]
    """Logging out changes state, so it is a POST with a CSRF token."""


def logged_in() -> bool:
    """Whether the current visitor has logged in (``STORE_ADMIN_ACCESS`` too)."""
    return session.get("user") is not None


def login_url() -> str:
    return url_for("auth.login", next=request.full_path.rstrip("?"))


#: What a script (an upload form's) is told when the visitor is logged out.
LOGGED_OUT_MESSAGE = (
    "You are not logged in any more (your session may have expired): "
    "log in again, then upload the files again. Nothing was stored."
)


def to_login() -> ResponseReturnValue:
    """Send a visitor who is not logged in to the login page, then back.

    A script asking for JSON (the upload form's, whose page was left open
    until the session expired) gets a 401 with a message to show instead: a
    redirect would bring it the login page, which it would take for success.
    """
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    if best == "application/json":
        return jsonify(error=LOGGED_OUT_MESSAGE, status=401), 401
    return redirect(login_url())


def login_required(view: _F) -> _F:
    """Send anonymous visitors to the login page, then back."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not logged_in():
            return to_login()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else ``None`` (no open redirect)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    return target


def credentials_match(username: str, password: str) -> bool:
    """Compare in constant time, so timing does not reveal the password."""
    config = current_app.config
    user_ok = hmac.compare_digest(
        username.encode(), str(config["EXAMPLE_USERNAME"]).encode()
    )
    password_ok = hmac.compare_digest(
        password.encode(), str(config["EXAMPLE_PASSWORD"]).encode()
    )
    return user_ok and password_ok


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm(next=request.args.get("next"))
    status = 200
    if form.validate_on_submit():
        if credentials_match(form.username.data, form.password.data):
            session.clear()
            session["user"] = form.username.data
            flash(f"Logged in as {form.username.data}.", "success")
            return redirect(safe_next(form.next.data) or url_for("documents.index"))
        form.password.errors.append("Wrong username or password.")
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    form = LogoutForm()
    if form.validate_on_submit():
        session.clear()
        flash("Logged out.", "success")
    else:
        flash("The page had expired, so you are still logged in: try again.", "error")
    return redirect(url_for("documents.index"))
