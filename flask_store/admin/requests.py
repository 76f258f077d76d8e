"""What every admin view does with its request: the forms it checks, whether
it answers JSON, where it goes after a change.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.form import SUBMIT_METHODS
from werkzeug.datastructures import CombinedMultiDict

from ..providers.base import Provider
from ..state import store_state
from . import access, actions, messages


def store_provider() -> type[Provider]:
    """The current app's provider class."""
    return store_state(current_app).provider


_Form = TypeVar("_Form", bound=FlaskForm)


def admin_form(form_class: type[_Form], **kwargs: Any) -> _Form:
    """An admin form, CSRF-checked unless ``STORE_ADMIN_CSRF`` is False.

    Flask-WTF's ``WTF_CSRF_ENABLED`` is about the app's own forms: an app
    that turns it off must not leave its file admin open to cross-site posts.
    A posted form is read from the form fields and files only: Flask-WTF would
    read a JSON body as the form too, and a list or a number there is no form.
    The token's field keeps its name whatever ``WTF_CSRF_FIELD_NAME`` says, as
    the admin's templates and scripts send it.
    """
    if "formdata" not in kwargs and request.method in SUBMIT_METHODS:
        kwargs["formdata"] = CombinedMultiDict((request.files, request.form))
    meta = {"csrf": access.csrf_enabled(current_app), "csrf_field_name": "csrf_token"}
    form: _Form = form_class(meta=meta, **kwargs)
    return form


def wants_json() -> bool:
    """Whether the client asked for JSON rather than a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def form_errors(form: FlaskForm) -> dict[str, list[str]]:
    """Field name to messages, with a clear message for a CSRF failure."""
    errors = {name: list(found) for name, found in form.errors.items()}
    if "csrf_token" in errors:
        errors["csrf_token"] = [messages.CSRF_MESSAGE]
    return errors


def first_error(form: FlaskForm) -> str:
    return next(m for found in form_errors(form).values() for m in found)


def after_change(default_folder: str) -> ResponseReturnValue:
    """Redirect to a safe ``next`` or back to the folder."""
    target = actions.safe_next(request.form.get("next"), request.host)
    return redirect(target or url_for(".index", folder=default_folder or None))
