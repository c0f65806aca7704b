"""Plan documents: YAML round trip, and bad input refused with a message naming the line."""

from __future__ import annotations

from typing import Any

import pymupdf
import pytest
from django.utils import translation

from lifeline.emergency import services
from lifeline.emergency.logic import pdf
from lifeline.emergency.logic.document import PlanDocumentError, dump_yaml, load_yaml
from lifeline.emergency.models import Plan

GOOD = """\
name: 测试预案
categories: [accident]
teams:
  - key: lead
    name: 领导小组
    members:
      - {name: 张馆长, email: zhang@example.edu}
    tasks:
      - {key: meet, title: 开会, level: IV, due_hours: 1}
"""


def error(text: str | bytes, library: Any = None) -> PlanDocumentError:
    """The refusal, in English (messages are translated when raised, in the request's language)."""
    with translation.override("en"), pytest.raises(PlanDocumentError) as info:
        load_yaml(text, library)
    return info.value


def test_round_trip(plan: Plan) -> None:
    doc = plan.latest().document
    assert load_yaml(dump_yaml(doc)) == doc


def test_malformed_yaml_names_the_line() -> None:
    exc = error(GOOD.replace("    name: 领导小组", "    name: [领导小组"))
    assert exc.line is not None and 5 <= exc.line <= 7
    with translation.override("en"):
        assert str(exc).startswith(f"Line {exc.line}: This is not valid YAML")
    with translation.override("zh-hans"):
        with pytest.raises(PlanDocumentError) as info:
            load_yaml(GOOD.replace("due_hours: 1", "due_hours: -2"))
        # Worded in the language active when it is shown, which an earlier test may have left
        # as English: read it inside the override.
        assert str(info.value) == "第 9 行：时限（-2 小时）早于启动时间：必须在启动之后。"


def test_deadline_before_activation_is_refused() -> None:
    exc = error(GOOD.replace("due_hours: 1", "due_hours: -2"))
    assert exc.line == 9
    with translation.override("en"):
        assert "before activation" in str(exc)


def test_team_without_members_is_refused() -> None:
    text = GOOD.replace(
        "    members:\n      - {name: 张馆长, email: zhang@example.edu}\n", "    members: []\n"
    )
    exc = error(text)
    assert exc.line == 6  # the "members: []" line
    with translation.override("en"):
        assert "领导小组" in str(exc) and "no members" in str(exc)


@pytest.mark.parametrize(
    ("change", "words", "line"),
    [
        (("level: IV", "level: V"), "I, II, III or IV", 9),
        (("zhang@example.edu", "not-an-address"), "not an e-mail address", 7),
        (("categories: [accident]", "categories: [flood]"), "Unknown event category", 2),
        (("due_hours: 1", "due_hours: soon"), "number of hours", 9),
        (("name: 测试预案\n", ""), "“name” is required", 1),
    ],
)
def test_other_bad_fields_name_their_line(change: tuple[str, str], words: str, line: int) -> None:
    exc = error(GOOD.replace(*change))
    with translation.override("en"):
        assert words in str(exc)
    assert exc.line == line


def test_unknown_staff_user_is_refused(library_a: Any, leader_a: Any) -> None:
    ok = load_yaml(GOOD.replace("{name: 张馆长,", "{name: 张馆长, user: leader_a,"), library_a)
    assert ok["teams"][0]["members"][0]["user"] == "leader_a"
    exc = error(GOOD.replace("{name: 张馆长,", "{name: 张馆长, user: nobody,"), library_a)
    assert "nobody" in str(exc) and exc.line == 7


def test_not_a_plan_and_oversized_input() -> None:
    assert error("- just\n- a list\n").line == 1
    assert "512" in str(error(b"#" * (600 * 1024)))
    assert "UTF-8" in str(error(b"\xff\xfe\x00bad")) or error(b"\xff\xfe\x00bad").message


def test_refused_import_writes_nothing(library_a: Any, plan: Plan) -> None:
    with pytest.raises(PlanDocumentError):
        services.import_yaml(library_a, GOOD.replace("due_hours: 1", "due_hours: 0"), plan=plan)
    plan.refresh_from_db()
    assert plan.current_version == 1 and plan.versions.count() == 1
    assert Plan.objects.count() == 1


def test_plan_pdf_embeds_chinese_and_renders(plan: Plan, tmp_path: Any) -> None:
    data = pdf.plan_pdf(plan.latest())
    doc = pymupdf.open(stream=data, filetype="pdf")
    text = "".join(page.get_text() for page in doc)
    assert "应急领导小组" in text and "发布校外访问指南" in text
    assert any(f[1] == "ttf" and "WenQuanYiMicroHei" in f[3] for f in doc[0].get_fonts())
    # Rendered, the first page has ink: the glyphs are drawn, not tofu boxes of a missing font.
    pix = doc[0].get_pixmap(dpi=50)
    samples = pix.samples
    dark = sum(1 for i in range(0, len(samples), pix.n) if samples[i] < 128)
    assert dark > 500
    pix.save(tmp_path / "plan.png")
    with translation.override("en"):
        english = "".join(
            p.get_text() for p in pymupdf.open(stream=pdf.plan_pdf(plan.latest()), filetype="pdf")
        )
    assert "Emergency leadership group" in english and "E-mail" in english
