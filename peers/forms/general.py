"""The form of a host's [general] section."""

from __future__ import annotations

from django import forms

from .. import policy
from ..effective import SectionContext
from ..exporter import general_section
from ..iaxconf import Section
from .base import DirectiveForm, add_version_field, comment_lines


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
