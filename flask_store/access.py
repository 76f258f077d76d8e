"""Access settings: ``True``, or a callable (sync or ``async``) that decides.

``STORE_ADMIN_ACCESS`` and ``STORE_UPLOADS_ACCESS`` let a request in only
when the setting is ``True`` or its callable returns exactly ``True``.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:
    from flask import Flask


def access_decision(setting: Any, *, app: Flask | None = None) -> Any:
    """What an access setting says for this request (``True`` lets it in)."""
    if not callable(setting):
        return setting
    # An object whose ``__call__`` is ``async def`` is not a coroutine function
    # itself; Flask's ensure_sync needs the method to see it is one.
    function = setting if inspect.iscoroutinefunction(setting) else setting.__call__
    if inspect.iscoroutinefunction(function):
        owner: Flask = app if app is not None else current_app
        return owner.ensure_sync(function)()
    result = setting()
    if inspect.isawaitable(result):
        # A callable returning a coroutine it never awaited: a coroutine is
        # truthy, so it must not let anyone in; close it to free it quietly.
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return f"an un-awaited {type(result).__name__}"
    return result
