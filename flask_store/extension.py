"""The ``Store`` extension and the per-app state it keeps."""

from __future__ import annotations

import weakref
from importlib import import_module
from typing import TYPE_CHECKING, Any

from flask import has_app_context

from .assets import register_assets
from .cli import store_cli
from .deprecation import warn_deprecated
from .direct.registration import DEFAULT_PREFIX, register_uploads
from .exceptions import NotConfiguredError
from .providers.base import Provider as BaseProvider
from .serving import forget_variants, serve, serve_variant
from .settings import CORE_SETTINGS, check_values, warn_unknown
from .signals import file_deleted
from .state import StoreState, store_provider, store_state
from .variants import VARIANT_ENDPOINT, eager_specs

if TYPE_CHECKING:
    from flask import Flask

DEFAULT_PROVIDER = "flask_store.providers.local.LocalProvider"

#: Config defaults every provider shares; providers add theirs in app_defaults.
DEFAULTS: dict[str, Any] = {
    "STORE_PROVIDER": DEFAULT_PROVIDER,
    "STORE_DOMAIN": None,
    "STORE_ALLOWED_EXTENSIONS": None,
    "STORE_MAX_SIZE": None,
    "STORE_ADMIN_ACCESS": None,
    "STORE_ADMIN_CSRF": True,
    "STORE_DELETE_ORPHANS": False,
    "STORE_FSYNC": True,
    "STORE_UPLOADS_ACCESS": None,
    "STORE_DIRECT_UPLOADS": True,
    "STORE_UPLOADS_URL_PREFIX": DEFAULT_PREFIX,
}

#: The endpoint of the serving route (``url_for("flask_store.file", filename=...)``).
SERVE_ENDPOINT = "flask_store.file"

#: The 0.0.4 name of that endpoint, which borrowed Flask's own prefix; it
#: still works in ``url_for``.
LEGACY_SERVE_ENDPOINT = "flask.store.file"


def import_provider(dotted_path: str) -> type[BaseProvider]:
    """Import a provider class from ``"package.module.ClassName"``."""
    module_name, _, class_name = str(dotted_path).rpartition(".")
    if not module_name:
        raise ImportError(
            f"STORE_PROVIDER {dotted_path!r} is not a dotted path "
            "like 'flask_store.providers.local.LocalProvider'."
        )
    try:
        module = import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"STORE_PROVIDER {dotted_path!r} could not be imported: {exc}"
        ) from exc
    provider = getattr(module, class_name, None)
    if not (isinstance(provider, type) and issubclass(provider, BaseProvider)):
        raise ImportError(
            f"STORE_PROVIDER {dotted_path!r}: {module_name} has no Provider "
            f"subclass named {class_name}."
        )
    return provider


class Store:
    """Flask-Store for one or more apps.

    ::

        store = Store(app)          # or Store() then store.init_app(app)
        provider = store.Provider(request.files["afile"])
        provider.save()
    """

    #: The app of a ``Store(app)`` that no other app shares, held weakly: only
    #: so that ``store.Provider`` works outside an app context, as in 0.0.4.
    _single_app: weakref.ref[Flask] | None = None

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)
            self._single_app = weakref.ref(app)

    def init_app(self, app: Flask) -> None:
        """Configure ``app``: defaults, provider, backend, routes and commands.

        With ``STORE_DIRECT_UPLOADS`` on, the upload endpoints that fit the
        provider are registered at ``STORE_UPLOADS_URL_PREFIX``
        (:mod:`flask_store.direct.registration`).

        The storage settings are read and checked here, once: a value of the
        wrong type raises :class:`NotConfiguredError` naming the key, and a
        ``STORE_`` key nothing reads is warned about. Changing them in
        ``app.config`` afterwards has no effect.

        :raises RuntimeError: when Flask-Store is already initialised on ``app``.
        """
        if "store" in app.extensions:
            raise RuntimeError(
                "Flask-Store is already initialised on this app: call "
                "Store(app) or store.init_app(app) once per app."
            )
        if self._single_app is not None and self._single_app() is not app:
            self._single_app = None  # serving several apps now
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        provider = self.provider(app)
        settings = (*CORE_SETTINGS, *provider.settings())
        check_values(app.config, settings)
        eager_variants = eager_specs(app.config)
        before = set(app.config)
        self.set_provider_defaults(app)
        self.check_config(app)
        warn_unknown(
            app.config,
            {s.key for s in settings}
            | set(provider.REQUIRED_CONFIGURATION)
            | (set(app.config) - before),
        )
        backend = provider.make_backend(app)
        state = StoreState(self, app, provider, backend)
        state.eager_variants = eager_variants
        app.extensions["store"] = state
        if provider.register_route:
            self.register_route(app)
        # Image variants of every provider's files, at signed URLs.
        app.add_url_rule(
            "/_flask_store/variants/<token>",
            VARIANT_ENDPOINT,
            serve_variant,
            methods=["GET"],
        )
        file_deleted.connect(forget_variants)
        # The endpoints browsers upload through (tus, direct to S3).
        register_uploads(app)

        # Templates and static files for the upload macro and the admin.
        register_assets(app)
        app.cli.add_command(store_cli)

    @property
    def Provider(self) -> type[BaseProvider]:
        """The current app's provider class.

        .. deprecated:: 1.0
            Outside an app context, for a ``Store(app)`` serving that one app
            only, this is that app's provider class, with a warning. Use it
            inside ``with app.app_context():``, or read
            ``app.extensions["store"].provider``.
        """
        app = self._single_app() if self._single_app is not None else None
        if app is None or has_app_context():
            return store_provider()
        warn_deprecated(
            "store.Provider outside an application context is deprecated: use "
            "it inside 'with app.app_context():', or read "
            "app.extensions['store'].provider."
        )
        return store_state(app).provider

    def provider(self, app: Flask) -> type[BaseProvider]:
        """The provider class ``app`` is configured with."""
        state = app.extensions.get("store")
        if isinstance(state, StoreState) and state.store is self:
            return state.provider
        return import_provider(app.config.get("STORE_PROVIDER", DEFAULT_PROVIDER))

    def set_provider_defaults(self, app: Flask) -> None:
        """Let the provider set its config defaults (``app_defaults``)."""
        app_defaults = getattr(self.provider(app), "app_defaults", None)
        if app_defaults is not None:
            app_defaults(app)

    def check_config(self, app: Flask) -> None:
        """Raise :class:`NotConfiguredError` naming every missing required key."""
        required = getattr(self.provider(app), "REQUIRED_CONFIGURATION", ())
        missing = [key for key in required if not app.config.get(key)]
        if missing:
            keys = ", ".join(missing)
            raise NotConfiguredError(
                f"Flask-Store is missing configuration: {keys}. "
                f"Set {'them' if len(missing) > 1 else 'it'} in app.config "
                "before calling init_app."
            )

    def register_route(self, app: Flask) -> None:
        """Serve stored files at ``<STORE_URL_PREFIX>/<path:filename>``."""
        prefix = "/" + str(app.config.get("STORE_URL_PREFIX") or "").strip("/")
        rule = prefix.rstrip("/") + "/<path:filename>"
        app.add_url_rule(rule, SERVE_ENDPOINT, serve, methods=["GET"])
        app.add_url_rule(rule, LEGACY_SERVE_ENDPOINT, serve, methods=["GET"])


__all__ = ["DEFAULTS", "SERVE_ENDPOINT", "Store", "StoreState", "store_provider"]
