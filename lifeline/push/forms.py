from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lifeline.push.choices import Topic
from lifeline.push.models import Announcement


class AnnouncementForm(forms.ModelForm[Announcement]):
    class Meta:
        model = Announcement
        fields = [
            "topic",
            "title",
            "title_en",
            "body",
            "body_en",
            "publish_at",
            "expires_at",
            "send_email",
            "send_robots",
            "plan_task_key",
        ]
        widgets = {
            "publish_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "body": forms.Textarea(attrs={"rows": 12}),
            "body_en": forms.Textarea(attrs={"rows": 12}),
        }
        help_texts = {
            "body": _(
                "HTML: paragraphs, lists, links, images, tables. Scripts and styles are removed."
            ),
        }


class SubscribeForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    topics = forms.MultipleChoiceField(
        label=_("Topics"),
        choices=Topic.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[t.value for t in Topic],
    )
    # Honeypot: hidden from people by CSS; a robot that fills every field gives itself away.
    website = forms.CharField(label=_("Leave this empty"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))
