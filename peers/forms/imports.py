"""The form of an iax.conf import (the file and the files it includes)."""

from __future__ import annotations

from django import forms

from .uploads import MultipleFileField, _size


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
        files = ([data["conf"]] if data.get("conf") else []) + list(data.get("includes") or [])
        for upload in files:
            if upload.size > self.MAX_FILE:
                raise forms.ValidationError(
                    f"{upload.name} is {_size(upload.size)}; an uploaded file may be at most {_size(self.MAX_FILE)}"
                )
        if sum(upload.size for upload in files) > self.MAX_TOTAL:
            raise forms.ValidationError(f"the uploads add up to more than {_size(self.MAX_TOTAL)}")
        return data
