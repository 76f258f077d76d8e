"""The admin blueprint's views: parse the request, call the admin's logic,
render.

Every view first checks ``STORE_ADMIN_ACCESS``. Every change is a POST whose
form carries a CSRF token, checked whatever ``WTF_CSRF_ENABLED`` says (only
``STORE_ADMIN_CSRF = False`` turns the check off); a GET never changes
anything. ``flask_store.blueprint`` re-exports :data:`blueprint`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, Conflict, HTTPException, NotFound
from werkzeug.routing import BuildError

from .. import spelling
from ..exceptions import NotConfiguredError
from ..forms import DeleteForm, FolderForm, UploadForm
from ..humanize import human_size
from ..serving import send_stored_file
from ..state import store_state
from . import access, actions, browsing, manage_views, messages, models

# Re-exported: flask_store.blueprint keeps these importable from the views.
from .requests import admin_form as admin_form
from .requests import after_change as after_change
from .requests import first_error as first_error
from .requests import form_errors as form_errors
from .requests import store_provider as store_provider
from .requests import wants_json as wants_json

blueprint = Blueprint(
    "store_admin",
    "flask_store",
    template_folder="templates",
    # Also reachable as url_for("store_admin.static"); the templates use the
    # assets blueprint that Store registers, which works at any url_prefix.
    static_folder="static/flask_store",
    static_url_path="/static",
)


manage_views.register(blueprint)


@blueprint.record
def require_secret_key(state: BlueprintSetupState) -> None:
    """Refuse to register the admin on an app without ``SECRET_KEY``.

    The admin's CSRF tokens and its messages after a change live in the
    signed session: without the key every page would fail, so it fails here.
    """
    if not state.app.config.get("SECRET_KEY"):
        raise NotConfiguredError(messages.KEYLESS_APP)


@blueprint.before_request
def check_access() -> None:
    """Refuse every view unless ``STORE_ADMIN_ACCESS`` allows the request."""
    access.check_access(current_app)


@blueprint.app_template_filter("filesize")
def filesize(size: int | None) -> str:
    return "" if size is None else human_size(size)


def back_url() -> str | None:
    """Where the admin's "back to the app" link goes (``STORE_ADMIN_BACK_URL``).

    A value with a ``/`` is a URL; anything else is an endpoint name for
    ``url_for``. An endpoint that does not exist is logged, and no link shown.
    """
    target = current_app.config.get("STORE_ADMIN_BACK_URL")
    if not target:
        return None
    if "/" in target:
        return str(target)
    try:
        return url_for(target)
    except BuildError:
        current_app.logger.error(
            "STORE_ADMIN_BACK_URL %r is neither a URL nor an endpoint.", target
        )
        return None


@blueprint.context_processor
def template_helpers() -> dict[str, Any]:
    return {
        "back_url": back_url,
        "previewable": browsing.is_previewable,
        "thumbnail_url": partial(browsing.thumbnail_url, app=current_app),
        "row_label": models.row_label,
        "row_anchor": models.row_anchor,
        "usage_labels": models.usage_labels,
        "confirm_message": messages.confirm_message,
        "is_canonical": spelling.is_canonical,
    }


def error_message(exc: HTTPException) -> str:
    """A message that tells the user what went wrong and what to do."""
    if isinstance(exc, CSRFError):
        return messages.CSRF_MESSAGE
    if exc.code == 413 and request.max_content_length is not None:
        return messages.request_too_large(request.max_content_length)
    return str(exc.description or exc.name)


@blueprint.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> ResponseReturnValue:
    """Errors as a page, or as JSON when the client asked for JSON."""
    if exc.code is None or exc.code < 400:
        return exc
    message = error_message(exc)
    if wants_json():
        return jsonify(error=message, status=exc.code), exc.code
    return (
        render_template(
            "flask_store/error.html",
            error=exc,
            message=message,
            access_denied=isinstance(exc, access.AdminAccessDenied),
        ),
        exc.code,
    )


def render_browse(
    query: browsing.BrowseQuery,
    *,
    upload_form: UploadForm | None = None,
    folder_form: FolderForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    result = browsing.browse(store_provider(), query, app=current_app)
    result.usage = models.file_usage(
        current_app,
        [
            entry.path
            for entry in result.page.files
            if spelling.is_canonical(entry.path)
        ],
    )
    return (
        render_template(
            "flask_store/browse.html",
            browse=result,
            query=query,
            crumbs=browsing.breadcrumbs(query.folder),
            page_sizes=browsing.PAGE_SIZES,
            file_form=upload_form
            or admin_form(UploadForm, formdata=None, location=query.folder),
            folder_form=folder_form
            or admin_form(FolderForm, formdata=None, location=query.folder),
            delete_form=admin_form(DeleteForm, formdata=None),
        ),
        status,
    )


def refused_form(
    form: UploadForm | FolderForm, **json_extra: Any
) -> ResponseReturnValue:
    """A 400 for a form that did not validate: JSON, or the page with it."""
    if wants_json():
        return jsonify(
            error=first_error(form), errors=form_errors(form), **json_extra
        ), 400
    folder = (form.location.data if not form.location.errors else "") or ""
    kind = "upload_form" if isinstance(form, UploadForm) else "folder_form"
    return render_browse(
        browsing.BrowseQuery(folder=folder), status=400, **{kind: form}
    )


@blueprint.get("/")
def index() -> ResponseReturnValue:
    """Browse the current folder, one page at a time."""
    return render_browse(browsing.BrowseQuery.from_args(request.args))


@blueprint.post("/upload")
def upload() -> ResponseReturnValue:
    """Save one or more uploaded files into a folder."""
    form = admin_form(UploadForm)
    if not form.validate_on_submit():
        files = [
            {"name": name, "errors": errors}
            for name, errors in form.file_errors.items()
        ]
        return refused_form(form, files=files)
    location = form.location.data or ""
    saved = actions.save_uploads(
        store_provider(), form.file.data, location, app=current_app
    )
    if wants_json():
        return jsonify(actions.uploaded_json(saved, form.file.data)), 201
    flash(messages.uploaded([p.filename for p in saved]), "success")
    return after_change(location)


@blueprint.post("/delete")
def delete() -> ResponseReturnValue:
    """Ask for confirmation, naming the rows that use the file, then delete it.

    A deletion goes ahead only once the rows using the file right now were
    named to the user (``used_by`` lists the ones the confirmation named): a
    row that started using the file since gets a new confirmation.
    """
    form = admin_form(DeleteForm)
    if not form.validate_on_submit():
        raise BadRequest(first_error(form))
    path = form.path.data
    if not spelling.is_canonical(path):
        raise BadRequest(messages.not_canonical(path))
    provider = actions.stored_provider(store_provider(), path, app=current_app)
    if not provider.exists():
        raise NotFound(messages.not_stored(path, deleting=True))
    folder = browsing.parent_folder(provider.relative_path)
    usage = models.file_usage(current_app, [path]).get(path, [])
    labels = models.usage_labels(usage)
    named = actions.parse_used_by(form.used_by.data)
    if form.confirmed.data != "yes" or not named.issuperset(labels):
        if wants_json():
            if form.confirmed.data == "yes":
                raise Conflict(messages.send_used_by(provider.filename, labels))
            raise BadRequest(messages.CONFIRM_REQUIRED)
        return render_template(
            "flask_store/confirm_delete.html",
            form=form,
            file=provider,
            crumbs=browsing.breadcrumbs(folder),
            usage=usage,
        )
    try:
        provider.delete()
    except FileNotFoundError:
        raise NotFound(messages.already_deleted(path)) from None
    if wants_json():
        return jsonify(deleted=provider.relative_path)
    flash(messages.deleted(provider.filename), "success")
    return after_change(folder)


@blueprint.post("/folder")
def new_folder() -> ResponseReturnValue:
    """Create a folder inside the current one."""
    form = admin_form(FolderForm)
    if not form.validate_on_submit():
        return refused_form(form)
    backend = store_state(current_app).backend
    folder = actions.join_folder(form.location.data or "", form.name.data)
    # Only to say so: creating a folder that is there changes nothing.
    existed = not backend.list_folder(folder, limit=1).missing
    try:
        created = backend.create_folder(folder)
    except OSError as exc:
        actions.raise_no_room(exc)
        raise
    if wants_json():
        return jsonify(folder=created), 200 if existed else 201
    if existed:
        flash(messages.folder_exists(form.name.data), "info")
    else:
        flash(messages.created_folder(form.name.data), "success")
    return after_change(created)


@blueprint.get("/file/<path:path>")
def download(path: str) -> ResponseReturnValue:
    """Send a stored file (or redirect to a presigned URL) for previews."""
    provider = actions.stored_provider(store_provider(), path, app=current_app)
    presigned = getattr(provider, "presigned_url", None)
    if callable(presigned):
        if not provider.exists():
            raise NotFound(messages.not_stored(path))
        return redirect(presigned())
    try:
        stream = provider.open()
    except FileNotFoundError:
        raise NotFound(messages.not_stored(path)) from None
    return send_stored_file(
        stream, name=provider.filename, mimetype=provider.content_type, max_age=0
    )


@blueprint.get("/models", endpoint="models")
def models_page() -> ResponseReturnValue:
    """Each SQLAlchemy model with file columns, and its rows' files."""
    listing = models.model_listing(
        current_app, model=request.args.get("model"), page=request.args.get("page")
    )
    return render_template("flask_store/models.html", listing=listing)
