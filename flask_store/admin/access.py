"""Who may use the admin (``STORE_ADMIN_ACCESS``) and whether it checks CSRF.

Access is granted only when the setting is ``True`` or a callable, sync or
``async``, returns exactly ``True``; every refusal is logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import request
from werkzeug.exceptions import Forbidden

from ..access import access_decision
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
