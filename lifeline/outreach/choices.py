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


BOOKING_COLOURS: dict[str, str] = {BookingStatus.BOOKED: "green", BookingStatus.CANCELLED: "grey"}
