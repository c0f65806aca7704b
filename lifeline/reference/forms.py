"""Forms of the reference desk: the patron's question and chat, the staff console's actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.models import Library
from lifeline.core.params import IdField
from lifeline.reference.choices import CloseReason, TicketChannel, TicketState
from lifeline.reference.models import CannedAnswer, Tag


class AskForm(forms.Form):
    question = forms.CharField(
        label=_("Your question"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    name = forms.CharField(label=_("Your name (optional)"), max_length=120, required=False)
    email = forms.EmailField(
        label=_("Your e-mail (optional)"),
        required=False,
        help_text=_("We send the answer here too, so you need not keep this page open."),
    )
    # Honeypot, as the fault-report form has: hidden by CSS, a robot fills it in.
    website = forms.CharField(label=_("Leave this empty"), required=False)

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))


class ChatForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    website = forms.CharField(label=_("Leave this empty"), required=False)

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How helpful was the answer?"),
        coerce=int,
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment (optional)"), max_length=1000, required=False)


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", pgettext_lazy("tickets", "Open")), ("all", _("All")), *TicketState.choices],
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *TicketChannel.choices]
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, library: Library, staff: list[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Nobody")),
            *[(str(u.pk), u.get_full_name() or u.get_username()) for u in staff],
        ]
        tag = self.fields["tag"]
        assert isinstance(tag, forms.ChoiceField)
        tag.choices = [
            ("", _("All")),
            *[(t.name, t.name) for t in Tag.objects.filter(library=library)],
        ]


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("Answer"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    canned = forms.ModelChoiceField(
        label=_("Canned answer"), queryset=CannedAnswer.objects.none(), required=False
    )
    waiting = forms.BooleanField(label=_("Ask the patron back (wait for a reply)"), required=False)

    def __init__(self, library: Library, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        canned = self.fields["canned"]
        assert isinstance(canned, forms.ModelChoiceField)
        canned.queryset = CannedAnswer.objects.filter(library=library)


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AssignForm(forms.Form):
    assignee = IdField(label=_("Assignee"), required=False)


class TransferForm(forms.Form):
    partner = IdField(label=_("Partner library"), required=False)


class TagsForm(forms.Form):
    tags = forms.CharField(label=_("Tags (comma-separated)"), max_length=500, required=False)


class CloseForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"), choices=CloseReason.choices, initial=CloseReason.ANSWERED
    )


class DeliveryForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=1000)
    citation = forms.CharField(
        label=_("Citation"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    doi = forms.CharField(label="DOI", max_length=200, required=False)


class PhoneForm(forms.Form):
    contact_name = forms.CharField(label=_("Caller"), max_length=120, required=False)
    contact_phone = forms.CharField(label=_("Phone"), max_length=60, required=False)
    question = forms.CharField(
        label=_("Question"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    answer = forms.CharField(
        label=_("Answer given on the phone (leave empty to call back)"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CannedForm(forms.ModelForm):
    class Meta:
        model = CannedAnswer
        fields = ["title", "body", "shortcut"]


class StatsForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
