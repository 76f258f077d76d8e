"""Pages of the example app: the document list, upload, detail, edit, delete."""

from __future__ import annotations

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
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from wtforms import Field, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from flask_store.exceptions import StoreError
from flask_store.forms import StoreFileField, UploadForm
from flask_store.providers import Provider
from flask_store.providers.base import guess_type
from flask_store.sqla import rows_using

from .auth import login_required
from .models import Document, db

bp = Blueprint("documents", __name__)

IMAGE_EXTENSIONS = ("png", "jpg", "jpeg", "gif", "webp")

#: The folder the upload form's grant names: a page's script uploads large
#: files there itself (tus or direct to S3), and the form posts receipts.
UPLOAD_FOLDER = "documents"

#: Pages past the last are empty; past this one, SQLite's OFFSET would overflow.
LAST_PAGE = 10**9

#: Text files up to this many bytes are shown on the detail page.
PREVIEW_BYTES = 4096


def images_only(form: FlaskForm, field: Field) -> None:
    """A chosen file, posted or received, must be named as an image."""
    name = field.data.filename if field.data else ""
    if name and name.rpartition(".")[2].lower() not in IMAGE_EXTENSIONS:
        raise ValidationError("Choose a PNG, JPEG, GIF or WebP image.")


class DocumentForm(FlaskForm):  # type: ignore[misc]
    """Edit a document: its title, and optionally a new attachment or image.

    The file fields take a posted file or a receipt, checked by the upload
    rules either way (``StoreFileField``).
    """

    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    attachment = StoreFileField("Replace the attachment", location="documents")
    image = StoreFileField(
        "Replace the image", validators=[images_only], location="images"
    )


class DeleteForm(FlaskForm):  # type: ignore[misc]
    """Deleting changes state, so it is a POST with a CSRF token."""


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def file_url(provider: Provider) -> str:
    """A URL a browser can fetch: presigned for private S3 objects."""
    presigned = getattr(provider, "presigned_url", None)
    return str(presigned()) if callable(presigned) else provider.absolute_url


def file_info(provider: Provider | None) -> dict[str, Any] | None:
    """What the detail page shows about a stored file (one stat, maybe a read)."""
    if provider is None:
        return None
    info: dict[str, Any] = {
        "name": provider.filename,
        "path": provider.relative_path,
        "content_type": provider.content_type,
        "is_image": provider.content_type.startswith("image/"),
        "missing": False,
        "preview": None,
    }
    try:
        info["size"] = provider.size
        info["url"] = file_url(provider)
        if info["content_type"] in ("text/plain", "text/markdown", "text/csv"):
            with provider.open() as stream:
                head = stream.read(PREVIEW_BYTES + 1)
            info["preview"] = head[:PREVIEW_BYTES].decode(errors="replace")
            info["truncated"] = len(head) > PREVIEW_BYTES
    except FileNotFoundError:
        info["missing"] = True
    return info


def document_from_upload(upload: FileStorage | Provider) -> Document:
    """A new document holding ``upload``: as its image or as its attachment.

    ``upload`` is a posted file or a file the page uploaded itself (a receipt
    the form turned into its provider); the column takes either.
    """
    name = upload.filename or "upload"
    title = name.rsplit(".", 1)[0].replace("_", " ").strip() or name
    if guess_type(name).startswith("image/"):
        return Document(title=title, image=upload)
    return Document(title=title, attachment=upload)


def upload_json(document: Document) -> dict[str, Any]:
    """A created document, in the shape the upload macro's script reads."""
    provider = document.image or document.attachment
    return {
        "name": provider.filename if provider else document.title,
        "path": provider.relative_path if provider else None,
        "url": url_for(".detail", doc_id=document.id),
        "document": {"id": document.id, "title": document.title},
    }


def render_index(upload_form: UploadForm, status: int = 200) -> ResponseReturnValue:
    page = db.paginate(
        select(Document).order_by(Document.created.desc(), Document.id.desc()),
        page=min(request.args.get("page", 1, type=int), LAST_PAGE),
        per_page=12,
        error_out=False,
    )
    return (
        render_template("index.html", page=page, form=upload_form),
        status,
    )


def blank_upload_form() -> UploadForm:
    return UploadForm(formdata=None, data={"location": UPLOAD_FOLDER})


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_index(blank_upload_form())


