"""The order as the vendor wants it: an XLSX with the Chinese (or English) headers, and a MARC
file (MARC 21 or CNMARC, ISO 2709, UTF-8) with the price and the number of copies."""

from __future__ import annotations

import io

import pymarc
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.selection.choices import MarcFlavour
from lifeline.selection.models import Selection, SelectionLine


def _lines(selection: Selection) -> list[SelectionLine]:
    return list(
        selection.lines.select_related("title", "title__catalogue").order_by(
            "title__clc_class", "title__clc", "title__title"
        )
    )


def order_xlsx(selection: Selection) -> bytes:
    header = [
        "ISBN",
        _("Title"),
        _("Author"),
        _("Publisher"),
        _("Year"),
        _("Price"),
        _("Copies"),
        _("Amount"),
        _("CLC number"),
        _("Vendor catalogue"),
        _("Weighted demand"),
    ]
    rows = [
        [
            line.title.isbn or line.title.isbn_raw,
            line.title.title,
            line.title.author,
            line.title.publisher,
            line.title.year,
            float(line.price),
            line.copies,
            float(line.price * line.copies),
            line.title.clc,
            line.title.catalogue.name,
            line.weight,
        ]
        for line in _lines(selection)
    ]
    return xlsx_bytes({pgettext("purchase", "Order"): (header, rows)})


def _sub(*pairs: tuple[str, str]) -> list[pymarc.Subfield]:
    return [pymarc.Subfield(code, value) for code, value in pairs if value]


def order_marc(selection: Selection, flavour: str = MarcFlavour.MARC21) -> bytes:
    out = io.BytesIO()
    for line in _lines(selection):
        t = line.title
        record = pymarc.Record(force_utf8=True)
        record.leader = pymarc.Leader("00000nam a2200000 a 4500")
        price = f"CNY{line.price:.2f}"
        if flavour == MarcFlavour.UNIMARC:
            record.leader = pymarc.Leader("00000nam0 2200000   4500")
            record.add_field(
                pymarc.Field(tag="001", data=f"LL{line.pk}"),
                pymarc.Field(
                    tag="010",
                    indicators=pymarc.Indicators(" ", " "),
                    subfields=_sub(("a", t.isbn), ("d", price)),
                ),
                pymarc.Field(
                    tag="200",
                    indicators=pymarc.Indicators("1", " "),
                    subfields=_sub(("a", t.title), ("f", t.author)),
                ),
                pymarc.Field(
                    tag="210",
                    indicators=pymarc.Indicators(" ", " "),
                    subfields=_sub(("c", t.publisher), ("d", str(t.year or ""))),
                ),
            )
            if t.clc:
                record.add_field(
                    pymarc.Field(
                        tag="690",
                        indicators=pymarc.Indicators(" ", " "),
                        subfields=_sub(("a", t.clc), ("v", "5")),
                    )
                )
        else:
            record.add_field(
                pymarc.Field(tag="001", data=f"LL{line.pk}"),
                pymarc.Field(
                    tag="020",
                    indicators=pymarc.Indicators(" ", " "),
                    subfields=_sub(("a", t.isbn), ("c", price)),
                ),
                pymarc.Field(
                    tag="100",
                    indicators=pymarc.Indicators("1", " "),
                    subfields=_sub(("a", t.author)),
                ),
                pymarc.Field(
                    tag="245",
                    indicators=pymarc.Indicators("1", "0"),
                    subfields=_sub(("a", t.title)),
                ),
                pymarc.Field(
                    tag="264",
                    indicators=pymarc.Indicators(" ", "1"),
                    subfields=_sub(("b", t.publisher), ("c", str(t.year or ""))),
                ),
            )
            if t.clc:
                record.add_field(
                    pymarc.Field(
                        tag="084",
                        indicators=pymarc.Indicators(" ", " "),
                        subfields=_sub(("a", t.clc), ("2", "clc")),
                    )
                )
        # Order data in 970 (the Evergreen / vendor convention): $p price, $q copies.
        record.add_field(
            pymarc.Field(
                tag="970",
                indicators=pymarc.Indicators(" ", " "),
                subfields=_sub(("p", f"{line.price:.2f}"), ("q", str(line.copies))),
            )
        )
        record.remove_fields(
            *[f.tag for f in record.fields if not f.is_control_field() and not f.subfields]
        )
        out.write(record.as_marc())
    return out.getvalue()
