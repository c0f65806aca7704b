"""The deposit package of an approved thesis: a BagIt bag (RFC 8493) in a zip.

Layout (documented in docs/theses.md)::

    <library>-<student number>/
      bagit.txt                     BagIt-Version 1.0, UTF-8
      bag-info.txt                  source, date, embargo, serial of the receipt
      manifest-sha256.txt           sha256 of every file under data/
      data/metadata/dc.xml          OAI Dublin Core (oai_dc)
      data/metadata/etdms.xml       ETD-MS 1.1 (checked against schemas/etdms.xsd)
      data/content/thesis.pdf       full text: only when the thesis is open (embargo respected)
      data/content/attachments/...  attachments, under the same rule

A confidential thesis before its release date goes out with metadata only; the daily job
deposits it again with the files once the release date has passed.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lxml import etree

from lifeline.theses.choices import DegreeLevel
from lifeline.theses.logic import disciplines

DC = "http://purl.org/dc/elements/1.1/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
ETDMS = "http://www.ndltd.org/standards/metadata/etdms/1.1/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "etdms.xsd"


def _el(parent: Any, ns: str, tag: str, text: str, lang: str = "", **attrs: str) -> Any:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrs)
    el.text = text
    if lang:
        el.set(XML_LANG, lang)
    return el


def _keywords(text: str) -> list[str]:
    for sep in ("；", ";", "，", ","):
        text = text.replace(sep, ";")
    return [k.strip() for k in text.split(";") if k.strip()]


def dublin_core(meta: dict[str, Any]) -> bytes:
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC})
    _el(root, DC, "title", meta["title"], "zh")
    _el(root, DC, "title", meta["title_en"], "en")
    _el(root, DC, "creator", meta["author"])
    for word in _keywords(meta["keywords"]):
        _el(root, DC, "subject", word, "zh")
    for word in _keywords(meta["keywords_en"]):
        _el(root, DC, "subject", word, "en")
    _el(root, DC, "subject", meta["discipline_code"])
    _el(root, DC, "description", meta["abstract"], "zh")
    _el(root, DC, "description", meta["abstract_en"], "en")
    _el(root, DC, "publisher", meta["grantor"])
    _el(root, DC, "contributor", meta["supervisor"])
    _el(root, DC, "date", meta["date"])
    _el(root, DC, "type", "Text.Thesis")
    _el(root, DC, "format", "application/pdf")
    _el(root, DC, "identifier", meta["identifier"])
    _el(root, DC, "language", "zh")
    _el(root, DC, "rights", meta["rights"])
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def etdms(meta: dict[str, Any]) -> bytes:
    root = etree.Element(f"{{{ETDMS}}}thesis", nsmap={None: ETDMS})
    _el(root, ETDMS, "title", meta["title"], "zh")
    _el(root, ETDMS, "alternativeTitle", meta["title_en"], "en")
    _el(root, ETDMS, "creator", meta["author"])
    for word in _keywords(meta["keywords"]):
        _el(root, ETDMS, "subject", word, "zh")
    for word in _keywords(meta["keywords_en"]):
        _el(root, ETDMS, "subject", word, "en")
    _el(root, ETDMS, "description", meta["abstract"], "zh", role="abstract")
    _el(root, ETDMS, "description", meta["abstract_en"], "en", role="abstract")
    _el(root, ETDMS, "publisher", meta["grantor"])
    _el(root, ETDMS, "contributor", meta["supervisor"], role="advisor")
    _el(root, ETDMS, "date", meta["date"])
    _el(root, ETDMS, "type", "Electronic Thesis or Dissertation")
    _el(root, ETDMS, "type", "Text")
    _el(root, ETDMS, "format", "application/pdf")
    _el(root, ETDMS, "identifier", meta["identifier"])
    _el(root, ETDMS, "language", "zh")
    _el(root, ETDMS, "rights", meta["rights"])
    degree = etree.SubElement(root, f"{{{ETDMS}}}degree")
    _el(degree, ETDMS, "name", meta["degree_name"], "zh")
    _el(degree, ETDMS, "name", meta["degree_name_en"], "en")
    # ETD-MS levels: 0 undergraduate/pre-master's, 1 master's, 2 doctoral.
    _el(degree, ETDMS, "level", "2" if meta["degree_level"] == DegreeLevel.DOCTOR else "1")
    _el(
        degree,
        ETDMS,
        "discipline",
        disciplines.name(meta["discipline_code"]) or meta["discipline_code"],
        "zh",
    )
    _el(
        degree,
        ETDMS,
        "discipline",
        disciplines.name(meta["discipline_code"], english=True) or meta["discipline_code"],
        "en",
    )
    _el(degree, ETDMS, "grantor", meta["grantor"], "zh")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def build_bag(
    name: str,
    meta: dict[str, Any],
    files: Iterable[tuple[str, Path]],
    info: dict[str, str],
) -> bytes:
    """The zip of one bag. `files` are (path under data/content/, file on disk), streamed in."""
    buf = io.BytesIO()
    manifest: list[tuple[str, str]] = []
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel, data in (
            ("data/metadata/dc.xml", dublin_core(meta)),
            ("data/metadata/etdms.xml", etdms(meta)),
        ):
            zf.writestr(f"{name}/{rel}", data)
            manifest.append((hashlib.sha256(data).hexdigest(), rel))
        for rel_name, path in files:
            rel = f"data/content/{rel_name}"
            digest = hashlib.sha256()
            with path.open("rb") as src, zf.open(f"{name}/{rel}", "w", force_zip64=True) as dst:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    digest.update(chunk)
                    dst.write(chunk)
            manifest.append((digest.hexdigest(), rel))
        zf.writestr(f"{name}/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        zf.writestr(f"{name}/bag-info.txt", "".join(f"{k}: {v}\n" for k, v in info.items()))
        zf.writestr(f"{name}/manifest-sha256.txt", "".join(f"{h}  {rel}\n" for h, rel in manifest))
    return buf.getvalue()


class PackageInvalid(ValueError):
    pass


def validate(data: bytes) -> list[str]:
    """Check a package: bag declaration, every manifest line's hash, no file missing from the
    manifest, well-formed DC, ETD-MS valid against the shipped schema. Returns the file list."""
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        roots = {n.split("/", 1)[0] for n in names}
        if len(roots) != 1:
            raise PackageInvalid("a package holds exactly one bag folder")
        root = roots.pop()
        if zf.read(f"{root}/bagit.txt").decode() != (
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
        ):
            raise PackageInvalid("bagit.txt")
        listed: set[str] = set()
        for line in zf.read(f"{root}/manifest-sha256.txt").decode().splitlines():
            digest, rel = line.split("  ", 1)
            if hashlib.sha256(zf.read(f"{root}/{rel}")).hexdigest() != digest:
                raise PackageInvalid(f"checksum of {rel}")
            listed.add(rel)
        payload = {n[len(root) + 1 :] for n in names if n.startswith(f"{root}/data/")}
        if payload != listed:
            raise PackageInvalid(f"not in the manifest: {sorted(payload ^ listed)}")
        dc = etree.fromstring(zf.read(f"{root}/data/metadata/dc.xml"))
        if dc.tag != f"{{{OAI_DC}}}dc" or dc.find(f"{{{DC}}}title") is None:
            raise PackageInvalid("dc.xml")
        doc = etree.fromstring(zf.read(f"{root}/data/metadata/etdms.xml"))
        if not schema.validate(doc):
            raise PackageInvalid(f"etdms.xml: {schema.error_log.last_error}")
        return sorted(payload)
