"""Forms for the browser UI. Each editing form turns what was typed into an iaxconf Section (or the
fields of a row) and asks the section policy (``peers.policy``) what a save would give; the form only
puts each finding at its field. The same policy is applied again by the service layer when the view
saves, and by the JSON API: a save is refused the same way, with the same finding codes, wherever it
comes from. No form adds a rule of its own: its inputs (``peers.widgets``, chosen by each value
rule through ``catalogue.input_for``) only make values quick to enter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django import forms
from django.db.models.functions import Lower

from . import keys as rsa_keys
from . import policy
from .effective import SectionContext, section_context
from .exporter import endpoint_section, general_section
from .iaxconf import Document, Entry, Finding, Section, catalogue, render
from .iaxconf import values as v
from .iaxconf.catalogue import AUTH, BOOL, CHOICE, CODECS, GROUPS, KEY, KEYS, NUMBER
from .iaxconf.effective import INHERITED, Effective
from .iaxconf.mask import mask_document
from .models import Endpoint, Key
from .services import KEEP, with_current_secrets
from .services.config import registration_line
from .services.storage import inherited_kind
from .widgets import Checklist, KeepingSelect, NumberOrText, OrderedChoices, OrderedPairs

KINDS = ("peer", "user", "friend", "template")
OTHER = "other_lines"
# Findings about a whole section (or a line the form has no field for), and the field they belong to.
PART_FIELDS = {"name": "name", "bases": "bases", "comment": "comment"}
CODE_FIELDS = {"unknown-directive": OTHER, "foreign-directive": OTHER, "removed-directive": OTHER}
# Directives whose lines interleave and must keep their order (codec preference, last-match-wins
# ACL): each pair is edited in one ordered list of name=value lines, under the first name.
PAIRED = {"disallow": "allow", "deny": "permit"}
PAIR_HELP = {
    "allow": "One rule per line, in order: allow or disallow a codec. Usually disallow all first, then "
    "the codecs you want in preference order.",
    "permit": "One rule per line, in order (the last match wins): deny or permit address/mask. Usually "
    "deny 0.0.0.0/0.0.0.0 first, then what to permit.",
}
# Shown on a new section's form before anything is set (everything else is one search away).
STARTERS = {
    "peer": ("host", "username", "secret", "context", "allow"),
    "user": ("secret", "context", "allow"),
    "friend": ("host", "secret", "context", "allow"),
    "template": (),
    "general": (),
}


def lines_of(text: str | None) -> list[str]:
    """The non-blank lines of a textarea, stripped, in order. Lines end at a newline only (as
    Asterisk reads them): a U+2028 typed in a value stays in it, for the policy to refuse."""
    return [line.strip() for line in (text or "").replace("\r\n", "\n").split("\n") if line.strip()]


def comment_lines(text: str) -> list[str]:
    """A comment textarea as comment lines (CRLF as the browser sends it, or LF)."""
    return text.replace("\r\n", "\n").split("\n") if text else []


@dataclass
class Row:
    """One field as the templates show it: the bound field, the warnings found for it, and (for a
    directive) where its value comes from: set here, inherited from a template, or the default."""

    bound: forms.BoundField
    warnings: list[str] = field(default_factory=list)
    effective: Effective | None = None
    inherited_lines: list[tuple[str, object]] = field(default_factory=list)  # pairs: (name, Line)
    origin_id: int | None = None  # the template the value in force comes from
    suggestions: tuple[str, ...] = ()
    default_value: str | None = None

    @property
    def name(self) -> str:
        return self.bound.name

    @property
    def id(self) -> str:
        return self.bound.auto_id or f"id_{self.name}"

    @property
    def composite(self) -> bool:
        return bool(getattr(self.bound.field.widget, "use_fieldset", False))

    @property
    def describedby(self) -> str:
        return describedby(self.bound)

    @property
    def source(self) -> str:
        return self.effective.source if self.effective is not None else ""


def describedby(bound: forms.BoundField) -> str:
    """The ids a field's input points at: its messages, its effective-value line and its help
    (each always rendered by form_parts.html#field-row, so no reference is ever broken)."""
    base = bound.auto_id or f"id_{bound.name}"
    ids = [f"{base}_messages", f"{base}_state"]
    if bound.help_text:
        ids.append(f"{base}_helptext")
    return " ".join(ids)


def add_version_field(form: forms.Form, version: int | None) -> None:
    """The hidden ``version`` of optimistic locking: the object's version when the form was loaded
    (``peers.services.version_of``). A bound form takes it from the posted data."""
    form.fields["version"] = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    if not form.is_bound:
        form.initial["version"] = version or 0


class InlineMixin:
    """Checks the whole form on the server whenever a field changes: the field
    posts the form to an explicit URL with ?field=, and the answer updates every field's messages
    out of band (form_parts.html#messages), so an error about two fields clears at both as soon as
    either is fixed. No input is ever swapped: what is typed, the focus and the caret stay."""

    def enable_inline(self, validate_url: str) -> None:
        join = "&" if "?" in validate_url else "?"
        for name, form_field in self.fields.items():
            widget = form_field.widget
            if isinstance(widget, forms.HiddenInput | forms.FileInput):
                continue
            widget.attrs["aria-describedby"] = describedby(self[name])
            if isinstance(widget, forms.PasswordInput):
                continue  # a secret is never posted to the check URL on its own accord
            typed = isinstance(widget, forms.TextInput | forms.Textarea) and not getattr(
                widget, "use_fieldset", False
            )
            widget.attrs.update(
                {
                    "hx-post": f"{validate_url}{join}field={name}",
                    "hx-swap": "none",
                    # checked while typing (after a pause) and when the field is left
                    "hx-trigger": "input changed delay:500ms, change" if typed else "change",
                    "hx-sync": "this:replace",
                }
            )


class FindingsMixin:
    """Puts a policy verdict on the form: the errors a save would bring in at their fields (so
    the save is refused), every other finding shown with its field."""

    def field_for(self, finding: Finding) -> str | None:  # pragma: no cover - subclasses
        raise NotImplementedError

    def apply_verdict(self, verdict: policy.Verdict) -> None:
        self.findings = verdict.findings
        for finding in verdict.introduced:
            name = self.field_for(finding)
            if name is None or name not in self.fields:
                if finding.message not in self.non_field_errors():
                    self.add_error(None, finding.message)
            elif finding.message not in self.errors.get(name, []):
                self.add_error(name, finding.message)
        for finding in verdict.findings:
            if finding in verdict.introduced:
                continue
            text = f"{finding.severity}: {finding.message}" if finding.is_error else finding.message
            self.field_warnings.setdefault(self.field_for(finding) or "", []).append(text)

    def show_findings(self, findings: list[Finding]) -> None:
        """Findings of the stored object, shown before any edit (none of them is the user's doing)."""
        self.findings = findings
        for finding in findings:
            self.field_warnings.setdefault(self.field_for(finding) or "", []).append(
                f"{finding.severity}: {finding.message}"
            )

    @property
    def general_warnings(self) -> list[str]:
        return self.field_warnings.get("", [])

    def rows(self) -> list[Row]:
        """Every visible field, for the out-of-band messages of an inline check."""
        return [self.row(name) for name, f in self.fields.items() if not f.widget.is_hidden]

    def row(self, name: str) -> Row:
        return Row(self[name], self.field_warnings.get(name, []))

    def first_error(self) -> str | None:
        return next((name for name in self.fields if name in self.errors), None)

    def status(self, name: str) -> str:
        """One sentence for the page's live region after an inline check of ``name``."""
        label = self[name].label if name in self.fields else name
        mine = self.errors.get(name, [])
        if mine:
            return f"{label}: {mine[0]}"
        others = sum(len(e) for n, e in self.errors.items() if n != name)
        if others:
            return f"{label}: no problem. {others} problem(s) left in this form."
        return f"{label}: no problem."


class DirectiveForm(FindingsMixin, InlineMixin, forms.Form):
    """Fields for the directives a section kind reads, each with the input its value rule calls
    for; an "other lines" box keeps every line the form has no field for (so nothing is lost on
    save). Every value is judged by the section policy in ``clean()``, nowhere else.

    The page shows the directives set in the section first, then the ones it inherits, then a
    search over every other directive (grouped as the catalogue groups them, with its help)."""

    section_kind = "general"
    excluded: tuple[str, ...] = ()

    def __init__(self, *args, current: Section | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.current = current
        self.directives = [
            d for d in catalogue().for_section(self.directive_kind()) if d.name not in self.excluded
        ]
        self.directive_names = {d.name for d in self.directives}
        self.field_warnings: dict[str, list[str]] = {}
        self.findings: list[Finding] = []
        self.verdict: policy.Verdict | None = None
        # the stored values as the form shows them (a bound form keeps a value written as it was
        # when the same choice is posted back: "rsa,md5" stays "rsa,md5")
        self.stored = self.initial_from(current) if current is not None else {}
        if current is not None and not self.is_bound:
            self.initial.update(self.stored)
        self._key_names: list[str] | None = None
        for directive in self.directives:
            if directive.name not in PAIRED:
                self.fields[directive.name] = self.directive_field(directive)
        self.fields[OTHER] = forms.CharField(
            label="Other lines",
            required=False,
            widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            help_text="name=value, one per line: lines this form has no field for. They are validated "
            "like the rest and an unknown name is refused.",
        )

    def directive_kind(self) -> str:
        return self.section_kind

    def is_pair(self, name: str) -> bool:
        return name in PAIR_HELP and any(PAIRED.get(d) == name for d in self.directive_names)

    def key_names(self) -> list[str]:
        if self._key_names is None:
            self._key_names = list(Key.objects.order_by("name").values_list("name", flat=True))
        return self._key_names

    def directive_field(self, directive) -> forms.Field:
        """The field for one directive, with the input ``catalogue.input_for`` says its rule calls
        for. Always a CharField: the policy judges the value, the input only offers it."""
        kind = self.directive_kind()
        help_text = directive.help_text(kind)
        spec = directive.input
        name = directive.name
        if self.is_pair(name):
            partner = next(d for d, primary in PAIRED.items() if primary == name)
            values = spec.choices if spec.kind == CODECS else None
            return forms.CharField(
                label=f"{name} / {partner}",
                required=False,
                strip=False,
                widget=OrderedPairs((name, partner), values),
                help_text=PAIR_HELP[name] + " " + help_text,
            )
        current = str(self.stored.get(name, "") or "")
        if spec.kind in (BOOL, CHOICE):
            widget = KeepingSelect(choices=[("", "not set"), *((c, c) for c in spec.choices)])
        elif spec.kind == NUMBER:
            attrs = {"step": 1, "inputmode": "numeric"}
            if spec.minimum is not None:
                attrs["min"] = spec.minimum
            if spec.maximum is not None:
                attrs["max"] = spec.maximum
            widget = NumberOrText(attrs=attrs)
            if spec.minimum is not None or spec.maximum is not None:
                low = spec.minimum if spec.minimum is not None else "…"
                high = spec.maximum if spec.maximum is not None else "…"
                help_text = f"A whole number, {low} to {high}. {help_text}"
        elif spec.kind == KEY:
            widget = KeepingSelect(choices=[("", "not set"), *((n, n) for n in self.key_names())])
        elif spec.kind == KEYS:
            widget = Checklist([(n, n) for n in self.key_names()], separator=":", current=current)
        elif spec.kind == AUTH:
            widget = Checklist([(c, c) for c in spec.choices], separator=",", current=current)
        elif directive.repeatable:
            help_text = "One value per line, in order. " + help_text
            widget = forms.Textarea(attrs={"rows": 2, "spellcheck": "false"})
        else:
            attrs = {"spellcheck": "false", "autocomplete": "off"}
            if spec.suggestions:
                attrs["list"] = f"id_{name}_suggestions"
            widget = forms.TextInput(attrs=attrs)
        return forms.CharField(label=name, required=False, widget=widget, help_text=help_text, strip=False)

    # -- from a Section to initial values, and back -----------------------------------------------

    def initial_from(self, section: Section) -> dict[str, str]:
        initial: dict[str, list[str]] = {}
        other: list[str] = []
        for entry in section.entries:
            name = entry.name.lower()
            if name in self.directive_names and name not in self.skipped_on_initial():
                key = PAIRED.get(name, name)
                if self.is_pair(key):
                    initial.setdefault(key, []).append(f"{name}={entry.value}")
                else:
                    initial.setdefault(name, []).append(entry.value)
            elif name not in self.skipped_on_initial():
                other.append(f"{entry.name}={entry.value}")
        result = {}
        for name, found in initial.items():
            directive = catalogue()[name]
            if directive.repeatable or self.is_pair(name):
                result[name] = "\n".join(found)
            else:
                result[name] = found[-1]
                other.extend(f"{name}={value}" for value in found[:-1])
        result[OTHER] = "\n".join(other)
        return result

    def skipped_on_initial(self) -> set[str]:
        return set(self.excluded)

    def raw(self, name: str):
        """A field's value: cleaned when it passed, else as posted (through its input), else the
        initial value (so a preview can be drawn from a half-typed form and an unbound form alike)."""
        cleaned = getattr(self, "cleaned_data", None) or {}
        if cleaned.get(name) is not None:
            return cleaned[name]
        if self.is_bound:
            if name in self.fields:
                value = self.fields[name].widget.value_from_datadict(
                    self.data, self.files, self.add_prefix(name)
                )
            else:
                value = self.data.get(self.add_prefix(name))
            return "" if value is None else value
        value = self.get_initial_for_field(self.fields[name], name) if name in self.fields else None
        return "" if value is None else value

    def pair_lines(self, name: str) -> list[tuple[str, str]]:
        """(directive, value) for each line of a paired field, in order; a bare value is the first name."""
        partner = next(d for d, primary in PAIRED.items() if primary == name)
        result = []
        for line in lines_of(str(self.raw(name))):
            key, sep, value = line.partition("=")
            if sep and key.strip().lower() in (name, partner):
                result.append((key.strip().lower(), value.strip()))
            else:
                result.append((name, line))
        return result

    def values_of(self, name: str) -> list[str]:
        raw = str(self.raw(name))
        if catalogue()[name].repeatable:
            return lines_of(raw)
        text = raw.strip()
        return [text] if text else []

    def other_entries(self) -> list[Entry]:
        entries = []
        for line in lines_of(str(self.raw(OTHER))):
            name, _, value = line.partition("=")
            entries.append(Entry(name=name.strip(), value=value.strip()))
        return entries

    def directive_entries(self) -> list[Entry]:
        """Entries for every directive field, keeping the comment lines of the current section's
        n-th line of a name on the new n-th line of that name."""
        comments: dict[tuple[str, int], list[str]] = {}
        if self.current is not None:
            counts: dict[str, int] = {}
            for entry in self.current.entries:
                name = entry.name.lower()
                index = counts.get(name, 0)
                counts[name] = index + 1
                if entry.comments:
                    comments[(name, index)] = list(entry.comments)
        entries = []
        for directive in self.directives:
            if directive.name in PAIRED:
                continue
            if self.is_pair(directive.name):
                seen: dict[str, int] = {}
                for name, value in self.pair_lines(directive.name):
                    index = seen.get(name, 0)
                    seen[name] = index + 1
                    entries.append(Entry(name=name, value=value, comments=comments.get((name, index), [])))
                continue
            for index, value in enumerate(self.entry_values(directive.name)):
                entries.append(
                    Entry(
                        name=directive.name, value=value, comments=comments.get((directive.name, index), [])
                    )
                )
        return entries

    def entry_values(self, name: str) -> list[str]:
        return self.values_of(name)

    # -- validation ------------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        for entry in self.other_entries():
            if not entry.name or not v.WORD_RE.fullmatch(entry.name):
                self.add_error(OTHER, f"'{entry.name}={entry.value}' is not a name=value line")
        self.verdict = self.judge(self.to_section())
        self.apply_verdict(self.verdict)
        return cleaned

    def judge(self, section: Section) -> policy.Verdict:  # pragma: no cover - subclasses
        raise NotImplementedError

    def check_stored(self) -> None:
        """For a form showing the stored section: its findings at their fields."""

    def field_for(self, finding: Finding) -> str | None:
        if finding.part in PART_FIELDS:
            return PART_FIELDS[finding.part]
        if finding.code in CODE_FIELDS:
            return CODE_FIELDS[finding.code]
        name = (finding.directive or "").lower()
        name = PAIRED.get(name, name)
        if name in self.fields:
            return name
        if name and name not in self.directive_names:
            return OTHER
        return None

    # -- effective values ------------------------------------------------------------------------

    def section_context(self) -> SectionContext:
        return SectionContext()

    @cached_property
    def context(self) -> SectionContext:
        return self.section_context()

    @cached_property
    def shown_section(self) -> Section | None:
        """The section the form holds, once per request, for its effective values."""
        try:
            return self.to_section()
        except Exception:  # a half-typed name or base: show own values only
            return None

    @cached_property
    def effective_values(self) -> dict[str, Effective]:
        """Every directive's effective value for what the form holds now (secrets masked)."""
        section = self.shown_section
        return self.context.effective(section) if section is not None else {}

    # -- display ---------------------------------------------------------------------------------

    def row(self, name: str) -> Row:
        row = Row(self[name], self.field_warnings.get(name, []))
        if name in self.directive_names:
            found = self.effective_values.get(name)
            row.effective = found
            directive = catalogue()[name]
            row.suggestions = directive.input.suggestions
            row.default_value = directive.default_value
            if self.is_pair(name):
                partner = next(d for d, primary in PAIRED.items() if primary == name)
                section = self.shown_section
                row.inherited_lines = (
                    self.context.inherited_lines(section, (name, partner)) if section else []
                )
            if found is not None and found.origin and found.source == INHERITED:
                row.origin_id = self.context.ids.get(found.origin.lower())
        return row

    def leading_fields(self) -> list[str]:
        return []

    def starters(self) -> tuple[str, ...]:
        return STARTERS.get(self.section_kind, ())

    def is_set(self, name: str) -> bool:
        """Shown among the directives set here: it has a value, a message, or (on a new section's
        blank form) it is one of the usual first ones."""
        if self.errors.get(name) if self.is_bound else False:
            return True
        if self.field_warnings.get(name):
            return True
        value = self.raw(name)
        if str(value or "").strip():
            return True
        return self.current is None and not self.is_bound and name in self.starters()

    def directive_rows(self) -> list[str]:
        """Every directive field, in the catalogue's group order."""
        grouped: dict[str, list[str]] = {}
        for directive in self.directives:
            if directive.name in PAIRED:
                continue
            grouped.setdefault(directive.group, []).append(directive.name)
        order = [g for g in GROUPS if g in grouped] + [g for g in grouped if g not in GROUPS]
        return [(group, name) for group in order for name in grouped[group]]

    def extra_rows(self, name: str) -> list[str]:
        """Fields shown right after ``name`` (the "Clear secret" box after the secret)."""
        return []

    @cached_property
    def layout(self) -> list[dict]:
        """The page's groups, in order: the section header fields, the directives set here, those
        inherited from templates, then every other directive by catalogue group ("more"). The first
        field with an error (in this order) gets the focus after a refused save."""
        out = []
        if self.leading_fields():
            out.append(
                {"name": "section", "title": "Section", "kind": "section", "names": self.leading_fields()}
            )
        set_here, inherited, more = [], [], {}
        for group, name in self.directive_rows():
            if self.is_set(name):
                set_here.append(name)
            elif (found := self.effective_values.get(name)) is not None and found.source == INHERITED:
                inherited.append(name)
            else:
                more.setdefault(group, []).append(name)
        other_set = self.is_set(OTHER)
        if other_set:
            set_here.append(OTHER)
        out.append({"name": "set", "title": "Set in this section", "kind": "set", "names": set_here})
        if inherited:
            out.append(
                {
                    "name": "inherited",
                    "title": "Inherited from templates",
                    "kind": "inherited",
                    "names": inherited,
                }
            )
        for group, names in more.items():
            out.append({"name": group, "title": group.capitalize(), "kind": "more", "names": names})
        if not other_set:
            out.append({"name": "other", "title": "Other lines", "kind": "more", "names": [OTHER]})
        for group in out:
            names = []
            for name in group["names"]:
                names.append(name)
                names.extend(self.extra_rows(name))
            group["rows"] = [self.row(name) for name in names]
        first = next((r for g in out for r in g["rows"] if r.bound.errors), None) if self.is_bound else None
        if first is not None:
            first.bound.field.widget.attrs["autofocus"] = True
            for group in out:
                group["open"] = group["kind"] != "more" or first in group["rows"]
        return out

    def groups(self) -> list[dict]:
        for group in self.layout:
            group.setdefault(
                "open", group["kind"] != "more" or any(r.bound.errors or r.warnings for r in group["rows"])
            )
        return self.layout

    def preview(self) -> tuple[str, str]:
        """(text, problem): the section as render() writes it, with secrets masked."""
        try:
            return render(mask_document(Document(sections=[self.to_section()]))), ""
        except Exception as exc:  # RenderError, or a half-typed name
            return "", str(exc)

    def to_section(self) -> Section:  # pragma: no cover - subclasses
        raise NotImplementedError

    def finish_choices(self) -> None:
        """The "not set" choice of each select says what not setting it gives: the inherited
        value or Asterisk's default (no placeholder ever looks like a value)."""
        for name in self.directive_names:
            widget = self.fields[name].widget if name in self.fields else None
            if not isinstance(widget, KeepingSelect) or not widget.choices or widget.choices[0][0] != "":
                continue
            found = self.effective_values.get(name)
            label = widget.choices[0][1]
            if found is not None and found.source == INHERITED:
                label = f"not set: {found.value} from [{found.origin}]"
            elif catalogue()[name].default_value is not None:
                label = f"not set: {catalogue()[name].default_value} (Asterisk's default)"
            widget.choices = [("", label), *widget.choices[1:]]


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


class GeneralForm(DirectiveForm):
    """[general] as one form. Register lines are Registrations, edited on their own page."""

    section_kind = "general"
    excluded = ("register",)

    def __init__(self, *args, host, version: int = 0, **kwargs) -> None:
        self.host = host
        kwargs.setdefault("current", general_section(host))
        super().__init__(*args, **kwargs)
        add_version_field(self, version)
        self.fields["comment"] = forms.CharField(
            required=False,
            strip=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="Comment lines written above [general].",
        )
        if self.current is not None and not self.is_bound:
            self.initial["comment"] = "\n".join(self.current.comments)
        self.order_fields(["comment"])
        self.finish_choices()

    def leading_fields(self) -> list[str]:
        return ["comment"]

    def skipped_on_initial(self) -> set[str]:
        return {"register"}

    def to_section(self) -> Section:
        return Section(
            name="general",
            entries=self.directive_entries() + self.other_entries(),
            comments=comment_lines(str(self.raw("comment"))),
        )

    def section_context(self) -> SectionContext:
        return SectionContext()

    def judge(self, section: Section) -> policy.Verdict:
        return policy.general_verdict(self.host, section)

    def check_stored(self) -> None:
        self.show_findings(policy.general_verdict(self.host, self.current).findings)


# -------------------------------------------------------------------------------------------------
# Registrations and [callnumberlimits]


class RegistrationForm(FindingsMixin, InlineMixin, forms.Form):
    username = forms.CharField()
    secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
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


# -------------------------------------------------------------------------------------------------
# Keys


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
    passphrase = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Encrypts the private key; Asterisk asks for it at 'keys init'.",
    )
    passphrase2 = forms.CharField(
        required=False,
        strip=False,
        label="Passphrase again",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    no_passphrase = forms.BooleanField(
        required=False,
        label="Store the private key without a passphrase",
        help_text="Warning: anyone who reads the key file (a backup, the key directory) can sign as this "
        "server. Only for hosts that must load the key unattended.",
    )

    def clean(self):
        cleaned = super().clean()
        passphrase = cleaned.get("passphrase") or ""
        if cleaned.get("no_passphrase"):
            if passphrase:
                self.add_error(
                    "passphrase", "either type a passphrase or tick 'without a passphrase', not both"
                )
        elif not passphrase:
            self.add_error(
                "passphrase", "type a passphrase, or tick 'without a passphrase' to store the key unencrypted"
            )
        elif len(passphrase) < 8:
            self.add_error("passphrase", "use at least 8 characters")
        elif passphrase != cleaned.get("passphrase2"):
            self.add_error("passphrase2", "the two passphrases differ")
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


# -------------------------------------------------------------------------------------------------
# Import


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
