"""The example app's data: documents with an attachment and an image."""

from __future__ import annotations

from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flask_store.providers import Provider
from flask_store.sqla import FlaskStoreType


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Document(db.Model):  # type: ignore[name-defined,misc]
    """A titled document. Each column holds the path of a stored file."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    attachment: Mapped[Provider | None] = mapped_column(
        FlaskStoreType(256, location="documents")
    )
    image: Mapped[Provider | None] = mapped_column(
        FlaskStoreType(256, location="images")
    )
    created: Mapped[datetime] = mapped_column(default=_now)

    def __str__(self) -> str:
        """Its title: how the admin and the delete page name the row."""
        return self.title

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.title!r}>"
