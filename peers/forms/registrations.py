"""The forms of the rows of [general] edited on their own pages: register lines and
[callnumberlimits] entries."""

from __future__ import annotations

from django import forms

from .. import policy
from ..iaxconf import Finding
from ..models import Key
from ..services import KEEP
from ..services.config import registration_line
from .base import FindingsMixin, InlineMixin, add_version_field, comment_lines
from .keys import new_password_input


class RegistrationForm(FindingsMixin, InlineMixin, forms.Form):
    username = forms.CharField()
    secret = forms.CharField(
        required=False,
        strip=False,
        widget=new_password_input(),
        help_text="Leave blank to keep the current secret (or to authenticate with a key).",
    )
    clear_secret = forms.BooleanField(required=False, label="Clear secret")
    key = forms.ChoiceField(required=False, help_text="Sign the registration with this RSA key instead.")
    remote_host = forms.CharField(label="Server", help_text="Host name or IPv4 address.")
    remote_port = forms.IntegerField(required=False, min_value=1, max_value=65535, label="Port")
    comment = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 1}))

    def __init__(self, *args, registration=None, version: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.registration = registration
        self.field_warnings: dict[str, list[str]] = {}
        self.findings: list[Finding] = []
        self.fields["key"].choices = [("", "(none)")] + [
            (n, n) for n in Key.objects.order_by("name").values_list("name", flat=True)
        ]
        if registration is not None:
            add_version_field(self, version)
            if not self.is_bound:
                self.initial.update(
                    username=registration.username,
                    key=registration.key.name if registration.key_id else "",
                    remote_host=registration.remote_host,
                    remote_port=registration.remote_port,
                    comment=registration.comment,
                )
        if registration is None or not registration.secret:  # nothing to keep or to clear
            del self.fields["clear_secret"]
            self.fields["secret"].help_text = "Leave blank to register without one (or with a key)."

    def clean_remote_host(self) -> str:
        """The server field holds the host only: the port has its own field. ``host:port`` here
        is refused (it would be stored as a host name, or make ``host:port:port`` with the Port
        field); chan_iax2 cannot register to an IPv6 literal either."""
        server = self.cleaned_data["remote_host"].strip()
        host, colon, port = server.rpartition(":")
        if colon and server.count(":") == 1 and port.isdigit():
            raise forms.ValidationError(
                f"'{server}' includes a port: type {host} here and {port} in the Port field"
            )
        if colon:
            raise forms.ValidationError(
                f"'{server}' contains ':'; type a host name or IPv4 address here and the port in the Port "
                "field (chan_iax2 cannot register to an IPv6 address)"
            )
        return server

    def secret_value(self):
        """What the service is to do with the secret: KEEP, "" (clear) or the typed one."""
        data = self.cleaned_data
        if data.get("clear_secret") or data.get("key"):
            return ""
        if data.get("secret"):
            return data["secret"]
        return KEEP if self.registration is not None else ""

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("key") and cleaned.get("secret"):
            self.add_error("secret", "give a secret or a key, not both")
            return cleaned
        secret = self.secret_value()
        if secret is KEEP:
            secret = self.registration.secret
        line = registration_line(
            cleaned.get("username", ""),
            secret,
            cleaned.get("key") or None,
            cleaned.get("remote_host", ""),
            cleaned.get("remote_port"),
        )
        self.apply_verdict(policy.registration_verdict(line, comment_lines(cleaned.get("comment", ""))))
        return cleaned

    def field_for(self, finding: Finding) -> str | None:
        return finding.part if finding.part in self.fields else None


class CallNumberLimitForm(FindingsMixin, InlineMixin, forms.Form):
    network = forms.CharField(help_text="address[/mask], for example 203.0.113.0/24.")
    # a CharField: the policy judges the number with the network, so both errors come at once
    limit = forms.CharField(
        widget=forms.NumberInput(attrs={"min": 0, "step": 1}),
        help_text="Call numbers allowed per address in that range.",
    )
    comment = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 1}))

    def __init__(self, *args, limit=None, version: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.field_warnings: dict[str, list[str]] = {}
        self.findings: list[Finding] = []
        if limit is not None:
            add_version_field(self, version)
            if not self.is_bound:
                self.initial.update(network=limit.network, limit=limit.limit, comment=limit.comment)

    def clean(self):
        cleaned = super().clean()
        if "network" in cleaned and "limit" in cleaned:
            verdict = policy.limit_verdict(
                cleaned["network"], cleaned["limit"], comment_lines(cleaned.get("comment", ""))
            )
            self.apply_verdict(verdict)
        return cleaned

    def field_for(self, finding: Finding) -> str | None:
        return finding.part if finding.part in self.fields else None
