"""Model fields whose values are encrypted at rest (``peers.security.crypto``).

Reads and writes through the ORM are transparent: the attribute holds the clear text (or, for
``EncryptedJSONField``, the decoded JSON value), the column holds ``enc1:...`` text. Code that
reads such a column with a raw cursor (the exporter) must call ``peers.security.crypto.decrypt`` itself.
Encrypted columns cannot be searched or compared in SQL, except with None and "" (stored as is).
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxLengthValidator
from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """A text column holding AES-256-GCM ciphertext. ``max_length`` is a validation limit on the
    clear text (model validation and form fields), not a column size."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(MaxLengthValidator(self.max_length))

    def from_db_value(self, value, expression, connection):
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        # always encrypted, even text that looks like a stored value (a secret may start "enc1:")
        return crypto.encrypt(super().get_prep_value(value))


class EncryptedJSONField(EncryptedTextField):
    """JSON (encoded with DjangoJSONEncoder), then encrypted as text. The attribute is the decoded
    value (a dict for Revision.snapshot)."""

    def __init__(self, *args, encoder=DjangoJSONEncoder, **kwargs):
        self.encoder = encoder
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.encoder is not DjangoJSONEncoder:
            kwargs["encoder"] = self.encoder
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        text = crypto.decrypt(value)
        return json.loads(text) if text else None

    def get_prep_value(self, value):
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, cls=self.encoder))

    def to_python(self, value):
        if isinstance(value, str):  # loaddata: the JSON text value_to_string wrote
            return json.loads(value) if value else None
        return value

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=self.encoder)

    def validate(self, value, model_instance):
        # validators see the JSON text; choices and blank checks as for a TextField
        super(models.TextField, self).validate(value, model_instance)
