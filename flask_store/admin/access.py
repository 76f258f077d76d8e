"""Who may use the admin (``STORE_ADMIN_ACCESS``) and whether it checks CSRF.

Access is granted only when the setting is ``True`` or a callable, sync or
``async``, returns exactly ``True``; every refusal is logged.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from flask import current_app, request
from werkzeug.exceptions import Forbidden

from . import messages

if TYPE_CHECKING:
    from flask import Flask


class AdminAccessDenied(Forbidden):
    """The admin is closed to this request (``STORE_ADMIN_ACCESS``)."""

    description = messages.ACCESS_DENIED


def admin_allowed(setting: Any, *, app: Flask | None = None) -> bool:
    """Whether ``STORE_ADMIN_ACCESS`` lets the current request in.

    ``True`` opens the admin to everyone; a callable (``async def`` too, run
    with the app's ``ensure_sync``) decides per request and lets it in only
    by returning exactly ``True``. Anything else, ``None`` (the default), a
    truthy string such as ``"false"`` or an un-awaited coroutine, refuses.
    """
    return access_decision(setting, app=app) is True


def access_decision(setting: Any, *, app: Flask | None = None) -> Any:
    """What ``STORE_ADMIN_ACCESS`` says for this request (``True`` lets it in)."""
    if not callable(setting):
        return setting
    if inspect.iscoroutinefunction(setting):
        owner: Flask = app if app is not None else current_app
        return owner.ensure_sync(setting)()
    result = setting()
    if inspect.isawaitable(result):
        # A callable returning a coroutine it never awaited: a coroutine is
        # truthy, so it must not open the admin; close it to free it quietly.
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return f"an un-awaited {type(result).__name__}"
    return result


def check_access(app: Flask) -> None:
    """Raise :class:`AdminAccessDenied` unless ``STORE_ADMIN_ACCESS`` allows.

    Each refusal is logged as a warning with what the setting gave.
    """
    setting = app.config.get("STORE_ADMIN_ACCESS")
    decision = access_decision(setting, app=app)
    if decision is not True:
        app.logger.warning(
            "Flask-Store admin refused %s %s: STORE_ADMIN_ACCESS %s %r, not True.",
            request.method,
            request.path,
            "returned" if callable(setting) else "is",
            decision,
        )
        raise AdminAccessDenied()


def csrf_enabled(app: Flask) -> bool:
    """Whether the admin checks CSRF tokens (``STORE_ADMIN_CSRF``, default on).

    Independent of Flask-WTF's ``WTF_CSRF_ENABLED``, which an app may turn off
    for its own forms; only ``STORE_ADMIN_CSRF = False`` turns it off (tests).
    """
    return app.config.get("STORE_ADMIN_CSRF", True) is not False
