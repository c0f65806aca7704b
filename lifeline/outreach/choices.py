"""Choice sets of outreach (events, quizzes, rooms, courses), each with a badge colour."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EventKind(models.TextChoices):
    READING = "reading", _("Reading promotion")
    QUIZ = "quiz", _("Quiz or contest")
    HUMAN_LIBRARY = "human_library", _("Human library")
    TRAINING = "training", _("Training")
    OTHER = "other", pgettext_lazy("event kind", "Other")


class RegStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", pgettext_lazy("registration", "Cancelled")


REG_COLOURS: dict[str, str] = {
    RegStatus.REGISTERED: "green",
    RegStatus.WAITLISTED: "orange",
    RegStatus.CANCELLED: "grey",
}
# A patron holds at most one of these per session; cancelled rows are history.
ACTIVE_REG = (RegStatus.REGISTERED, RegStatus.WAITLISTED)


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TRUE_FALSE = "true_false", _("True or false")
    FILL = "fill", _("Fill in the blank")


class Audience(models.TextChoices):
    ALL = "all", _("Everyone")
    FRESHMEN = "freshmen", _("Freshmen")
    UNDERGRADUATES = "undergraduates", _("Undergraduates")
    GRADUATES = "graduates", _("Graduate students")
    STAFF = "staff", _("Teachers and researchers")


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", pgettext_lazy("booking", "Cancelled")
    NO_SHOW = "no_show", _("No-show")


BOOKING_COLOURS: dict[str, str] = {
    BookingStatus.BOOKED: "green",
    BookingStatus.CANCELLED: "grey",
    BookingStatus.NO_SHOW: "red",
}


class EntryStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    HIDDEN = "hidden", _("Withdrawn from the contest")


ENTRY_COLOURS: dict[str, str] = {EntryStatus.SUBMITTED: "green", EntryStatus.HIDDEN: "grey"}


class MediaKind(models.TextChoices):
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")


# What a contest entry may be, by sniffed kind (filetype's extension) → what it is.
MEDIA_TYPES: dict[str, str] = {
    "mp3": MediaKind.AUDIO,
    "m4a": MediaKind.AUDIO,
    "wav": MediaKind.AUDIO,
    "ogg": MediaKind.AUDIO,
    "aac": MediaKind.AUDIO,
    "flac": MediaKind.AUDIO,
    "mp4": MediaKind.VIDEO,
    "webm": MediaKind.VIDEO,
    "mov": MediaKind.VIDEO,
}


class MaterialKind(models.TextChoices):
    SLIDES = "slides", _("Slides")
    VIDEO = "video", _("Video")
    DOCUMENT = "document", _("Document")
