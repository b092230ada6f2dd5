"""The form of an iax.conf import (the file and the files it includes)."""

from __future__ import annotations

from django import forms

from .uploads import MultipleFileField, check_sizes, uploaded


class ImportForm(forms.Form):
    host = forms.SlugField(
        max_length=63, label="Host name", help_text="A new host, or an existing one to replace."
    )
    replace = forms.BooleanField(
        required=False,
        label="Replace the existing configuration",
        help_text="Needed when the host exists: its endpoints, [general], registrations and limits are "
        "replaced by the file's.",
    )
    conf = forms.FileField(label="iax.conf")
    includes = MultipleFileField(
        required=False,
        label="Included files",
        help_text="The files its #include lines name (optional; several may be chosen).",
    )

    MAX_FILE = 8 * 1024 * 1024  # a 10,000-peer iax.conf is about 2 MB
    MAX_TOTAL = 16 * 1024 * 1024

    def clean(self):
        data = super().clean()
        check_sizes(uploaded(data, "conf"), self.MAX_FILE, self.MAX_TOTAL)
        return data