@bp.post("/documents")
@login_required
def upload() -> ResponseReturnValue:
    """Make one document per uploaded file (the form is Flask-Store's macro)."""
    form = UploadForm()
    if not form.validate_on_submit():
        if wants_json():
            messages = [m for errors in form.errors.values() for m in errors]
            files = [
                {"name": name, "errors": errors}
                for name, errors in form.file_errors.items()
            ]
            return jsonify(error=messages[0], errors=form.errors, files=files), 400
        return render_index(form, status=400)
    documents = [document_from_upload(upload) for upload in form.file.data]
    db.session.add_all(documents)
    try:
        db.session.commit()
    except StoreError as exc:
        # The rollback also deletes the files this commit had stored.
        db.session.rollback()
        message = f"The files could not be stored, nothing was added: {exc}"
        if wants_json():
            return jsonify(error=message), 502
        flash(message, "error")
        return render_index(blank_upload_form(), status=502)
    if wants_json():
        return jsonify(files=[upload_json(d) for d in documents]), 201
    flash(
        f"Added {len(documents)} document{'s' if len(documents) > 1 else ''}.",
        "success",
    )
    if len(documents) == 1:
        return redirect(url_for(".detail", doc_id=documents[0].id))
    return redirect(url_for(".index"))


@bp.get("/documents/<int:doc_id>")
def detail(doc_id: int) -> ResponseReturnValue:
    document = db.get_or_404(Document, doc_id)
    return render_detail(document, DocumentForm(formdata=None, obj=document))


def render_detail(
    document: Document, form: DocumentForm, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "detail.html",
            document=document,
            form=form,
            attachment=file_info(document.attachment),
            image=file_info(document.image),
        ),
        status,
    )


@bp.post("/documents/<int:doc_id>")
@login_required
def edit(doc_id: int) -> ResponseReturnValue:
    """Rename a document, or replace its files (old files go after the commit)."""
    document = db.get_or_404(Document, doc_id)
    form = DocumentForm()
    if not form.validate_on_submit():
        return render_detail(document, form, status=400)
    document.title = form.title.data
    for field in (form.attachment, form.image):
        if field.data:  # a posted file, or one the page uploaded itself
            setattr(document, field.name, field.data)
    try:
        db.session.commit()
    except StoreError as exc:
        db.session.rollback()
        flash(f"The file could not be stored: {exc}", "error")
        return render_detail(document, form, status=502)
    flash("Saved.", "success")
    return redirect(url_for(".detail", doc_id=document.id))


def files_to_delete(document: Document) -> list[dict[str, Any]]:
    """The document's files, each with its size and the other rows using it.

    A file another row uses stays in the store when the document is deleted
    (``STORE_DELETE_ORPHANS`` checks again after the commit), so the
    confirmation names those rows.
    """
    files = [
        (column, provider)
        for column, provider in (
            ("attachment", document.attachment),
            ("image", document.image),
        )
        if provider is not None
    ]
    usage = rows_using(db.session, [provider.relative_path for _, provider in files])
    found = []
    for column, provider in files:
        try:
            size: int | None = provider.size
        except FileNotFoundError:
            size = None
        others = [
            {
                "title": str(row),
                "column": used_by.attribute,
                "url": (
                    url_for(".detail", doc_id=row.id)
                    if isinstance(row, Document)
                    else None
                ),
            }
            for used_by, row in usage[provider.relative_path]
            if row is not document
        ]
        found.append(
            {
                "column": column,
                "name": provider.filename,
                "path": provider.relative_path,
                "size": size,
                "used_by": others,
            }
        )
    return found


@bp.get("/documents/<int:doc_id>/delete")
@login_required
def confirm_delete(doc_id: int) -> ResponseReturnValue:
    """Ask first: what deleting removes, and which files other rows keep."""
    document = db.get_or_404(Document, doc_id)
    return render_template(
        "delete.html",
        document=document,
        form=DeleteForm(),
        files=files_to_delete(document),
        deletes_files=current_app.config.get("STORE_DELETE_ORPHANS", False),
    )


@bp.post("/documents/<int:doc_id>/delete")
@login_required
def delete(doc_id: int) -> ResponseReturnValue:
    document = db.get_or_404(Document, doc_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        flash("The page had expired, so nothing was deleted: try again.", "error")
        return redirect(url_for(".confirm_delete", doc_id=doc_id))
    kept = [file["name"] for file in files_to_delete(document) if file["used_by"]]
    db.session.delete(document)
    db.session.commit()
    message = f"Deleted {document.title}."
    if kept and current_app.config.get("STORE_DELETE_ORPHANS", False):
        them = "them" if len(kept) > 1 else "it"
        message += f" Kept {', '.join(kept)}: other documents use {them}."
    flash(message, "success")
    return redirect(url_for(".index"))
