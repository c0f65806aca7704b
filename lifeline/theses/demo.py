"""Demo data of thesis deposit for the seed library (NEFU): the June 2020 deposit season.

In 2020 graduate students could not come to the library to have their receipts stamped: the
library reviewed online and let them print their own (seed, table 1, 学位论文服务). The demo
loads the graduate school's list of that year's expected students (colleges and degree types of
a forestry university), their theses moved through the app's own workflow (submitted, checked,
most approved with a receipt, some returned or failing a check, a few waiting), and leaves the
demo account `student` on the list with nothing submitted yet, to walk the submission.

Idempotent: the demo's theses are deleted (receipts, versions, files) and filed again.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from lifeline.core.choices import PatronCategory, Role
from lifeline.core.models import Library, Membership, Notification, Patron
from lifeline.core.pdffont import cjk_font
from lifeline.theses import services
from lifeline.theses.choices import DegreeLevel, DegreeType, ReturnReason, Status
from lifeline.theses.logic.receipt import seal_png
from lifeline.theses.models import ExpectedStudent, Receipt, Rules, Thesis

SEED = 2020
YEAR = 2020
PREFIX = "2017"  # demo student numbers: 2017 + college + serial (a 2017 master's intake)
AGREEMENT = (
    "本人同意将学位论文电子版提交东北林业大学图书馆保存，授权图书馆以数字化等方式保存、"
    "汇编，并按论文密级和解密日期向校内外提供检索与全文服务；同意提交 CALIS、中国知网等"
    "学位论文数据库收录。"
)
AGREEMENT_EN = (
    "I deposit the electronic thesis with Northeast Forestry University Library and authorise "
    "the library to keep and compile it digitally and, following its confidentiality level and "
    "release date, to offer search and full text inside and outside the university; and to "
    "submit it to the CALIS and CNKI thesis databases."
)
# (college, discipline code, degree level, degree type, supervisor, [(name, pinyin, title,
#  English title)])
COLLEGES: list[tuple[str, str, str, str, str, list[tuple[str, str, str, str]]]] = [
    (
        "林学院",
        "090702",
        DegreeLevel.MASTER,
        DegreeType.ACADEMIC,
        "王志刚",
        [
            (
                "刘思远",
                "Liu Siyuan",
                "长白落叶松人工林密度调控效应研究",
                "Effects of Density Regulation in Larix olgensis Plantations",
            ),
            (
                "陈雪",
                "Chen Xue",
                "小兴安岭红松阔叶林更新格局分析",
                "Regeneration Patterns of Korean Pine Broadleaved Forests in the Lesser Khingan",
            ),
            (
                "赵宇航",
                "Zhao Yuhang",
                "水曲柳幼苗对干旱胁迫的生理响应",
                "Physiological Responses of Fraxinus mandshurica Seedlings to Drought",
            ),
        ],
    ),
    (
        "林学院",
        "090701",
        DegreeLevel.DOCTOR,
        DegreeType.ACADEMIC,
        "杨传平",
        [
            (
                "孙佳琪",
                "Sun Jiaqi",
                "白桦转录因子BpNAC调控木材形成的分子机制",
                "Molecular Mechanism of BpNAC in Wood Formation of Betula platyphylla",
            ),
        ],
    ),
    (
        "林学院",
        "0954",
        DegreeLevel.MASTER,
        DegreeType.PROFESSIONAL,
        "董希斌",
        [
            (
                "周文博",
                "Zhou Wenbo",
                "帽儿山林场森林经营方案编制实践",
                "Forest Management Planning at Maoershan Forest Farm",
            ),
            (
                "吴桐",
                "Wu Tong",
                "林区防火道路网络布局优化",
                "Layout Optimisation of Fire Roads in Forest Regions",
            ),
        ],
    ),
    (
        "材料科学与工程学院",
        "082902",
        DegreeLevel.MASTER,
        DegreeType.ACADEMIC,
        "李坚",
        [
            (
                "郑凯",
                "Zheng Kai",
                "超疏水木材表面的仿生构建",
                "Biomimetic Superhydrophobic Wood Surfaces",
            ),
            (
                "王梓涵",
                "Wang Zihan",
                "纳米纤维素增强聚乳酸复合材料性能研究",
                "Nanocellulose-Reinforced Polylactic Acid Composites",
            ),
            (
                "冯晨",
                "Feng Chen",
                "热处理落叶松板材尺寸稳定性研究",
                "Dimensional Stability of Heat-Treated Larch Boards",
            ),
        ],
    ),
    (
        "机电工程学院",
        "080201",
        DegreeLevel.MASTER,
        DegreeType.ACADEMIC,
        "马岩",
        [
            (
                "何磊",
                "He Lei",
                "林木联合采育机液压系统设计",
                "Hydraulic System Design of a Timber Harvester",
            ),
            (
                "许嘉怡",
                "Xu Jiayi",
                "基于机器视觉的板材缺陷检测",
                "Machine-Vision Detection of Board Defects",
            ),
        ],
    ),
    (
        "机电工程学院",
        "0855",
        DegreeLevel.MASTER,
        DegreeType.PROFESSIONAL,
        "杨春梅",
        [
            (
                "韩旭",
                "Han Xu",
                "木工数控铣床主轴热变形补偿",
                "Thermal Deformation Compensation of a CNC Woodworking Spindle",
            ),
        ],
    ),
    (
        "经济管理学院",
        "120302",
        DegreeLevel.MASTER,
        DegreeType.ACADEMIC,
        "曹玉昆",
        [
            (
                "曹雨桐",
                "Cao Yutong",
                "国有林区转型中的林业职工收入研究",
                "Income of Forestry Workers in the Transition of State Forest Regions",
            ),
            (
                "邓佳",
                "Deng Jia",
                "黑龙江省林下经济发展路径研究",
                "Development Paths of the Under-Forest Economy in Heilongjiang",
            ),
        ],
    ),
    (
        "经济管理学院",
        "1251",
        DegreeLevel.MASTER,
        DegreeType.PROFESSIONAL,
        "田国双",
        [
            (
                "彭浩",
                "Peng Hao",
                "林产品企业数字化营销策略研究",
                "Digital Marketing of Forest Products Firms",
            ),
        ],
    ),
    (
        "野生动物与自然保护地学院",
        "090705",
        DegreeLevel.DOCTOR,
        DegreeType.ACADEMIC,
        "张明海",
        [
            (
                "梁晓",
                "Liang Xiao",
                "东北虎豹国家公园猎物种群动态",
                "Prey Population Dynamics in the Northeast China Tiger and Leopard National Park",
            ),
            (
                "宋一鸣",
                "Song Yiming",
                "扎龙湿地丹顶鹤栖息地适宜性评价",
                "Habitat Suitability of Red-Crowned Cranes in Zhalong Wetland",
            ),
        ],
    ),
    (
        "园林学院",
        "0834",
        DegreeLevel.MASTER,
        DegreeType.ACADEMIC,
        "许大为",
        [
            (
                "唐悦",
                "Tang Yue",
                "寒地城市公园冬季景观营造研究",
                "Winter Landscapes of Parks in Cold-Region Cities",
            ),
            (
                "罗佳欣",
                "Luo Jiaxin",
                "哈尔滨老工业区绿地更新策略",
                "Green Space Renewal in Harbin's Old Industrial Districts",
            ),
        ],
    ),
    (
        "园林学院",
        "0953",
        DegreeLevel.MASTER,
        DegreeType.PROFESSIONAL,
        "朱逊",
        [
            (
                "谢欣然",
                "Xie Xinran",
                "松花江滨水景观带设计实践",
                "Design of the Songhua Riverside Landscape Belt",
            ),
        ],
    ),
    (
        "信息与计算机工程学院",
        "081203",
        DegreeLevel.MASTER,
        DegreeType.ACADEMIC,
        "赵亚琴",
        [
            (
                "韦博",
                "Wei Bo",
                "基于深度学习的林火烟雾识别",
                "Deep-Learning Recognition of Forest Fire Smoke",
            ),
            (
                "黄子轩",
                "Huang Zixuan",
                "森林资源遥感影像语义分割方法",
                "Semantic Segmentation of Forest Remote-Sensing Images",
            ),
        ],
    ),
    (
        "信息与计算机工程学院",
        "0854",
        DegreeLevel.MASTER,
        DegreeType.PROFESSIONAL,
        "景维鹏",
        [
            (
                "袁航",
                "Yuan Hang",
                "林区无线传感网络能耗优化",
                "Energy Optimisation of Wireless Sensor Networks in Forests",
            ),
        ],
    ),
    (
        "化学化工与资源利用学院",
        "082903",
        DegreeLevel.DOCTOR,
        DegreeType.ACADEMIC,
        "祖元刚",
        [
            (
                "姜楠",
                "Jiang Nan",
                "红松松针多酚的绿色提取与活性研究",
                "Green Extraction and Activity of Polyphenols from Korean Pine Needles",
            ),
        ],
    ),
    (
        "生命科学学院",
        "071010",
        DegreeLevel.MASTER,
        DegreeType.ACADEMIC,
        "刘桂丰",
        [
            (
                "苏晴",
                "Su Qing",
                "小黑杨耐盐基因PsnHKT1功能分析",
                "Function of the Salt-Tolerance Gene PsnHKT1 in Populus simonii × P. nigra",
            ),
            (
                "蒋涛",
                "Jiang Tao",
                "樟子松根际微生物群落结构研究",
                "Rhizosphere Microbial Communities of Pinus sylvestris var. mongolica",
            ),
        ],
    ),
    (
        "土木工程学院",
        "0814",
        DegreeLevel.MASTER,
        DegreeType.ACADEMIC,
        "王伟",
        [
            (
                "石磊",
                "Shi Lei",
                "季节性冻土区路基冻胀特性研究",
                "Frost Heave of Subgrades in Seasonal Frozen Ground",
            ),
        ],
    ),
    (
        "交通学院",
        "0823",
        DegreeLevel.MASTER,
        DegreeType.ACADEMIC,
        "裴玉龙",
        [
            (
                "贺婷",
                "He Ting",
                "冰雪条件下城市交叉口通行能力研究",
                "Capacity of Urban Intersections under Ice and Snow",
            ),
        ],
    ),
    (
        "生态研究中心",
        "0713",
        DegreeLevel.DOCTOR,
        DegreeType.ACADEMIC,
        "王传宽",
        [
            (
                "顾晨曦",
                "Gu Chenxi",
                "温带森林土壤呼吸对增温的响应",
                "Responses of Temperate Forest Soil Respiration to Warming",
            ),
        ],
    ),
]
# What happened to the theses in June 2020, by position in the list (the rest were approved).
RETURNED = {
    3: [ReturnReason.COVER],
    11: [ReturnReason.ABSTRACT, ReturnReason.METADATA],
    19: [ReturnReason.SIGNATURES],
}
FAILING: dict[int, dict[str, Any]] = {7: {"embed": False}, 15: {"author": "（作者）"}}
WAITING = {5, 22, 26}
CONFIDENTIAL = {1: "internal", 13: "secret"}


def _pdf(title: str, author: str, college: str, pages: int = 24, embed: bool = True) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    font = cjk_font()
    c.setFont(font, 16)
    c.drawCentredString(297, 640, "东北林业大学学位论文")
    c.drawCentredString(297, 580, title)
    c.setFont(font, 13)
    c.drawCentredString(297, 520, f"作者：{author}")
    c.drawCentredString(297, 495, f"学院：{college}")
    c.showPage()
    body = "本章介绍研究区概况、试验设计与数据分析方法，并讨论主要结果及其意义。"
    for n in range(2, pages + 1):
        c.setFont(font if embed else "Helvetica", 10)
        for line in range(28):
            text = body if embed else "Study area, experimental design and data analysis."
            c.drawString(60, 780 - line * 25, f"{n}-{line} {text}")
        c.showPage()
    c.save()
    return buf.getvalue()


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(YEAR, 6, day, hour, minute))


def _reset(library: Library) -> None:
    theses = Thesis.objects.filter(library=library, student_number__startswith=PREFIX)
    for thesis in theses:
        for version in thesis.versions.all():
            version.pdf.delete(save=False)
            for att in version.attachments.all():
                att.file.delete(save=False)
        for receipt in thesis.receipts.all():
            receipt.pdf.delete(save=False)
    Receipt.objects.filter(thesis__in=theses).delete()
    theses.delete()


def load(library: Library, today: dt.date) -> None:
    rng = random.Random(SEED)
    _reset(library)
    rules = Rules.of(library)
    rules.agreement, rules.agreement_en = AGREEMENT, AGREEMENT_EN
    if not rules.seal:
        rules.seal.save("nefu-seal.png", ContentFile(seal_png(library.name)), save=False)
    rules.save()
    User = get_user_model()
    reviewer = User.objects.filter(username="reference").first()
    if (
        reviewer is None
        or not Membership.objects.filter(
            user=reviewer, library=library, role=Role.REFERENCE
        ).exists()
    ):
        reviewer = None
    n = 0
    for index, (college, code, level, kind, supervisor, people) in enumerate(COLLEGES):
        for i, (name, pinyin, title, title_en) in enumerate(people, start=1):
            number = f"{PREFIX}{index + 1:02d}{i:03d}"
            user, _ = User.objects.get_or_create(
                username=f"grad{number}", defaults={"email": f"{number}@nefu.example.edu"}
            )
            if user.has_usable_password():
                user.set_unusable_password()
                user.save(update_fields=["password"])
            Patron.objects.update_or_create(
                user=user,
                defaults={
                    "library": library,
                    "category": PatronCategory.STUDENT,
                    "display_name": name,
                    "department": college,
                },
            )
            student, _ = ExpectedStudent.objects.update_or_create(
                library=library,
                student_number=number,
                defaults={
                    "name": name,
                    "name_en": pinyin,
                    "college": college,
                    "degree_level": level,
                    "degree_type": kind,
                    "discipline_code": code,
                    "supervisor": supervisor,
                    "year": YEAR,
                    "user": user,
                },
            )
            _thesis(library, user, student, n, title, title_en, reviewer, rng)
            n += 1
    demo_student = User.objects.filter(username="student").first()
    if demo_student is not None:
        ExpectedStudent.objects.filter(library=library, user=demo_student).exclude(
            student_number=f"{today.year}0000001"
        ).update(user=None)
        ExpectedStudent.objects.update_or_create(
            library=library,
            student_number=f"{today.year}0000001",
            defaults={
                "name": "张晓雨",
                "name_en": "Zhang Xiaoyu",
                "college": "林学院",
                "degree_level": DegreeLevel.MASTER,
                "degree_type": DegreeType.ACADEMIC,
                "discipline_code": "090704",
                "supervisor": "李凤日",
                "year": today.year,
                "user": demo_student,
            },
        )
    # A demo of a past season sends nobody e-mail.
    Notification.objects.filter(library=library, kind="theses").delete()


def _thesis(
    library: Library,
    user: Any,
    student: ExpectedStudent,
    n: int,
    title: str,
    title_en: str,
    reviewer: Any,
    rng: random.Random,
) -> None:
    submitted = _at(1 + n % 18, 9 + rng.randrange(9), rng.randrange(60))
    bad = FAILING.get(n, {})
    data = {
        "title": title,
        "title_en": title_en,
        "author": student.name,
        "author_en": student.name_en,
        "discipline_code": student.discipline_code,
        "supervisor": student.supervisor,
        "supervisor_en": "",
        "keywords": "；".join(title[i : i + 4] for i in (0, 4, 8) if title[i : i + 4]),
        "keywords_en": "; ".join(title_en.split()[:3]),
        "abstract": f"{title}。本文基于野外调查与实验数据开展研究。",
        "abstract_en": f"{title_en}: a study based on field surveys and experiments.",
        "confidentiality": CONFIDENTIAL.get(n, "public"),
        "release_date": dt.date(YEAR + 2, 6, 30) if n in CONFIDENTIAL else None,
        "agreement": True,
    }
    pdf = _pdf(
        title,
        str(bad.get("author", student.name)),
        student.college,
        embed=bool(bad.get("embed", True)),
    )
    version = services.submit(
        library, user, data, SimpleUploadedFile("thesis.pdf", pdf), now=submitted
    )
    services.run_checks(version, now=submitted + dt.timedelta(minutes=2))
    thesis = version.thesis
    if n in FAILING or n in WAITING:
        return
    review_at = submitted + dt.timedelta(hours=rng.randrange(4, 60))
    if n in RETURNED:
        services.return_thesis(
            thesis,
            reviewer,
            [str(r) for r in RETURNED[n]],
            "请按要求修改后重新提交。",
            now=review_at,
        )
        return
    services.approve(thesis, reviewer, now=review_at)
    assert Thesis.objects.get(pk=thesis.pk).status == Status.APPROVED
