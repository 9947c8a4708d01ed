"""What kind of answer a question calls for, and what kinds of answer a reply carries.

A "why" question wants a reason, "how much" a price, "when" a time, "where" a place,
"how do I" a method, a yes/no question a yes or a no. These rules (Chinese and English)
give the question -> answer-type agreement used by
:class:`~csdialog.answers.AnswerLogicMatcher`: they are evidence, not a verdict, and a
question of no known type (``None``) gives no evidence either way.

Example:
    >>> question_type("为什么面膜B比面膜A贵了一百多块钱?")
    'why'
    >>> sorted(answer_types("因为B含有依克多因，原料成本高。"))
    ['reason']
    >>> type_agreement("快递什么时候到?", "预计明天下午送达")
    True
    >>> type_agreement("How much is the Pro?", "Please check the product page.")
    False
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "ANSWER_TYPES",
    "EXPECTED_ANSWERS",
    "QUESTION_TYPES",
    "answer_types",
    "question_type",
    "type_agreement",
]

# Checked in this order: the first matching type wins ("为什么这么贵" is "why", not "how
# much"; "多久能到" is "when", not "how").
_QUESTION_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("why", re.compile(
        r"为什么|為什麼|为啥|為啥|为何|為何|凭什么|憑什麼|怎么会|怎麼會|咋会|贵在哪|貴在哪|什么原因|什麼原因|"
        r"原因是|\bwhy\b|\bhow come\b|\bwhat makes\b|\bwhat is the reason\b|\breason\b",
        re.IGNORECASE)),
    ("how_much", re.compile(
        r"多少钱|多少錢|多少块|多少塊|什么价|什麼價|价格|價格|价钱|價錢|票价|票價|费用|費用|收费|收費|运费|運費|"
        r"贵不贵|貴不貴|\bhow much\b|\bprice\b|\bcost\b|\bfee\b|\bcharge\b|\bfare\b|\bticket\b",
        re.IGNORECASE)),
    ("when", re.compile(
        r"什么时候|什麼時候|何时|何時|几点|幾點|多久|多长时间|多長時間|几天|幾天|哪天|几号|幾號|时间|時間|"
        r"\bwhen\b|\bwhat time\b|\bhow long\b|\bhow soon\b|\bwhich day\b|\bwhat day\b|\btime\b",
        re.IGNORECASE)),
    ("code", re.compile(
        r"参考编号|參考編號|参考号|參考號|订单号|訂單號|单号|單號|邮编|郵編|邮政编码|郵政編碼|车牌|車牌|编号|編號|"
        r"\breference\b|\bref\b|\bpostcode\b|\bpost code\b|\bzip\b|\border number\b|\btracking\b|"
        r"\bconfirmation number\b|\bcar type\b|\bplate\b",
        re.IGNORECASE)),
    ("where", re.compile(
        r"在哪|哪里|哪裡|哪儿|哪兒|地址|位置|地点|地點|\bwhere\b|\baddress\b|\blocation\b|\blocated\b|"
        r"\barea\b|\bpostcode\b|\bpost code\b",
        re.IGNORECASE)),
    ("contact", re.compile(
        r"电话|電話|联系方式|聯繫方式|号码|號碼|\bphone\b|\bcontact\b|\bnumber\b|\be-?mail\b",
        re.IGNORECASE)),
    ("how", re.compile(
        r"怎么|怎麼|如何|怎样|怎樣|咋|步骤|步驟|\bhow (?:do|can|should|to|does|would)\b|\bhow\b",
        re.IGNORECASE)),
    ("which", re.compile(
        r"哪个|哪個|哪款|哪种|哪種|哪家|推荐|推薦|\bwhich\b|\brecommend\b|\bsuggest\b|\bany good\b",
        re.IGNORECASE)),
    ("yes_no", re.compile(
        r"吗[?？]?\s*$|嗎[?？]?\s*$|能不能|可不可以|是不是|有没有|有沒有|会不会|會不會|要不要|"
        r"^(?:please\s+)?(?:can|could|is|are|do|does|did|will|would|should|may|have|has)\b",
        re.IGNORECASE)),
    ("what", re.compile(r"什么|什麼|啥|\bwhat\b|\bwho\b", re.IGNORECASE)),
)

QUESTION_TYPES: tuple[str, ...] = tuple(name for name, _ in _QUESTION_RULES)

_ANSWER_RULES: Mapping[str, re.Pattern[str]] = {
    "reason": re.compile(
        r"因为|因為|由于|由於|所以|原因|是因为|之所以|成分|成本|含有|添加了|\bbecause\b|\bsince\b|"
        r"\bdue to\b|\bas a result\b|\bthat'?s why\b|\bthe reason\b|\bso that\b|\bwhich is why\b|"
        r"\bcontains?\b|\bmade (?:of|with)\b|\bmaterials?\b|\bcosts? more\b",
        re.IGNORECASE),
    "price": re.compile(
        r"[¥￥$£€]\s*\d|\d+(?:\.\d+)?\s*(?:元|块|塊|英镑|英鎊|镑|美元|欧元|rmb|yuan|pounds?|gbp|"
        r"dollars?|usd|eur)|免费|免費|包邮|包郵|\bfree\b|价格是|價格是|售价|售價|\bcosts?\s+\d",
        re.IGNORECASE),
    "time": re.compile(
        r"\d{1,2}\s*[:：]\s*\d{2}|\d+\s*(?:分钟|分鐘|小时|小時|天|个工作日|個工作日|工作日|周|週|号|號|日|点|點|"
        r"月)|[一二三四五六七八九十两兩半]+\s*(?:分钟|分鐘|小时|小時|天|个工作日|個工作日|周|週|点|點)|"
        r"今天|明天|后天|後天|今晚|明早|下午|上午|晚上|马上|馬上|立即|尽快|盡快|周[一二三四五六日天]|"
        r"星期[一二三四五六日天]|\b\d+\s*(?:minutes?|mins?|hours?|hrs?|days?|weeks?|business days?|am|pm)\b|"
        r"\b(?:today|tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
        r"within|by \d|asap|right away|next week)\b",
        re.IGNORECASE),
    "place": re.compile(
        r"地址|位于|位於|在.{1,12}(?:路|街|区|區|号|號|楼|樓|站|门|門|附近)|附近|仓库|倉庫|驿站|驛站|"
        r"\baddress\b|\blocated\b|\bstreet\b|\broad\b|\bpostcode\b|\bwarehouse\b|\bdepot\b|"
        r"\bin the (?:north|south|east|west|centre|center)\b|\barea\b|\bcentre\b|\bcenter\b",
        re.IGNORECASE),
    "contact": re.compile(
        r"\d{3,4}[-\s]?\d{3,4}[-\s]?\d{3,4}|\(\d{3}\)\s*\d{3}-\d{4}|电话|電話|热线|熱線|"
        r"[\w.+-]+@[\w-]+\.[\w.]+|\bphone\b|\bcall\b|\be-?mail\b",
        re.IGNORECASE),
    "method": re.compile(
        r"可以通过|可以透過|点击|點擊|进入|進入|打开|打開|先.{0,20}(?:再|然后|然後)|步骤|步驟|操作|申请|申請|"
        r"联系|聯繫|填写|填寫|选择|選擇|\byou can\b|\bgo to\b|\bclick\b|\bopen\b|\btap\b|\bfirst\b|"
        r"\bthen\b|\bsteps?\b|\bfill in\b|\bselect\b|\bapply\b|\bsubmit\b|\bsend (?:it|us)\b",
        re.IGNORECASE),
    "yes_no": re.compile(
        r"^\W*(?:是的|是|对的|對的|对|對|可以|能|不能|不可以|不行|没有|沒有|有的|不是|会的|會的|不会|不會|"
        r"适合|適合|不适合|不適合|支持|不支持|当然|當然)|"
        r"^\W*(?:yes|yeah|yep|no|nope|sure|of course|certainly|unfortunately|it (?:is|does|can|will)|"
        r"you can|we do|we don'?t|we can'?t)\b",
        re.IGNORECASE),
    "code": re.compile(
        r"\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9-]{5,}\b|\b[A-Z]{1,2}\d{1,2}\s?\d[A-Z]{2}\b|"
        r"\b\d{6,}\b|参考编号|參考編號|单号|單號|邮编|郵編|\breference\b|\bref\b|\bpostcode\b|"
        r"\btracking\b"),
    "asks_back": re.compile(
        r"[?？]\s*$|请问您|請問您|您想要|您需要|您是想|哪一|\bwould you like\b|\bdo you (?:want|need|have)\b|"
        r"\bwhat (?:time|day|area|type|price)\b.*\?|\bcould you\b.*\?",
        re.IGNORECASE),
    "name": re.compile(
        r"推荐|推薦|建议您|建議您|为您|為您|叫|名字|名称|名稱|有.{1,20}(?:酒店|餐厅|餐廳|景点|景點|款)|"
        r"\brecommend\b|\bsuggest\b|\bcalled\b|\bnamed\b|\bthere is\b|\bthere are\b|\bhow about\b|"
        r"\btry\b",
        re.IGNORECASE),
}

ANSWER_TYPES: tuple[str, ...] = tuple(_ANSWER_RULES)

EXPECTED_ANSWERS: Mapping[str, frozenset[str]] = {
    "why": frozenset({"reason"}),
    "how_much": frozenset({"price"}),
    "when": frozenset({"time"}),
    "where": frozenset({"place", "contact"}),
    "code": frozenset({"code"}),
    "contact": frozenset({"contact"}),
    "how": frozenset({"method", "reason", "yes_no"}),
    "which": frozenset({"name", "reason"}),
    "yes_no": frozenset({"yes_no", "reason", "time", "price", "place", "method"}),
    "what": frozenset({"name", "reason", "method", "price", "time", "place", "contact"}),
}


def question_type(text: str) -> str | None:
    """The type of answer ``text`` asks for: one of :data:`QUESTION_TYPES`, or ``None``
    when no rule fires (a statement, or a question the rules do not know)."""
    if not isinstance(text, str):
        return None
    s = text.strip()
    for name, pattern in _QUESTION_RULES:
        if pattern.search(s):
            return name
    return None


def answer_types(text: str) -> frozenset[str]:
    """The kinds of answer ``text`` carries (any of :data:`ANSWER_TYPES`)."""
    if not isinstance(text, str) or not text.strip():
        return frozenset()
    s = text.strip()
    return frozenset(name for name, pattern in _ANSWER_RULES.items() if pattern.search(s))


def type_agreement(question: str, reply: str) -> bool | None:
    """Does ``reply`` carry an answer of the kind ``question`` asks for?

    Returns ``None`` when the question's type is unknown (no evidence either way).
    """
    qtype = question_type(question)
    if qtype is None:
        return None
    return bool(EXPECTED_ANSWERS[qtype] & answer_types(reply))
