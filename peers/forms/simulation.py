"""The forms of the simulator's pages (a call, a registration) and of the dialplan upload. A
simulation form writes nothing: its ``request`` is the ``Call`` or ``Registration`` to simulate,
and a parameter the simulator cannot use is an error at its field."""

from __future__ import annotations

from django import forms

from ..iaxconf.simulate import Call, Registration, SimulationError, check
from .uploads import MultipleFileField, check_sizes, uploaded

METHODS = [("md5", "md5"), ("plaintext", "plaintext"), ("rsa", "rsa")]
FIELD_OF = {"address": "address", "auth": "auth", "codecs": "codecs"}


def _words(value: str) -> tuple[str, ...] | None:
    return tuple(w.strip() for w in value.replace("|", ",").split(",") if w.strip()) or None


class _Simulation(forms.Form):
    address = forms.CharField(
        max_length=64,
        label="From address",
        help_text="The caller's IP as this host sees it: ip, ip:port or [ipv6]:port (port 4569 when not given).",
    )
    secret = forms.CharField(
        required=False,
        max_length=255,
        widget=forms.PasswordInput(render_value=False),
        help_text="The secret it uses. Never stored, logged or shown again.",
    )
    key = forms.CharField(
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"list": "sim-keys"}),
        help_text="The RSA key pair it signs with, by name.",
    )
    auth = forms.MultipleChoiceField(
        choices=METHODS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Auth methods it implements",
        help_text="None ticked: every method it has credentials for, as an Asterisk caller does.",
    )
    calltoken = forms.BooleanField(
        required=False, initial=True, label="Supports call tokens (Asterisk 1.6 or later)"
    )

    request: Call | Registration | None = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("secret") and data.get("key"):
            self.add_error("key", "give a secret or a key, not both")
            return data
        try:
            request = self.build(data)
            check(request)
            self.request = request
        except SimulationError as exc:
            self.add_error(FIELD_OF.get(exc.field, None), f"{exc.value!r} {exc.message}")
        return data


class CallForm(_Simulation):
    username = forms.CharField(
        required=False,
        max_length=79,
        widget=forms.TextInput(attrs={"list": "sim-users"}),
        help_text="The username it sends. Empty: none, and Asterisk ranks the users that admit it.",
    )
    context = forms.CharField(
        required=False, max_length=79, help_text="The context it asks for (empty: none)."
    )
    exten = forms.CharField(required=False, max_length=79, label="Extension", help_text="Empty: s.")
    codecs = forms.CharField(
        required=False,
        max_length=200,
        help_text="The codecs it offers, preferred first (ulaw,gsm). Empty: any.",
    )
    encryption = forms.BooleanField(required=False, label="Offers AES-128 encryption")

    field_order = [
        "address",
        "username",
        "secret",
        "key",
        "auth",
        "context",
        "exten",
        "codecs",
        "calltoken",
        "encryption",
    ]

    def build(self, data) -> Call:
        return Call(
            data["address"],
            username=data["username"] or None,
            secret=data["secret"] or None,
            key=data["key"] or None,
            auth=tuple(data["auth"]) or None,
            context=data["context"] or None,
            exten=data["exten"] or None,
            calltoken=data["calltoken"],
            codecs=_words(data["codecs"]),
            encryption=data["encryption"],
        )


class RegistrationForm(_Simulation):
    peer = forms.CharField(
        max_length=79,
        label="Peer",
        widget=forms.TextInput(attrs={"list": "sim-peers"}),
        help_text="The peer name it registers as.",
    )

    field_order = ["peer", "address", "secret", "key", "auth", "calltoken"]

    def build(self, data) -> Registration:
        return Registration(
            data["peer"],
            data["address"],
            secret=data["secret"] or None,
            key=data["key"] or None,
            auth=tuple(data["auth"]) or None,
            calltoken=data["calltoken"],
        )


class DialplanUploadForm(forms.Form):
    extensions = forms.FileField(label="extensions.conf")
    includes = MultipleFileField(
        required=False,
        label="Included files",
        help_text="The files its #include lines name (optional; several may be chosen). Only context headers "
        "are kept.",
    )

    MAX_FILE = 8 * 1024 * 1024
    MAX_TOTAL = 16 * 1024 * 1024

    def clean(self):
        data = super().clean()
        check_sizes(uploaded(data, "extensions"), self.MAX_FILE, self.MAX_TOTAL)
        return data
