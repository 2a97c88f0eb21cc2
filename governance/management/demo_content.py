"""The demo's words in every language it can be seeded in (`seed_demo --language`).

seed_demo is written in English; each free text it writes (titles, pain points, business cases,
KPIs, evidence, experiments, rationales, reasons, file contents) is looked up here, English text →
its translation, item by item. Names are per username. Structure and numbers never change with
the language: only the words do. A text with {placeholders} is translated first, then filled in.

Chinese follows docs/glossary.zh-hans.md. A text seed_demo writes without a translation here stops
a seed in that language (MissingDemoText) rather than leaving English in a Chinese demo.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE_LANGUAGE = "en"
LANGUAGES = (SOURCE_LANGUAGE, "zh-hans")
# The currency the demo's business cases are written in ("": the deployment's default).
CURRENCIES = {SOURCE_LANGUAGE: "", "zh-hans": "CNY"}

# username → (first name, last name); in Chinese the first name is the given name (名) and the
# last name the family name (姓), as a person would fill Django's two fields.
NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "zh-hans": {
        "chair": ("静", "陈"),
        "auditor": ("琪", "安"),
        "govadmin": ("强", "郭"),
        "business": ("伟", "王"),
        "legal": ("娜", "李"),
        "finance": ("芳", "方"),
        "technical": ("涛", "唐"),
        "risk": ("丽", "任"),
        "lead-retail": ("娟", "罗"),
        "lead-service": ("磊", "孙"),
    },
}

TEXTS: dict[str, dict[str, str]] = {
    "zh-hans": {
        # Initiative titles
        "Customer-service reply assistant": "客服回复助手",
        "GenAI marketing copy for product pages": "商品详情页的生成式 AI 营销文案",
        "Contract clause extractor": "合同条款提取器",
        "Invoice matching assistant": "发票匹配助手",
        "Demand forecasting assistant": "需求预测助手",
        "Meeting-notes summariser": "会议纪要摘要工具",
        "Emotion detection in job interviews": "求职面试情绪识别",
        # Evidence: titles and file contents
        "Business case": "商业论证",
        "Business case: {title}\n": "商业论证：{title}\n",
        "Privacy impact assessment": "隐私影响评估",
        "DPIA for {title}\n": "数据保护影响评估（DPIA）：{title}\n",
        "Pilot report": "试点报告",
        "Pilot report: {title}\n": "试点报告：{title}\n",
        # Sign-off rationales and the chair's kill reason
        "Business case, KPI and evidence reviewed; the pilot is worth running.": (
            "已审阅商业论证、KPI 和证据；该试点值得开展。"
        ),
        "No personal data; supplier contracts allow processing.": "不涉及个人数据；供应商合同允许此类处理。",
        "Pilot met its target with a significant experiment; ROI positive.": (
            "试点达到目标值，实验结果显著；ROI 为正。"
        ),
        "Emotion recognition in recruitment is a prohibited practice under the EU AI Act.": (
            "根据欧盟《人工智能法》，在招聘中进行情绪识别属于禁止的做法。"
        ),
        "Adoption stayed at 45%; the exit criteria are met. Pilot ended.": (
            "采用率停留在45%，已触及退出标准。试点结束。"
        ),
        # KPI units
        "minutes": "分钟",
        "ratio": "比率",
        "hours": "小时",
        "days": "天",
        "%": "%",
        # Customer-service reply assistant
        "Customer service": "客户服务部",
        "Customers wait an hour for a first reply; 18% of tickets breach the SLA.": (
            "客户要等一个小时才收到首次回复；18%的工单超出SLA时限。"
        ),
        "Drafts a reply inside the ticketing tool for every new ticket; the agent edits and sends it.": (
            "在工单系统中为每张新工单起草回复；客服人员修改后发送。"
        ),
        "First response time": "首次响应时间",
        "Zendesk export, median per month": "Zendesk 导出数据，按月取中位数",
        "Stop if first response time is not at least 30% lower after three months of pilot.": (
            "试点三个月后，若首次响应时间未降低至少30%，则终止。"
        ),
        "Reply drafts vs. no drafts": "有回复草稿与无回复草稿对比",
        "ticket waited over 30 minutes": "工单等待超过30分钟",
        # GenAI marketing copy for product pages
        "E-commerce marketing": "电商营销部",
        "Product pages convert poorly; copywriters cannot keep up with 40,000 SKUs.": (
            "商品详情页转化率低；文案人员跟不上40,000个SKU的文案需求。"
        ),
        "Generates product-page copy in the PIM; a copywriter approves before publishing.": (
            "在PIM中生成商品详情页文案；发布前由文案人员审批。"
        ),
        "Click-through rate": "点击率",
        "Web analytics, monthly": "网站分析，按月",
        "Brand-tone violations": "品牌语调违规",
        "per 1,000 messages": "每 1,000 条文案",
        "Copywriter review log, monthly": "文案审核记录，按月",
        "Stop if click-through is not 30% higher than baseline after the pilot.": (
            "试点结束后，若点击率未比基线高出30%，则终止。"
        ),
        "Generated vs. human copy": "生成文案与人工文案对比",
        "visitor clicked through": "访客点击进入",
        # Contract clause extractor
        "Legal": "法务部",
        "Lawyers spend four hours per supplier contract finding non-standard clauses.": (
            "律师每份供应商合同要花四个小时查找非标准条款。"
        ),
        "Flags clauses in the contract management system before legal review.": (
            "在法务审查前，于合同管理系统中标出相关条款。"
        ),
        "Review hours per contract": "每份合同的审查工时",
        "Time tracking": "工时记录",
        "Stop if review time does not fall by a third.": "若审查时间未减少三分之一，则终止。",
        # Invoice matching assistant
        "Finance": "财务部",
        "Accounts payable matches 12,000 invoices a month by hand.": "应付账款团队每月手工匹配12,000张发票。",
        "Proposes purchase-order matches in the ERP; clerks confirm.": "在ERP中给出发票与采购订单的匹配建议；由会计人员确认。",
        "Invoices matched automatically": "自动匹配的发票占比",
        "ERP audit log": "ERP审计日志",
        "Stop if automatic matching stays below 55%.": "若自动匹配率一直低于55%，则终止。",
        # Demand forecasting assistant
        "Supply chain": "供应链部",
        "Stock-outs on 7% of lines; forecasts are spreadsheets.": "7%的商品行出现缺货；预测仍靠电子表格。",
        "Feeds weekly demand forecasts into replenishment orders.": "将每周需求预测输入补货订单。",
        "Stock-out rate": "缺货率",
        "Warehouse system": "仓储管理系统",
        "Stop if stock-outs are not below 5% after the pilot.": "试点结束后，若缺货率未低于5%，则终止。",
        "Forecast-driven vs. manual replenishment": "预测驱动补货与人工补货对比",
        "line out of stock": "商品行缺货",
        # Meeting-notes summariser
        "Operations": "运营部",
        "Managers lose an hour a day writing meeting notes.": "经理每天要花一个小时写会议纪要。",
        "Summarises recorded meetings into the wiki.": "将会议录音整理成纪要，写入Wiki。",
        "Notes written within a day": "当天完成的会议纪要占比",
        "Wiki statistics": "Wiki统计",
        "Stop if adoption stays below 50% after two months.": "两个月后，若采用率仍低于50%，则终止。",
        # Emotion detection in job interviews
        "Human resources": "人力资源部",
        "Recruiters want to rank candidates faster.": "招聘人员希望更快地为候选人排序。",
        "Scores candidates' emotions from interview video.": "根据面试视频为候选人的情绪打分。",
        "Time to hire": "招聘周期",
        "Applicant tracking system": "招聘管理系统",
        "Stop if time to hire does not fall by 10 days.": "若招聘周期未缩短10天，则终止。",
    },
}


class MissingDemoText(LookupError):
    """seed_demo writes a text this module has no translation of."""


@dataclass(frozen=True)
class DemoContent:
    """The demo's words in one language."""

    language: str = SOURCE_LANGUAGE

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"No demo content in {self.language!r}; there is: {', '.join(LANGUAGES)}.")

    @property
    def translated(self) -> bool:
        return self.language != SOURCE_LANGUAGE

    @property
    def currency(self) -> str:
        return CURRENCIES[self.language]

    def text(self, english: str, **values: object) -> str:
        """`english` in this language, its {placeholders} filled with `values`."""
        words = english
        if self.translated:
            try:
                words = TEXTS[self.language][english]
            except KeyError:
                raise MissingDemoText(
                    f"The demo writes {english!r} but governance/management/demo_content.py "
                    f"has no {self.language} text for it."
                ) from None
        return words.format(**values) if values else words

    def names(self, username: str, first_name: str) -> tuple[str, str]:
        """A demo user's first and last name: the English demo's first name alone, or theirs."""
        if not self.translated:
            return first_name, ""
        try:
            return NAMES[self.language][username]
        except KeyError:
            raise MissingDemoText(
                f"The demo user {username!r} has no {self.language} name in "
                "governance/management/demo_content.py."
            ) from None
