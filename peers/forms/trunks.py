"""The trunk wizard's forms: what the admin is asked once about the far end. They turn the answers
into ``peers.iaxconf.trunks`` ends and options; what to write, and every rule about it, is the
domain's (``trunks.check``) and the section policy's, applied by ``peers.services.trunks``."""

from __future__ import annotations

import re

from django import forms

from ..iaxconf import trunks
from ..models import Host, Key
from .keys import check_new_passphrase, passphrase_fields

REGISTRATION_CHOICES = {
    "far": [
        ("local", "This host registers with the far end (this host's address may change)"),
        ("far", "The far end registers with this host (the far end's address may change)"),
        ("none", "Neither: both have fixed addresses"),
    ],
    "managed": [
        ("both", "Each host registers with the other"),
        ("local", "This host registers with the other host"),
        ("far", "The other host registers with this one"),
        ("none", "Neither: both have fixed addresses"),
    ],
}
AUTH_CHOICES = [("secret", "Shared secret (md5)"), ("rsa", "RSA keys")]


def codec_names(text: str) -> tuple[str, ...]:
    """'ulaw, alaw g722' -> ('ulaw', 'alaw', 'g722'): the order is the preference order."""
    return tuple(name for name in re.split(r"[\s,]+", text.strip()) if name)


def _optional(label: str, help_text: str, max_length: int = 79) -> forms.CharField:
    """A text field that may stay empty."""
    return forms.CharField(label=label, required=False, max_length=max_length, help_text=help_text)


def _port(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=1, max_value=65535, help_text="Empty: 4569."
    )


def _key_choices(keys) -> list[tuple[str, str]]:
    return [("", "(choose)")] + [(k.name, k.name) for k in keys]


