"""The admin's views that rename, move and delete folders and selections.

Thin, as the other views: parse the form, call
:mod:`flask_store.admin.changes`, render or redirect. Every change is a POST
with a CSRF token; :func:`register` adds them to the admin blueprint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest, NotFound

from .. import names, spelling
from ..backends.folder_removal import delete_checked
from ..state import store_state
from . import actions, browsing, changes, messages
from .change_forms import FolderDeleteForm, MoveForm, SelectionForm
from .requests import admin_form, after_change, first_error, wants_json

if TYPE_CHECKING:
    from ..backends.base import Backend


def _backend() -> Backend:
    return store_state(current_app).backend


def _source(raw: str | None) -> str:
    """The file or folder a form names, cleaned (BadRequest when bad)."""
    try:
        path = names.clean_location(raw or "")
    except (TypeError, ValueError) as exc:
        raise BadRequest(str(exc)) from None
    if not path:
        raise BadRequest(messages.ROOT_IS_NO_FOLDER)
    if names.is_hidden(path):
        raise NotFound(messages.not_a_stored_file(path))
    return path


def _move_form(
    path: str, is_folder: bool, form: MoveForm, error: str | None = None
) -> str:
    return render_template(
        "flask_store/move.html",
        form=form,
        path=path,
        is_folder=is_folder,
        error=error,
        crumbs=browsing.breadcrumbs(path.rpartition("/")[0]),
    )


def move_page(path: str) -> ResponseReturnValue:
    """The rename and move form of one file or folder (works without JS)."""
    path = _source(path)
    backend = _backend()
    is_folder = not backend.exists(path)
    if is_folder and backend.list_folder(path, limit=1).missing:
        raise NotFound(messages.not_stored(path))
    folder, _, name = path.rpartition("/")
    form = admin_form(
        MoveForm,
        formdata=None,
        path=path,
        folder=folder,
        name=name,
        next=request.args.get("next", ""),
    )
    return _move_form(path, is_folder, form)


def move() -> ResponseReturnValue:
    """Rename or move a file or folder; refuse a taken target or a used file.

    A refused name or folder (taken, used, not allowed) gets the form again,
    with what was typed and why it was refused; a JSON request its error.
    """
    form = admin_form(MoveForm)
    if not form.validate_on_submit():
        raise BadRequest(first_error(form))
    source = _source(form.path.data)
    backend = _backend()
    is_folder = not backend.exists(source)
    try:
        folder = changes.target_folder(form.folder.data)
        name = changes.new_name(form.name.data, folder=is_folder)
        plan = changes.plan_move(current_app, backend, source, folder, name)
        changes.do_move(backend, plan)
    except (BadRequest, changes.Refused) as refused:
        if wants_json():
            raise
        return _move_form(source, is_folder, form, refused.description), refused.code
    left = plan.left
    if wants_json():
        answer: dict[str, object] = {"moved": {"from": plan.source, "to": plan.target}}
        if left is not None and not left.removed:
            answer.update(kept=left.kept, message=left.explain())
        return jsonify(answer)
    flash(messages.moved(plan.source, plan.target), "success")
    if left is not None and not left.removed:
        flash(left.explain(), "error")
    return after_change(folder)


def delete_folder() -> ResponseReturnValue:
    """Delete a folder: an empty one at once, one with files once confirmed.

    The confirmation counts the files and names the rows using any of them;
    it is asked again when either changed since. Exactly the files counted
    are deleted: a file saved into the folder since, or an entry not spelt
    canonically, stays, with the folder, and the answer says so.
    """
    form = admin_form(FolderDeleteForm)
    if not form.validate_on_submit():
        raise BadRequest(first_error(form))
    folder = _source(form.folder.data)
    backend = _backend()
    plan = changes.plan_folder_deletion(current_app, backend, folder)
    named = actions.parse_used_by(form.used_by.data)
    if plan.files and not (
        form.confirmed.data == "yes"
        and changes.confirmed(plan.labels, len(plan.files), named, form.count.data)
    ):
        if wants_json():
            raise BadRequest(
                messages.confirm_deletion(
                    f"folder {plan.folder} and the {len(plan.files)} files in it",
                    plan.labels,
                )
            )
        if form.confirmed.data == "yes":
            flash(messages.confirm_changed(), "error")
        return render_template(
            "flask_store/confirm_delete_folder.html",
            form=form,
            plan=plan,
            crumbs=browsing.breadcrumbs(folder),
        )
    removal = delete_checked(backend, folder, plan.files)
    left = removal.left
    if wants_json():
        if left.removed:
            return jsonify(deleted_folder=folder, deleted=removal.deleted)
        return jsonify(
            deleted_folder=None,
            deleted=removal.deleted,
            kept=left.kept,
            message=left.explain(),
        )
    if left.removed:
        flash(messages.deleted_folder(folder, len(removal.deleted)), "success")
        return after_change(browsing.parent_folder(folder))
    flash(messages.deleted_files(len(removal.deleted)), "success")
    flash(left.explain(), "error")
    return after_change(folder)


def selection() -> ResponseReturnValue:
    """Delete or move the files selected with the listing's checkboxes."""
    form = admin_form(SelectionForm)
    if not form.validate_on_submit():
        raise BadRequest(first_error(form))
    paths = sorted(set(request.form.getlist("paths")))
    if not paths:
        raise BadRequest(messages.nothing_selected())
    provider = store_state(current_app).provider
    sources = [
        actions.stored_provider(provider, path, app=current_app).relative_path
        for path in paths
    ]
    backend = _backend()
    for path in sources:
        if not spelling.is_canonical(path) or not backend.exists(path):
            raise NotFound(messages.not_stored(path))
    here = browsing.parent_folder(sources[0])
    if form.action.data == "move":
        folder = changes.target_folder(form.target.data)
        plans = [
            changes.plan_move(current_app, backend, p, folder, p.rpartition("/")[2])
            for p in sources
        ]
        for plan in plans:
            changes.do_move(backend, plan)
        if wants_json():
            return jsonify(moved=[{"from": p.source, "to": p.target} for p in plans])
        flash(messages.moved_files(len(plans), folder), "success")
        return after_change(here)
    if form.action.data != "delete":
        raise BadRequest(messages.unknown_action(form.action.data or ""))
    used = changes.used_by(current_app, sources)
    labels = sorted({label for rows in used.values() for label in rows})
    named = actions.parse_used_by(form.used_by.data)
    if not (
        form.confirmed.data == "yes"
        and changes.confirmed(labels, len(sources), named, form.count.data)
    ):
        if wants_json():
            raise BadRequest(messages.confirm_deletion(f"{len(sources)} files", labels))
        return render_template(
            "flask_store/confirm_selection.html",
            form=form,
            paths=sources,
            used=used,
            labels=labels,
            crumbs=browsing.breadcrumbs(here),
        )
    deleted = []
    for path in sources:
        try:
            backend.delete(path)
        except FileNotFoundError:
            continue
        deleted.append(path)
    if wants_json():
        return jsonify(deleted=deleted)
    flash(messages.deleted_files(len(deleted)), "success")
    return after_change(here)


def register(blueprint: Blueprint) -> None:
    """Add these views to the admin ``blueprint``."""
    blueprint.add_url_rule("/move/<path:path>", "move_page", move_page)
    blueprint.add_url_rule("/move", "move", move, methods=["POST"])
    blueprint.add_url_rule(
        "/delete-folder", "delete_folder", delete_folder, methods=["POST"]
    )
    blueprint.add_url_rule("/selection", "selection", selection, methods=["POST"])
