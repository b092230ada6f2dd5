"""The form of one peer, user, friend or template: a :class:`DirectiveForm` with the section's
name, the templates it inherits from, its comment and a write-only secret."""

from __future__ import annotations

from functools import cached_property

from django import forms
from django.db.models.functions import Lower

from .. import policy
from ..effective import SectionContext, section_context
from ..exporter import endpoint_section
from ..iaxconf import Entry, Section, catalogue
from ..models import Endpoint
from ..services import with_current_secrets
from ..services.storage import inherited_kind
from ..widgets import KeepingSelect, OrderedChoices
from .base import KINDS, DirectiveForm, add_version_field, comment_lines


class EndpointForm(DirectiveForm):
    """Create/edit form for one peer, user, friend or template."""

    def __init__(
        self, *args, kind: str, host, endpoint: Endpoint | None = None, version: int = 0, **kwargs
    ) -> None:
        self.kind = kind
        self.host = host
        self.endpoint = endpoint
        self.section_kind = kind
        self.excluded = () if kind == "template" else ("type",)
        if endpoint is not None and "current" not in kwargs:
            kwargs["current"] = self.stored_section
        super().__init__(*args, **kwargs)
        self.fields["name"] = forms.CharField(
            help_text="Section name: letters, digits and - _ . (no spaces); unique on this host.",
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        )
        self.fields["bases"] = forms.CharField(
            label="Inherits from",
            required=False,
            widget=OrderedChoices(self.base_choices()),
            help_text="The templates this section copies its lines from, in order: a later one's line "
            "wins over an earlier one's, and the section's own lines win over all of them.",
        )
        self.fields["comment"] = forms.CharField(
            required=False,
            strip=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="Comment lines written above the section header.",
        )
        if "secret" in self.fields:
            self.fields["secret"] = forms.CharField(
                required=False,
                strip=False,
                # re-filled only in the answer to this user's own POST (a refused save), never on a GET
                widget=forms.PasswordInput(
                    render_value=self.is_bound, attrs={"autocomplete": "new-password"}
                ),
                help_text=("Leave blank to keep the current secret. " if self.current_secrets() else "")
                + catalogue()["secret"].help_text(self.directive_kind()),
            )
            self.fields["clear_secret"] = forms.BooleanField(
                required=False, label="Clear secret", help_text="Remove the secret line(s)."
            )
        if kind == "template" and "type" in self.fields:
            self.fields["type"].widget = KeepingSelect(
                choices=[("", "(none: set by the sections using it)"), *((k, k) for k in KINDS[:3])]
            )
        if self.current is not None and not self.is_bound:
            self.initial.update(
                name=self.current.name,
                bases=", ".join(self.current.bases),
                comment="\n".join(self.current.comments),
            )
            self.initial.pop("secret", None)
        if endpoint is not None:
            add_version_field(self, version)
        self.order_fields(["name", "bases", "comment"])
        self.finish_choices()

    def base_choices(self) -> list[tuple[str, str]]:
        """The host's templates (a section may also name a plain section; it is kept as written)."""
        found = Endpoint.objects.filter(host=self.host, is_template=True)
        if self.endpoint is not None:
            found = found.exclude(pk=self.endpoint.pk)
        return [(n, n) for n in found.order_by("position", "id").values_list("name", flat=True)]

    def directive_kind(self) -> str:
        return "friend" if self.kind == "template" else self.kind

    def leading_fields(self) -> list[str]:
        return ["name", "bases", "comment"]

    def skipped_on_initial(self) -> set[str]:
        return {"type"} if self.kind != "template" else set()

    def extra_rows(self, name: str) -> list[str]:
        return ["clear_secret"] if name == "secret" and "clear_secret" in self.fields else []

    def is_set(self, name: str) -> bool:
        if name == "secret" and self.current_secrets():
            return True
        return super().is_set(name)

    def current_secrets(self) -> list[str]:
        if self.current is None:
            return []
        return [e.value for e in self.current.entries if e.name.lower() == "secret"]

    def entry_values(self, name: str) -> list[str]:
        if name == "secret":  # one password box: what was typed is one secret, line breaks and all
            typed = str(self.raw("secret"))
            return [] if self.raw("clear_secret") or not typed else [typed]
        return self.values_of(name)

    def bases_list(self) -> list[str]:
        return [b.strip() for b in str(self.raw("bases")).split(",") if b.strip()]

    def section_name(self) -> str:
        return str(self.raw("name")).strip()

    def section_context(self) -> SectionContext:
        return section_context(self.host, self.bases_list(), endpoint=self.endpoint)

    @cached_property
    def stored_section(self) -> Section | None:
        """The endpoint as stored (its secrets included), read once."""
        return endpoint_section(self.endpoint) if self.endpoint is not None else None

    def _inherited_kind(self) -> str:
        names = [n.lower() for n in self.bases_list()]
        if not names:
            return ""
        key = tuple(names)
        cache = self.__dict__.setdefault("_kinds", {})
        if key not in cache:
            cache[key] = self._read_inherited_kind(names)
        return cache[key]

    def _read_inherited_kind(self, names: list[str]) -> str:
        found = Endpoint.objects.filter(host=self.host).annotate(lowered=Lower("name"))
        if self.endpoint is not None:
            found = found.exclude(pk=self.endpoint.pk)
        by_name = {e.name.lower(): e for e in found.filter(lowered__in=names)}
        return inherited_kind([by_name[n] for n in names if n in by_name])

    def to_section(self) -> Section:
        """What would be saved: the typed lines, the stored secret when none was typed (secrets are
        write-only) unless "Clear secret" is ticked, and type= when the bases do not give it."""
        entries = []
        if self.kind != "template" and self._inherited_kind() != self.kind:
            type_comments = []
            if self.current is not None:
                old = next((e for e in self.current.entries if e.name.lower() == "type"), None)
                type_comments = list(old.comments) if old else []
            entries.append(Entry(name="type", value=self.kind, comments=type_comments))
        entries.extend(self.directive_entries())
        entries.extend(self.other_entries())
        section = Section(
            name=self.section_name() or "new",
            entries=entries,
            is_template=self.kind == "template",
            bases=self.bases_list(),
            comments=comment_lines(str(self.raw("comment"))),
        )
        if self.raw("clear_secret"):
            return section
        return with_current_secrets(section, self.endpoint, stored=self.stored_section)

    def judge(self, section: Section) -> policy.Verdict:
        return policy.endpoint_verdict(self.host, section, endpoint=self.endpoint)

    def check_stored(self) -> None:
        self.show_findings(policy.endpoint_verdict(self.host, self.current, endpoint=self.endpoint).findings)
