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
    "VALUE_KINDS",
    "answer_types",
    "question_type",
    "type_agreement",
    "value_kinds",
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
        r"\bcontains?\b|\bmade (?:of|with)\b|\bmaterials?\b|\bcosts? (?:a lot |much |so much |a bit )?more\b",
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

# Finer kinds of *value* a reply carries (what a task-oriented reply informs: a phone
# number, a postcode, a booking reference, a clock time, a duration...). Used as reply
# features by :class:`~csdialog.answers.PairClassifierScorer`, which learns which kinds
# each kind of question needs; kept apart from :data:`ANSWER_TYPES` so the type rules and
# :func:`type_agreement` do not change.
_VALUE_RULES: Mapping[str, re.Pattern[str]] = {
    "phone": re.compile(
        r"(?<!\d)0\d{2,3}[-\s]?\d{7,8}(?!\d)|(?<!\d)(?:\d\s){9,11}\d(?!\d)|(?<!\d)1[3-9]\d{9}(?!\d)|"
        r"(?<!\d)\d{3,4}-\d{7,8}(?!\d)|电话|電話|\bphone\b|\bnumber is 0",
        re.IGNORECASE),
    "postcode": re.compile(
        r"(?<![A-Za-z0-9])[a-z]{1,2}\d{1,2}\s?\d[a-z]{2}(?![A-Za-z0-9])|邮编|郵編|邮政编码|郵政編碼|"
        r"\bpost ?code\b",
        re.IGNORECASE),
    "reference": re.compile(
        r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]{8}(?![A-Za-z0-9]))(?=[A-Za-z]*\d)(?=\d*[A-Za-z])"
        r"(?![Tt][Rr]\d{4})[A-Za-z0-9]{8}|参考|參考|编号|編號|\breference\b|\bref\b|\bconfirmation\b",
        re.IGNORECASE),
    "train_id": re.compile(
        r"(?<![A-Za-z0-9])tr\s?\d{4}(?!\d)|车次|車次|列车号|列車號|(?:火车|火車|列车|列車)\s?id(?![a-z])|"
        r"\btrain id\b", re.IGNORECASE),
    "car": re.compile(
        r"\b(?:black|white|red|blue|grey|gray|yellow|silver)\s+(?:\w+\s+)?(?:car|toyota|ford|audi|bmw|"
        r"honda|tesla|volvo|skoda|volkswagen|lexus|kia|hyundai|mercedes)|"
        r"[黑白红紅蓝藍灰黄黃银銀]色的?.{0,6}(?:车|車|丰田|豐田|福特|奥迪|奧迪|宝马|寶馬|本田|特斯拉|沃尔沃|"
        r"沃爾沃|斯柯达|大众|大眾|雷克萨斯|起亚|现代|奔驰|賓士)|车型|車型|汽车类型|汽車類型|车辆类型|車輛類型|"
        r"车的类型|車的類型|汽车的类型|汽車的類型|什么车(?!次)|什麼車(?!次)|\bcar type\b",
        re.IGNORECASE),
    "price": re.compile(
        r"[¥￥$£€]\s*\d|\d+(?:\.\d+)?\s*(?:元|块|塊|英镑|英鎊|镑|磅|美元|欧元|rmb|yuan|pounds?|gbp|dollars?|"
        r"usd|eur)|免费|免費|\bfree\b|票价|票價|价格|價格|价钱|價錢|人均|(?<![张張的])(?:门票|門票)|入场费|入場費|费用|費用|收费|收費|"
        r"运费|運費|多少钱|多少錢|\bprice\b|\bcost\b|"
        r"\bfee\b|\bfare\b",
        re.IGNORECASE),
    "price_range": re.compile(
        r"便宜|昂贵|昂貴|价格适中|價格適中|适中|適中|中等价位|高档|高檔|价格范围|價格範圍|价格区间|價格區間|价位|價位|"
        r"\bcheap\b|\bexpensive\b|"
        r"\bmoderate(?:ly)?\b|\bprice range\b",
        re.IGNORECASE),
    "clock": re.compile(
        r"\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*(?:点|點)(?:\d{1,2}分)?|\b\d{1,2}\s*(?:am|pm)\b|营业时间|營業時間|"
        r"\bleaves?\b|\bdepart|\barriv|出发|出發|到达|到達|离开|離開",
        re.IGNORECASE),
    "duration": re.compile(
        r"\d+(?:\.\d+)?\s*(?:分钟|分鐘|小时|小時|个小时|個小時|天)|[一二三四五六七八九十两兩半]+\s*(?:分钟|分鐘|"
        r"小时|小時|个小时|個小時)|\b\d+(?:\.\d+)?\s*(?:minutes?|mins?|hours?|hrs?)\b|游玩时间|遊玩時間|"
        r"行程|车程|車程|旅程|多长时间|多長時間|多久|(?:旅行|行驶|行駛|行车|行車|乘车|乘車|火车|火車)的?(?:时间|時間)|"
        r"持续时间|持續時間|耗时|耗時|\btravel time\b|"
        r"\bduration\b|\btakes?\b",
        re.IGNORECASE),
    "day": re.compile(
        r"星期[一二三四五六日天]|周[一二三四五六日天]|週[一二三四五六日天]|\b(?:monday|tuesday|wednesday|"
        r"thursday|friday|saturday|sunday)\b",
        re.IGNORECASE),
    "address": re.compile(
        r"地址|(?:位于|位於)(?!.{0,3}(?:中心|城|[东南西北東][部侧側边邊]))|"
        r".{1,12}(?:(?<![铁鐵])路(?![线線程上口])|街|胡同|大道|巷)\d*号?|\d+号|\d+號|"
        r"\baddress\b|\bstreet\b|\broad\b|"
        r"\blane\b|\bavenue\b|\bhill\b|\bparkside\b|\blocated (?:at|on)\b",
        re.IGNORECASE),
    "area": re.compile(
        r"[东南西北東]部|[东南西北東](?:侧|側|边|邊)|市中心|中心|城北|城南|城东|城東|城西|(?:东|西|南|北|朝阳|朝陽|海淀|丰台|豐台|东城|東城|"
        r"西城|石景山|通州|昌平|大兴|大興|顺义|順義|怀柔|懷柔|密云|密雲|延庆|延慶|房山|门头沟|門頭溝|平谷)区|"
        r"区域|區域|地区|地區|哪个区|哪個區|\b(?:north|south|east|west|centre|center|downtown)\b|\barea\b",
        re.IGNORECASE),
    "rating": re.compile(
        r"\d(?:\.\d)?\s*(?:星|颗星|顆星|分(?![钟鐘]))|[一二三四五]\s*(?:星|颗星|顆星)|星级|星級|评分|評分|"
        r"\bstars?\b|\brating\b|\brated\b",  # "4-star", "five stars", "how many stars"
        re.IGNORECASE),
    "amenity": re.compile(
        r"网络|網絡|互联网|互聯網|上网|上網|无线|無線|wifi|wi-fi|停车|停車|暖气|暖氣|早餐|空调|空調|洗衣|有.{0,3}泳池|健身|接机|接機|行李|会议室|會議室|"
        r"\binternet\b|\bparking\b|\bbreakfast\b",
        re.IGNORECASE),
    "food": re.compile(
        r"菜|料理|小吃|食物|美食|烤鸭|烤鴨|火锅|火鍋|烧烤|燒烤|自助|\b(?:food|cuisine|dishes|serves?|british|chinese|"
        r"indian|italian|european|thai|french|asian|korean|mexican|japanese|spanish|vegetarian|"
        r"mediterranean|turkish|gastropub|seafood|lebanese|african|portuguese|international)\b",
        re.IGNORECASE),
    "count": re.compile(
        r"\d+\s*(?:家|个|個|所|间|間|条|條|种|種|趟|班|列)|[两兩二三四五六七八九十几幾]+\s*(?:家|所|间|間|趟|班|列)|"
        r"\b(?:\d+|two|three|four|five|six|seven|eight|nine|ten|several|many)\s+(?:options|results|"
        r"entries|places|restaurants|hotels|guesthouses|trains|attractions|colleges|museums|choices)\b",
        re.IGNORECASE),
    "none_found": re.compile(
        r"没有找到|沒有找到|没有符合|沒有符合|没有查到|沒有查到|找不到|没有(?:这样|這樣|满足|滿足)|无法|無法|"
        r"抱歉|报歉|对不起|對不起|不好意思|遗憾|遺憾|不幸|不提供|没有哦|没有.{0,8}信息|沒有.{0,8}信息|"
        r"\bsorry\b|\bunfortunately\b|\bno (?:\w+ )?(?:available|"
        r"matches|results)\b|\bthere (?:are|is) no\b|\bcould ?n[o']t find\b|\bunable\b|\bnot available\b|"
        r"\bdoes ?n[o']t have\b|\bno entries\b",
        re.IGNORECASE),
    "yes_no": _ANSWER_RULES["yes_no"],
    "asks_back": _ANSWER_RULES["asks_back"],
}

VALUE_KINDS: tuple[str, ...] = tuple(_VALUE_RULES)

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


def value_kinds(text: str) -> frozenset[str]:
    """The kinds of value ``text`` carries (any of :data:`VALUE_KINDS`).

    Example:
        >>> sorted(value_kinds("The phone number is 01223362433 and the postcode is cb21qy."))
        ['phone', 'postcode']
        >>> sorted(value_kinds("抱歉，没有找到符合条件的餐馆。"))
        ['none_found']
    """
    if not isinstance(text, str) or not text.strip():
        return frozenset()
    s = text.strip()
    return frozenset(name for name, pattern in _VALUE_RULES.items() if pattern.search(s))


def type_agreement(question: str, reply: str) -> bool | None:
    """Does ``reply`` carry an answer of the kind ``question`` asks for?

    Returns ``None`` when the question's type is unknown (no evidence either way).
    """
    qtype = question_type(question)
    if qtype is None:
        return None
    return bool(EXPECTED_ANSWERS[qtype] & answer_types(reply))