class TrunkBaseForm(forms.Form):
    """Fields both wizards share: addresses, registration, codecs, trunking, encryption."""

    far_address = _optional(
        "Far end's address",
        "Host name or IPv4 address this host calls (no port here). Leave empty only when the far "
        "end registers with this host.",
        max_length=253,
    )
    far_port = _port("Far end's port")
    codecs = forms.CharField(
        initial="ulaw, alaw", help_text="In order of preference, separated by commas (IAX2 codecs only)."
    )
    trunk = forms.BooleanField(
        required=False,
        initial=True,
        label="IAX2 trunking",
        help_text="Carry the media of several calls in one packet stream (needs a timing module).",
    )
    encryption = forms.BooleanField(
        required=False,
        label="Encrypt calls (AES-128)",
        help_text="Needs a shared secret: IAX2 derives the key from it.",
    )

    mode = "far"

    def __init__(self, *args, host: Host, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.host = host
        self.fields["registration"] = forms.ChoiceField(
            choices=REGISTRATION_CHOICES[self.mode],
            initial="local" if self.mode == "far" else "both",
            help_text="A server whose address may change registers, so the other end learns where it is.",
        )
        self.order_fields([name for _, names in self.groups_of for name in names])

    def options(self) -> trunks.Options:
        data = self.cleaned_data
        return trunks.Options(
            codecs=codec_names(data["codecs"]), trunk=data["trunk"], encryption=data["encryption"]
        )

    def clean_far_address(self) -> str | None:
        return self.cleaned_data["far_address"].strip() or None

    # the fields in titled groups, in the page's order (every field in exactly one)
    groups_of: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def groups(self) -> list[dict]:
        """The fields in titled groups, for the page (every field in exactly one)."""
        return [{"title": title, "fields": [self[name] for name in names]} for title, names in self.groups_of]

    def put_refusal(self, exc) -> None:
        """A refusal of the service: at its field when it names one of this form's, else on top."""
        field = getattr(exc, "field", None)
        if field in self.fields:
            for finding in exc.findings:
                self.add_error(field, finding.message)
        else:
            self.add_error(None, exc.message)


class TrunkForm(TrunkBaseForm):
    """A trunk to a server that is not managed here (a provider, another company's PBX)."""

    local_account = forms.CharField(
        label="Username",
        max_length=79,
        help_text="The account this host has at the far end: sent when it calls or registers there.",
    )
    auth = forms.ChoiceField(choices=AUTH_CHOICES, initial="secret", label="Authentication")
    secret = forms.CharField(
        required=False,
        strip=False,
        max_length=79,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
        help_text="The far end's password for this account. Leave empty to generate a strong one (then reveal "
        "it on the new section to give it to the far end).",
    )
    outkey = forms.ChoiceField(
        required=False,
        label="Our private key",
        help_text="RSA: the key this host signs with (its private part).",
    )
    inkey = forms.ChoiceField(
        required=False, label="Far end's public key", help_text="RSA: checks the far end's calls."
    )
    local_section = _optional(
        "Trunk name",
        "The section the dialplan calls, as in Dial(IAX2/<trunk name>/…). Empty: the incoming "
        "username (one friend section).",
    )
    far_account = _optional(
        "Incoming username",
        "The username the far end sends when it calls this host. Empty: the same as Username.",
    )
    local_context = _optional(
        "Context for incoming calls",
        "Where calls from the far end go in the dialplan. Empty: from-<trunk name>.",
    )

    groups_of = (
        ("The far end", ("far_address", "far_port", "local_account", "registration")),
        ("Authentication", ("auth", "secret", "outkey", "inkey")),
        ("Media", ("codecs", "trunk", "encryption")),
        ("Names in this host's configuration (optional)", ("local_section", "far_account", "local_context")),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        keys = Key.objects.order_by("name")
        self.fields["outkey"].choices = _key_choices(keys.exclude(private_pem=""))
        self.fields["inkey"].choices = _key_choices(keys.exclude(public_pem=""))

    def ends(self) -> tuple[trunks.End, trunks.End, trunks.Credentials]:
        data = self.cleaned_data
        registration = data["registration"]
        far_account = data["far_account"].strip() or data["local_account"].strip()
        section = data["local_section"].strip() or None
        context = data["local_context"].strip() or f"from-{section or far_account}"
        local = trunks.End(
            data["local_account"].strip(),
            registers=registration == "local",
            section=section,
            context=context,
            label=self.host.name,
        )
        far = trunks.End(
            far_account,
            address=data["far_address"],
            port=data["far_port"],
            registers=registration == "far",
            label=data["far_address"] or "the far end",
        )
        if data["auth"] == "rsa":
            credentials = trunks.Credentials(outkey=data["outkey"] or None, inkey=data["inkey"] or None)
        else:  # an empty secret: the service generates one
            credentials = trunks.Credentials(secret=data["secret"])
        return local, far, credentials

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("auth") == "rsa" and cleaned.get("secret"):
            self.add_error("secret", "give a secret or choose keys, not both")
        return cleaned


class TrunkPairForm(TrunkBaseForm):
    """A trunk between this host and another host managed here: both ends written at once."""

    mode = "managed"

    far_host = forms.ModelChoiceField(
        queryset=Host.objects.none(),
        label="Other host",
        to_field_name="name",
        help_text="Its side of the trunk is written at the same time.",
    )
    local_address = _optional(
        "This host's address",
        "Where the other host reaches this one (no port here). Leave empty only when this host "
        "registers with the other.",
        max_length=253,
    )
    local_port = _port("This host's port")
    auth = forms.ChoiceField(
        choices=[("secret", "A generated shared secret (md5)"), ("rsa", "New RSA key pairs")],
        initial="secret",
        label="Authentication",
        help_text="Either way both ends match by construction; nothing needs to be typed twice.",
    )
    key_local = _optional(
        "Key this host signs with",
        "RSA: a new key pair; its public key goes to the other host. Empty: <this host>-trunk.",
        max_length=64,
    )
    key_far = _optional(
        "Key the other host signs with",
        "RSA: a new key pair; its public key goes to this host. Empty: <other host>-trunk.",
        max_length=64,
    )
    passphrase, passphrase2, no_passphrase = passphrase_fields(
        "RSA: encrypts both private keys; each Asterisk asks for it at 'keys init'.",
        "Store the private keys without a passphrase",
        "Anyone who reads a key file can then sign as that host; only for hosts that must load "
        "their key unattended.",
    )
    local_account = _optional(
        "This host's account", "The name the other host knows this one by. Empty: this host's name."
    )
    far_account = _optional(
        "Other host's account", "The name this host knows the other by. Empty: the other host's name."
    )
    local_context = _optional("Context here for its calls", "Empty: from-<other host's account>.")
    far_context = _optional("Context there for our calls", "Empty: from-<this host's account>.")

    groups_of = (
        ("The other host", ("far_host", "registration", "far_address", "far_port")),
        ("This host", ("local_address", "local_port")),
        ("Authentication", ("auth", "key_local", "key_far", "passphrase", "passphrase2", "no_passphrase")),
        ("Media", ("codecs", "trunk", "encryption")),
        ("Names (optional)", ("local_account", "far_account", "local_context", "far_context")),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["far_host"].queryset = Host.objects.exclude(pk=self.host.pk).order_by("name")
        self.fields["far_address"].label = "Other host's address"
        self.fields["far_address"].help_text = (
            "Where this host reaches the other one (no port here). Leave empty only when the other host "
            "registers with this one."
        )
        self.fields["far_port"].label = "Other host's port"

    def clean_local_address(self) -> str | None:
        return self.cleaned_data["local_address"].strip() or None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("auth") == "rsa":
            check_new_passphrase(self, cleaned, "the keys")
        return cleaned

    def ends(self) -> tuple[Host, trunks.End, trunks.End]:
        data = self.cleaned_data
        other: Host = data["far_host"]
        registration = data["registration"]
        local_account = data["local_account"].strip() or self.host.name
        far_account = data["far_account"].strip() or other.name
        local = trunks.End(
            local_account,
            address=data["local_address"],
            port=data["local_port"],
            registers=registration in ("both", "local"),
            context=data["local_context"].strip() or f"from-{far_account}",
            label=self.host.name,
        )
        far = trunks.End(
            far_account,
            address=data["far_address"],
            port=data["far_port"],
            registers=registration in ("both", "far"),
            context=data["far_context"].strip() or f"from-{local_account}",
            label=other.name,
        )
        return other, local, far

    def key_names(self) -> tuple[str, str]:
        data = self.cleaned_data
        return (
            data["key_local"].strip() or f"{self.host.name}-trunk",
            data["key_far"].strip() or f"{data['far_host'].name}-trunk",
        )
