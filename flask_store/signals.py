"""Signals sent by Flask-Store, from one blinker namespace.

Each is sent with the Flask app as sender::

    from flask_store.signals import file_saved

    @file_saved.connect_via(app)
    def on_saved(app, provider, **extra):
        ...
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent after a file is stored under its final name; ``provider`` is the provider.
file_saved = _signals.signal("file-saved")

#: Sent after a stored file is deleted; ``provider`` is the provider.
file_deleted = _signals.signal("file-deleted")

#: Sent when a background upload gave up after its retries; ``provider`` is the
#: provider, ``exception`` the last error and ``spooled_path`` the kept copy.
upload_failed = _signals.signal("upload-failed")

#: Sent when a variant of ``STORE_EAGER_VARIANTS`` could not be made at save
#: time (the original is saved all the same); ``provider`` is the original's
#: provider, ``spec`` the :class:`~flask_store.variants.VariantSpec` and
#: ``exception`` the error.
variant_failed = _signals.signal("variant-failed")
