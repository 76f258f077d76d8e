"""The mountable admin blueprint: browse, upload, delete, new folder, models.

::

    from flask_store.blueprint import blueprint as store_admin
    app.register_blueprint(store_admin, url_prefix="/admin/files")

Every view first checks ``STORE_ADMIN_ACCESS``. Every change is a POST whose
form carries a CSRF token, checked whatever ``WTF_CSRF_ENABLED`` says (only
``STORE_ADMIN_CSRF = False`` turns the check off); a GET never changes
anything. The views only parse
the request and render: the work is in :mod:`flask_store.admin`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, Conflict, HTTPException, NotFound

from . import admin, names
from .extension import store_provider
from .forms import DeleteForm, FolderForm, UploadForm, human_size
from .serving import is_inline_safe

blueprint = Blueprint(
    "store_admin",
    __name__,
    template_folder="templates",
    # Also reachable as url_for("store_admin.static"); the templates use the
    # assets blueprint that Store registers, which works at any url_prefix.
    static_folder="static/flask_store",
    static_url_path="/static",
)


@blueprint.before_request
def check_access() -> None:
    """Refuse every view unless ``STORE_ADMIN_ACCESS`` allows the request."""
    admin.check_access(current_app)


@blueprint.app_template_filter("filesize")
def filesize(size: int | None) -> str:
    return "" if size is None else human_size(size)


@blueprint.context_processor
def template_helpers() -> dict[str, Any]:
    return {
        "previewable": admin.is_previewable,
        "row_label": admin.row_label,
        "row_anchor": admin.row_anchor,
        "usage_labels": admin.usage_labels,
        "confirm_message": admin.confirm_message,
        "is_canonical": names.is_canonical,
    }


_Form = TypeVar("_Form", bound=FlaskForm)


def admin_form(form_class: type[_Form], **kwargs: Any) -> _Form:
    """An admin form, CSRF-checked unless ``STORE_ADMIN_CSRF`` is False.

    Flask-WTF's ``WTF_CSRF_ENABLED`` is about the app's own forms: an app
    that turns it off must not leave its file admin open to cross-site posts.
    """
    form: _Form = form_class(meta={"csrf": admin.csrf_enabled(current_app)}, **kwargs)
    return form


def wants_json() -> bool:
    """Whether the client asked for JSON rather than a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_message(exc: HTTPException) -> str:
    """A message that tells the user what went wrong and what to do."""
    if isinstance(exc, CSRFError):
        return (
            "The form's security token (CSRF) is missing or has expired. "
            "Reload the page and try again."
        )
    if exc.code == 413 and request.max_content_length is not None:
        limit = human_size(request.max_content_length)
        return (
            f"The upload is too large: this site accepts at most {limit} per "
            "request (MAX_CONTENT_LENGTH). Nothing was stored."
        )
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
            access_denied=isinstance(exc, admin.AdminAccessDenied),
        ),
        exc.code,
    )


def form_errors(form: FlaskForm) -> dict[str, list[str]]:
    """Field name to messages, with a clear message for a CSRF failure."""
    errors = {name: list(messages) for name, messages in form.errors.items()}
    if "csrf_token" in errors:
        errors["csrf_token"] = [error_message(CSRFError())]
    return errors


def first_error(form: FlaskForm) -> str:
    return next(m for messages in form_errors(form).values() for m in messages)


def after_change(default_folder: str) -> ResponseReturnValue:
    """Redirect to a safe ``next`` or back to the folder."""
    target = admin.safe_next(request.form.get("next"), request.host)
    return redirect(target or url_for(".index", folder=default_folder or None))


