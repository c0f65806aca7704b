from __future__ import annotations

import io
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from lifeline.core.models import Library
from lifeline.health.logic.targets import is_internal
from lifeline.health.models import MaintenanceWindow, ProbeConfig
from lifeline.registry.models import AccessRoute, Resource

# What a screenshot may be: the first bytes decide, not the name or the browser's claim.
IMAGE_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def sniff_image(head: bytes) -> str | None:
    for magic, kind in IMAGE_SIGNATURES.items():
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


# A screenshot larger than this many pixels is refused before it is decoded (a small file can
# declare an enormous image).
MAX_PIXELS = 40_000_000


def reencode(upload: Any, kind: str) -> ContentFile[bytes]:
    """The image decoded and written anew by Pillow, under the extension of what it is.

    Whatever rode along in the upload (a GIF header on an SVG with script, a polyglot, metadata)
    does not survive, and the stored name never comes from the uploader (issue 21)."""
    from PIL import Image, UnidentifiedImageError

    refused = ValidationError(_("The screenshot must be a PNG, JPEG, GIF or WebP image."))
    try:
        with Image.open(upload) as image:
            if image.width * image.height > MAX_PIXELS:
                raise refused
            image.load()
            out = io.BytesIO()
            if kind == "image/jpeg":
                image.convert("RGB").save(out, "JPEG", quality=90)
                ext = "jpg"
            else:
                has_alpha = image.mode in ("RGBA", "LA", "P")
                image.convert("RGBA" if has_alpha else "RGB").save(out, "PNG", optimize=True)
                ext = "png"
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise refused from exc
    return ContentFile(out.getvalue(), name=f"screenshot.{ext}")


def screenshot_limit() -> int:
    return int(getattr(settings, "HEALTH_SCREENSHOT_MAX_BYTES", 5 * 1024 * 1024))


class FaultReportForm(forms.Form):
    resource = forms.ModelChoiceField(queryset=Resource.objects.none(), label=_("Resource"))
    route = forms.ModelChoiceField(
        queryset=AccessRoute.objects.none(),
        label=_("How you tried to reach it"),
        required=False,
        empty_label=_("Not sure"),
    )
    description = forms.CharField(
        label=_("What did you see?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example the error message, or “the page asks me to log in”."),
    )
    screenshot = forms.FileField(
        label=_("Screenshot (optional)"),
        required=False,
        help_text=_("PNG, JPEG, GIF or WebP, at most 5 MB."),
    )
    contact_name = forms.CharField(label=_("Your name (optional)"), max_length=120, required=False)
    contact_email = forms.EmailField(
        label=_("Your e-mail (optional)"),
        required=False,
        help_text=_("We will tell you when it works again."),
    )
    # Honeypot: hidden from people by CSS; a robot that fills every field gives itself away.
    website = forms.CharField(label=_("Leave this empty"), required=False)

    def __init__(self, library: Library, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.library = library
        resource, route = self.fields["resource"], self.fields["route"]
        assert isinstance(resource, forms.ModelChoiceField)
        assert isinstance(route, forms.ModelChoiceField)
        resource.queryset = Resource.objects.filter(library=library, is_active=True).order_by(
            "name"
        )
        route.queryset = AccessRoute.objects.filter(
            resource__library=library, is_active=True
        ).select_related("resource")
        route.label_from_instance = lambda r: (  # type: ignore[method-assign, assignment]
            f"{r.resource}: {r.get_kind_display()}{' · ' + r.label if r.label else ''}"
        )

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))

    def clean_screenshot(self) -> Any:
        upload = self.cleaned_data.get("screenshot")
        if not upload:
            return None
        if upload.size > screenshot_limit():
            raise ValidationError(
                _("The screenshot is %(size)d KB; the limit is %(limit)d KB.")
                % {"size": upload.size // 1024, "limit": screenshot_limit() // 1024}
            )
        head = upload.read(16)
        upload.seek(0)
        kind = sniff_image(head)
        if kind is None or not (upload.content_type or "").startswith("image/"):
            raise ValidationError(_("The screenshot must be a PNG, JPEG, GIF or WebP image."))
        return reencode(upload, kind)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        route, resource = data.get("route"), data.get("resource")
        if route is not None and resource is not None and route.resource_id != resource.pk:
            self.add_error("route", _("This route belongs to another resource."))
        return data


def literal_internal_host(url: str) -> str | None:
    """The host when the URL names a loopback/private address or localhost outright (no DNS)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in {"localhost", "localhost.localdomain"} or host.endswith(".localhost"):
        return host
    try:
        return host if is_internal(ipaddress.ip_address(host)) else None
    except ValueError:
        return None


class ProbeConfigForm(forms.ModelForm):
    class Meta:
        model = ProbeConfig
        fields = list(ProbeConfig.SETTINGS_FIELDS)
        widgets = {
            "must_contain": forms.Textarea(attrs={"rows": 3}),
            "must_not_contain": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        from lifeline.core.permissions import user_can

        self.is_admin = user_can(user, self.instance.route.resource.library_id, "core.manage")
        if not self.is_admin:
            self.fields["allow_private"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        allow = data.get("allow_private", self.instance.allow_private)
        try:
            self.instance.set_allow_private(bool(allow), self.user)
        except ValidationError as exc:
            self.add_error("allow_private", exc.messages[0])
            return data
        host = literal_internal_host(self.instance.target_url())
        if host and not self.instance.allow_private:
            self.add_error(
                None,
                _(
                    "The route's address %(host)s is internal; probes refuse it unless an administrator allows it."  # noqa: E501
                )
                % {"host": host},
            )
        return data


class MaintenanceWindowForm(forms.ModelForm):
    class Meta:
        model = MaintenanceWindow
        fields = ["starts_at", "ends_at", "note"]
        widgets = {
            "starts_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "ends_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    public = forms.BooleanField(label=_("Show on the public status page"), required=False)
