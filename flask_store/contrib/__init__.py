"""Integrations with other Flask extensions, each in its own subpackage.

- :mod:`flask_store.contrib.flask_admin`: Flask-Admin views over the store
  (``pip install Flask-Store[flask-admin]``).

Importing this package imports none of them.
"""
