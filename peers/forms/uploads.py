"""Uploads of several files at once, and the sizes they may have."""

from __future__ import annotations

from django import forms


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


def _size(number: int) -> str:
    return f"{number / 1048576:.1f} MB" if number >= 1048576 else f"{max(1, round(number / 1024))} KB"


def check_sizes(files, max_file: int, max_total: int) -> None:
    """Refuses an upload of which one file is larger than ``max_file`` bytes, or all together
    larger than ``max_total``."""
    for upload in files:
        if upload.size > max_file:
            raise forms.ValidationError(
                f"{upload.name} is {_size(upload.size)}; an uploaded file may be at most {_size(max_file)}"
            )
    if sum(upload.size for upload in files) > max_total:
        raise forms.ValidationError(f"the uploads add up to more than {_size(max_total)}")


def uploaded(data: dict, main: str) -> list:
    """The files of an upload form: the one in field ``main`` (when given), then the ``includes``."""
    return ([data[main]] if data.get(main) else []) + list(data.get("includes") or [])
