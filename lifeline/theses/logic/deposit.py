"""The deposit package of approved theses in the library's repository folder (see
`logic/package.py` for the layout), respecting the embargo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lifeline.core.models import Library
from lifeline.theses.choices import Confidentiality, DegreeLevel, DegreeType, Status
from lifeline.theses.logic import package
from lifeline.theses.models import Thesis


def repository_dir(library: Library) -> Path:
    base = Path(
        getattr(settings, "LIFELINE_THESIS_REPOSITORY", "")
        or Path(settings.DATA_DIR) / "theses-repository"
    )
    return base / library.code


def package_meta(thesis: Thesis) -> dict[str, Any]:
    with translation.override("zh-hans"):
        level_zh = str(DegreeLevel(thesis.degree_level).label)
        kind_zh = str(DegreeType(thesis.degree_type).label)
    with translation.override("en"):
        level_en = str(DegreeLevel(thesis.degree_level).label)
        kind_en = str(DegreeType(thesis.degree_type).label)
    rights = str(Confidentiality(thesis.confidentiality).value)
    if thesis.release_date:
        rights += f"; embargo until {thesis.release_date:%Y-%m-%d}"
    return {
        "title": thesis.title,
        "title_en": thesis.title_en,
        "author": thesis.author,
        "keywords": thesis.keywords,
        "keywords_en": thesis.keywords_en,
        "abstract": thesis.abstract,
        "abstract_en": thesis.abstract_en,
        "discipline_code": thesis.discipline_code,
        "supervisor": thesis.supervisor,
        "grantor": thesis.library.name.removesuffix("图书馆") or thesis.library.name,
        "date": f"{thesis.year}-06-30"
        if not thesis.approved_at
        else timezone.localtime(thesis.approved_at).date().isoformat(),
        "identifier": f"{thesis.library.code}:{thesis.student_number}",
        "rights": rights,
        "degree_level": thesis.degree_level,
        "degree_name": f"{level_zh}{kind_zh}",
        "degree_name_en": f"{level_en} ({kind_en})",
    }


def build_package(thesis: Thesis, today: dt.date | None = None) -> tuple[str, bytes, bool]:
    """(name, zip bytes, full text included) for an approved thesis."""
    today = today or timezone.localdate()
    version = thesis.latest_version()
    name = f"{thesis.library.code}-{thesis.student_number}"
    open_now = thesis.is_open(today)
    files: list[tuple[str, Path]] = []
    if open_now and version is not None:
        files.append(("thesis.pdf", Path(version.pdf.path)))
        for att in version.attachments.all():
            files.append((f"attachments/{Path(str(att.file.name)).name}", Path(att.file.path)))
    receipt = thesis.receipts.filter(revoked_at__isnull=True).order_by("-issued_at").first()
    info = {
        "Source-Organization": thesis.library.name,
        "Bagging-Date": today.isoformat(),
        "External-Identifier": f"{thesis.library.code}:{thesis.student_number}",
        "Confidentiality": thesis.confidentiality,
        "Embargo-Until": thesis.release_date.isoformat() if thesis.release_date else "",
        "Full-Text-Included": "yes" if files else "no",
        "Receipt-Serial": receipt.serial if receipt else "",
    }
    return name, package.build_bag(name, package_meta(thesis), files, info), bool(files)


def deposit(thesis: Thesis, today: dt.date | None = None) -> Path:
    if thesis.status != Status.APPROVED:
        raise ValidationError(_("Only an approved thesis is deposited."))
    name, data, full = build_package(thesis, today)
    folder = repository_dir(thesis.library)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.zip"
    tmp = path.with_suffix(".zip.part")
    tmp.write_bytes(data)
    tmp.replace(path)  # atomic: the repository never picks up half a package
    Thesis.objects.filter(pk=thesis.pk).update(
        deposited_at=timezone.now(), deposited_full_text=full
    )
    return path


def deposit_released(today: dt.date | None = None) -> int:
    """Deposit again, with the files, every approved thesis whose release date has come."""
    today = today or timezone.localdate()
    due = Thesis.objects.filter(
        status=Status.APPROVED, deposited_full_text=False, release_date__lte=today
    ).select_related("library")
    n = 0
    for thesis in due:
        deposit(thesis, today)
        n += 1
    return n