def render_browse(
    query: admin.BrowseQuery,
    *,
    upload_form: UploadForm | None = None,
    folder_form: FolderForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    result = admin.browse(store_provider(), query, app=current_app)
    result.usage = admin.file_usage(
        current_app,
        [entry.path for entry in result.page.files if names.is_canonical(entry.path)],
    )
    return (
        render_template(
            "flask_store/browse.html",
            browse=result,
            query=query,
            crumbs=admin.breadcrumbs(query.folder),
            page_sizes=admin.PAGE_SIZES,
            file_form=upload_form
            or admin_form(UploadForm, formdata=None, location=query.folder),
            folder_form=folder_form
            or admin_form(FolderForm, formdata=None, location=query.folder),
            delete_form=admin_form(DeleteForm, formdata=None),
        ),
        status,
    )


@blueprint.get("/")
def index() -> ResponseReturnValue:
    """Browse the current folder, one page at a time."""
    return render_browse(admin.BrowseQuery.from_args(request.args))


@blueprint.post("/upload")
def upload() -> ResponseReturnValue:
    """Save one or more uploaded files into a folder."""
    form = admin_form(UploadForm)
    if not form.validate_on_submit():
        if wants_json():
            files = [
                {"name": name, "errors": messages}
                for name, messages in form.file_errors.items()
            ]
            return jsonify(
                error=first_error(form), errors=form_errors(form), files=files
            ), 400
        folder = form.location.data if not form.location.errors else ""
        return render_browse(
            admin.BrowseQuery(folder=folder or ""), upload_form=form, status=400
        )
    location = form.location.data or ""
    saved = admin.save_uploads(
        store_provider(), form.file.data, location, app=current_app
    )
    if wants_json():
        return jsonify(admin.uploaded_json(saved, form.file.data)), 201
    listed = ", ".join(p.filename for p in saved)
    flash(f"Uploaded {listed}.", "success")
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
    if not names.is_canonical(path):
        raise BadRequest(
            f"{path!r} is not a canonical stored path (it needs attention): "
            "Flask-Store would delete it under another spelling, so it does not."
        )
    provider = admin.stored_provider(store_provider(), path, app=current_app)
    if not provider.exists():
        raise NotFound(f"{path} is not stored (was it already deleted?).")
    folder = admin.parent_folder(provider.relative_path)
    usage = admin.file_usage(current_app, [path]).get(path, [])
    labels = admin.usage_labels(usage)
    named = admin.parse_used_by(form.used_by.data)
    if form.confirmed.data != "yes" or not named.issuperset(labels):
        if wants_json():
            if form.confirmed.data == "yes":
                raise Conflict(
                    admin.confirm_message(provider.filename, labels)
                    + " Send used_by, a JSON list of these rows, to delete it."
                )
            raise BadRequest("Send confirmed=yes to delete the file.")
        return render_template(
            "flask_store/confirm_delete.html",
            form=form,
            file=provider,
            crumbs=admin.breadcrumbs(folder),
            usage=usage,
        )
    try:
        provider.delete()
    except FileNotFoundError:
        raise NotFound(f"{path} was already deleted.") from None
    if wants_json():
        return jsonify(deleted=provider.relative_path)
    flash(f"Deleted {provider.filename}.", "success")
    return after_change(folder)


@blueprint.post("/folder")
def new_folder() -> ResponseReturnValue:
    """Create a folder inside the current one."""
    form = admin_form(FolderForm)
    if not form.validate_on_submit():
        if wants_json():
            return jsonify(error=first_error(form), errors=form_errors(form)), 400
        folder = form.location.data if not form.location.errors else ""
        return render_browse(
            admin.BrowseQuery(folder=folder or ""), folder_form=form, status=400
        )
    try:
        created = store_provider().create_folder(
            admin.join_folder(form.location.data or "", form.name.data),
            app=current_app,
        )
    except OSError as exc:
        admin.raise_no_room(exc)
        raise
    if wants_json():
        return jsonify(folder=created), 201
    flash(f"Created folder {form.name.data}.", "success")
    return after_change(created)


@blueprint.get("/file/<path:path>")
def download(path: str) -> ResponseReturnValue:
    """Send a stored file (or redirect to a presigned URL) for previews."""
    provider = admin.stored_provider(store_provider(), path, app=current_app)
    presigned = getattr(provider, "presigned_url", None)
    if callable(presigned):
        if not provider.exists():
            raise NotFound(f"{path} is not stored.")
        return redirect(presigned())
    try:
        stream = provider.open()
    except FileNotFoundError:
        raise NotFound(f"{path} is not stored.") from None
    mimetype = provider.content_type
    inline = is_inline_safe(mimetype)
    response = send_file(
        stream,
        mimetype=mimetype,
        as_attachment=not inline,
        download_name=provider.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not inline:
        response.headers["Content-Security-Policy"] = "sandbox"
    return response


@blueprint.get("/models")
def models() -> ResponseReturnValue:
    """Each SQLAlchemy model with file columns, and its rows' files."""
    listing = admin.model_listing(
        current_app, model=request.args.get("model"), page=request.args.get("page")
    )
    return render_template("flask_store/models.html", listing=listing)
