from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lifeline.push.choices import Topic
from lifeline.push.models import Announcement, Robot


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


class RobotForm(forms.ModelForm[Robot]):
    """A robot's webhook address is its credential: the field is never filled from the stored
    value (an empty field keeps it), and a new address must pass core.outbound's SSRF guard."""

    topics_chosen = forms.MultipleChoiceField(
        label=_("Topics"),
        choices=Topic.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None chosen: every topic."),
    )

    class Meta:
        model = Robot
        fields = ["name", "url", "fmt", "is_active"]
        widgets = {"url": forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stored_url = self.instance.url if self.instance.pk else ""
        url = self.fields["url"]
        if self._stored_url:
            from lifeline.push.logic.robots import masked

            url.required = False
            url.help_text = _("Now %(address)s. Leave empty to keep it.") % {
                "address": masked(self._stored_url)
            }
        self.fields["topics_chosen"].initial = [t for t in self.instance.topics.split(",") if t]

    def clean_url(self) -> str:
        from lifeline.core import outbound

        url: str = (self.cleaned_data.get("url") or "").strip()
        if not url:
            if self._stored_url:
                return self._stored_url
            raise forms.ValidationError(_("Enter the webhook address."), code="required")
        if not url.startswith("https://") and not url.startswith("http://"):
            raise forms.ValidationError(_("Only http and https addresses can be fetched."))
        try:
            outbound.check_target(url)
        except outbound.OutboundRefused as exc:
            raise forms.ValidationError(str(exc), code="internal") from exc
        except outbound.OutboundFailed:
            # A name that does not resolve today is kept: every send checks it again.
            return url
        return url

    def save(self, commit: bool = True) -> Robot:
        robot = super().save(commit=False)
        robot.topics = ",".join(sorted(self.cleaned_data.get("topics_chosen") or []))
        if commit:
            robot.save()
        return robot
