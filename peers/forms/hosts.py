"""Forms of the host screens: create a host, change its description, confirm its deletion. They
only collect what was typed: the rules (a slug, a free name, a safe description) are the service
layer's (``peers.services.hosts``), whose refusals the views put at these fields."""

from __future__ import annotations

from django import forms

from .base import add_version_field


class HostCreateForm(forms.Form):
    name = forms.SlugField(
        max_length=63,
        help_text="Short name of the Asterisk server: letters, digits, - and _. It names the host in "
        "URLs, exports and the agent's token, and cannot be changed later.",
    )
    description = forms.CharField(
        max_length=200, required=False, help_text="What the server is, for people (optional)."
    )


class HostEditForm(forms.Form):
    description = forms.CharField(max_length=200, required=False, help_text="What the server is, for people.")

    def __init__(self, *args, version: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        add_version_field(self, version)


class HostDeleteForm(forms.Form):
    confirm = forms.CharField(
        label="Type the host's name to confirm", help_text="Deleting cannot be undone from this page."
    )

    def __init__(self, *args, host, version: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.host = host
        self.fields["confirm"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        add_version_field(self, version)

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != self.host.name:
            raise forms.ValidationError(
                f"type {self.host.name} exactly to delete this host (you typed {typed!r})"
            )
        return typed
