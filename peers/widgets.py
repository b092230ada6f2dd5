"""Inputs of the section forms, chosen by each directive's value rule (``catalogue.input_for``).

Every widget here posts, in the end, the same text the directive's line holds ("md5,rsa",
"hq:branch", "disallow=all" lines, "office-phone, codecs"), so the section policy judges what
the user chose exactly as it judges an API request: no widget adds a rule of its own. Each also
accepts that text posted as one plain field (a script, a test, a browser without the widget), and
keeps a value it cannot show as a choice (an imported "true", "ulaw,alaw") instead of losing it.
Everything works without JavaScript; static/js/forms.js adds ordering (buttons and drag) on top.
"""

from __future__ import annotations

import re

from django import forms

INTEGER = re.compile(r"-?[0-9]+")


def _with_current(choices: list[tuple[str, str]], value) -> list[tuple[str, str]]:
    """The choices, plus the current value when it is not one of them (kept, never lost)."""
    text = "" if value is None else str(value)
    if text and text not in {c for c, _ in choices}:
        return [*choices, (text, f"{text} (as written)")]
    return choices


class KeepingSelect(forms.Select):
    """A select that also offers the current value when it is not among its choices."""

    def get_context(self, name, value, attrs):
        saved = self.choices
        self.choices = _with_current(list(saved), value)
        try:
            return super().get_context(name, value, attrs)
        finally:
            self.choices = saved


class NumberOrText(forms.NumberInput):
    """A number input (with the rule's range), or a text input while the value is not a whole
    number, so an imported "0x10" or "abc" is shown, judged and fixed rather than blanked."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if value not in (None, "") and not INTEGER.fullmatch(str(value).strip()):
            context["widget"]["type"] = "text"
            for key in ("min", "max", "step"):
                context["widget"]["attrs"].pop(key, None)
        return context


class Composite(forms.Widget):
    """Several controls for one value, in a fieldset; ``{name}__present`` says they were posted
    (an unticked checkbox list posts nothing else)."""

    use_fieldset = True

    def present(self, data, name) -> bool:
        return f"{name}__present" in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        # the inline check's attributes go on the list around the controls (change events bubble)
        context["widget"]["hx"] = {k: v for k, v in context["widget"]["attrs"].items() if k.startswith("hx-")}
        return context


class Checklist(Composite):
    """Checkboxes for a set of words joined by ``separator`` (auth methods, inkeys). When the
    ticked set is the current value's set, the current text is kept as written (its order)."""

    template_name = "peers/widgets/checklist.html"

    def __init__(self, choices=(), separator=",", current: str = "", attrs=None) -> None:
        super().__init__(attrs)
        self.choices = list(choices)
        self.separator = separator
        self.current = current

    def words(self, value) -> list[str]:
        return [
            w.strip()
            for w in re.split(r"[,\s]+" if self.separator == "," else ":", str(value or ""))
            if w.strip()
        ]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        ticked = self.words(value)
        lowered = {w.lower() for w in ticked}
        options = [(c, label, c.lower() in lowered) for c, label in self.choices]
        known = {c.lower() for c, _ in self.choices}
        options += [(w, f"{w} (missing)", True) for w in ticked if w.lower() not in known]
        context["widget"]["options"] = options
        return context

    def value_from_datadict(self, data, files, name):
        if not self.present(data, name):
            return data.get(name)
        ticked = [w for w in data.getlist(name) if w]
        if {w.lower() for w in ticked} == {w.lower() for w in self.words(self.current)}:
            return self.current
        return self.separator.join(ticked)


class OrderedPairs(Composite):
    """An ordered list of "name=value" lines of two interleaved directives (allow/disallow,
    permit/deny), one row each: which directive, and the value (a select of ``values`` for codecs,
    else text). Empty rows are skipped; ``spare`` empty rows let a browser without JavaScript add."""

    template_name = "peers/widgets/pairs.html"

    def __init__(self, names: tuple[str, str], values=None, spare: int = 2, attrs=None) -> None:
        super().__init__(attrs)
        self.names = names
        self.values = list(values) if values else None
        self.spare = spare

    def lines(self, value) -> list[tuple[str, str]]:
        result = []
        for line in str(value or "").splitlines():
            line = line.strip()
            if not line:
                continue
            key, sep, rest = line.partition("=")
            if sep and key.strip().lower() in self.names:
                result.append((key.strip().lower(), rest.strip()))
            else:
                result.append((self.names[0], line))
        return result

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = self.lines(value) + [(self.names[0], "")] * self.spare
        context["widget"]["rows"] = [
            {
                "op": op,
                "value": val,
                "choices": _with_current([(c, c) for c in self.values], val) if self.values else None,
            }
            for op, val in rows
        ]
        context["widget"]["names"] = self.names
        return context

    def value_from_datadict(self, data, files, name):
        if f"{name}__op" not in data:
            return data.get(name)
        ops, values = data.getlist(f"{name}__op"), data.getlist(f"{name}__value")
        lines = [f"{op}={val.strip()}" for op, val in zip(ops, values, strict=False) if val.strip()]
        return "\n".join(lines)


class OrderedChoices(Composite):
    """An ordered list of selects (the templates a section inherits from); empty ones are
    skipped, ``spare`` empty ones let a browser without JavaScript add."""

    template_name = "peers/widgets/ordered.html"

    def __init__(self, choices=(), spare: int = 1, attrs=None) -> None:
        super().__init__(attrs)
        self.choices = list(choices)
        self.spare = spare

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        chosen = [v.strip() for v in str(value or "").split(",") if v.strip()] + [""] * self.spare
        context["widget"]["rows"] = [
            {"value": v, "choices": _with_current(list(self.choices), v)} for v in chosen
        ]
        return context

    def value_from_datadict(self, data, files, name):
        return ", ".join(v.strip() for v in data.getlist(name) if v.strip())
