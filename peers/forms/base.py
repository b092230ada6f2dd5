"""What the editing forms share: the field rows the templates draw, the inline check, findings put
at their fields, and :class:`DirectiveForm`, the fields of a section's directives."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django import forms

from .. import policy
from ..effective import SectionContext
from ..iaxconf import Document, Entry, Finding, Section, catalogue, render
from ..iaxconf import values as v
from ..iaxconf.catalogue import AUTH, BOOL, CHOICE, CODECS, GROUPS, KEY, KEYS, NUMBER
from ..iaxconf.effective import INHERITED, Effective
from ..iaxconf.mask import mask_document
from ..models import Key
from ..widgets import Checklist, KeepingSelect, NumberOrText, OrderedPairs

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
