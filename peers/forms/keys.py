"""The forms of the RSA key pages: generate a key pair, upload one."""

from __future__ import annotations

from django import forms

from .. import keys as rsa_keys
from ..models import Key


def new_password_input() -> forms.PasswordInput:
    """A password box the browser does not fill in and the page never re-fills."""
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


def passphrase_fields(
    help_text: str, none_label: str, none_help: str
) -> tuple[forms.CharField, forms.CharField, forms.BooleanField]:
    """``passphrase``, ``passphrase2`` and ``no_passphrase``: the passphrase new private keys are
    encrypted with, typed twice, or the deliberate choice of none (see :func:`check_new_passphrase`)."""
    return (
        forms.CharField(required=False, strip=False, widget=new_password_input(), help_text=help_text),
        forms.CharField(required=False, strip=False, label="Passphrase again", widget=new_password_input()),
        forms.BooleanField(required=False, label=none_label, help_text=none_help),
    )


def check_new_passphrase(form: forms.Form, cleaned: dict, what: str) -> None:
    """The fields of :func:`passphrase_fields`: a passphrase of 8 characters or more typed the same
    twice, or none ticked, not both. ``what`` is what would be stored unencrypted."""
    passphrase = cleaned.get("passphrase") or ""
    if cleaned.get("no_passphrase"):
        if passphrase:
            form.add_error("passphrase", "either type a passphrase or tick 'without a passphrase', not both")
    elif not passphrase:
        form.add_error(
            "passphrase", f"type a passphrase, or tick 'without a passphrase' to store {what} unencrypted"
        )
    elif len(passphrase) < 8:
        form.add_error("passphrase", "use at least 8 characters")
    elif passphrase != cleaned.get("passphrase2"):
        form.add_error("passphrase2", "the two passphrases differ")


class KeyNameMixin:
    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        try:
            rsa_keys.check_name(name)
        except rsa_keys.KeyProblem as exc:
            raise forms.ValidationError(exc.message) from None
        existing = Key.objects.filter(name=name).first()
        if existing is not None and (existing.public_pem or not self.fills_placeholder):
            raise forms.ValidationError(f"a key named {name} exists already")
        return name


class KeyGenerateForm(KeyNameMixin, forms.Form):
    fills_placeholder = True
    name = forms.CharField(
        max_length=64, help_text="chan_iax2 refers to it by this name (without .pub/.key)."
    )
    passphrase, passphrase2, no_passphrase = passphrase_fields(
        "Encrypts the private key; Asterisk asks for it at 'keys init'.",
        "Store the private key without a passphrase",
        "Warning: anyone who reads the key file (a backup, the key directory) can sign as this "
        "server. Only for hosts that must load the key unattended.",
    )

    def clean(self):
        cleaned = super().clean()
        check_new_passphrase(self, cleaned, "the key")
        return cleaned


class KeyUploadForm(KeyNameMixin, forms.Form):
    fills_placeholder = True
    name = forms.CharField(
        max_length=64, help_text="chan_iax2 refers to it by this name (without .pub/.key)."
    )
    public_file = forms.FileField(label="Public key (.pub)", help_text="PEM 'PUBLIC KEY', 1024-bit RSA.")
    private_file = forms.FileField(
        label="Private key (.key)", required=False, help_text="Only when this server signs with the key."
    )
    passphrase = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The private key's passphrase, when it has one (used to check it, never stored).",
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            public = cleaned["public_file"].read().decode("ascii")
            private = cleaned["private_file"].read().decode("ascii") if cleaned.get("private_file") else ""
        except UnicodeDecodeError:
            raise forms.ValidationError("a key file is not PEM text") from None
        try:
            self.material = rsa_keys.read(public, private, cleaned.get("passphrase") or None)
        except rsa_keys.KeyProblem as exc:
            target = {"public_pem": "public_file", "private_pem": "private_file", "name": "name"}
            self.add_error(target.get(exc.field), exc.message)
        return cleaned
