"""Phrase banks of version 4 of the service-dialogue generator: warm turns in the middle of
a chat that are not sarcastic.

A customer with a problem is asked for an order number, a phone number or a photo, gives
it, and adds a thanks; or is told a plain fact and thanks the agent for it; or says
something pleased and asks the next question. Such turns follow a complaint and an agent
reply that has not solved anything yet: the context the irony banks teach to read as "a
polite reply that does not help". What makes them sincere is in the turn: it cooperates
(it carries the requested information or moves the conversation on). Trained as not
sarcastic, they teach the sarcasm head that difference.

Written for the project, without reading the challenge set or the first two dev sets; the
third dev set's misread turns (benchmarks/data/emotion_dev3.jsonl, mid-dialogue turns) had
been seen before these banks were written, and no phrase of it was copied. Values (order
numbers, phones, dates) are drawn by the generator.
"""

from __future__ import annotations

import random
import string

# (agent's request, kind of value asked for), per language
ASKS: dict[str, list[tuple[str, str]]] = {
    "zh": [
        ("麻烦您提供一下订单号,我这边帮您查一下", "order"),
        ("请问您的订单编号是多少?", "order"),
        ("可以告诉我下单时留的手机号吗?", "phone"),
        ("方便留一个联系电话吗,师傅上门前会先打给您", "phone"),
        ("请问收件人姓名是?", "name"),
        ("麻烦拍一张商品破损的照片发给我", "photo"),
        ("能发一下付款记录的截图吗?", "photo"),
        ("请提供一下新的收货地址", "address"),
        ("请问您是哪天下的单?", "date"),
        ("麻烦报一下快递单号", "tracking"),
        ("请问机器背面的型号是多少?", "model"),
        ("您的会员账号是哪个?", "account"),
    ],
    "zh-tw": [
        ("麻煩提供一下訂單編號,我幫您查詢", "order"),
        ("可以告訴我訂購時留的手機號碼嗎?", "phone"),
        ("請問收件人的名字是?", "name"),
        ("麻煩拍一張損壞的照片給我", "photo"),
        ("請提供新的收件地址", "address"),
        ("請問是哪一天下單的?", "date"),
        ("麻煩給我物流單號", "tracking"),
    ],
    "en": [
        ("Could you give me your order number so I can look into it?", "order"),
        ("What's the order reference, please?", "order"),
        ("Can I have the phone number on the account?", "phone"),
        ("What's the best number for the technician to call you on?", "phone"),
        ("Whose name is the booking under?", "name"),
        ("Could you send a photo of the damage?", "photo"),
        ("Can you attach a screenshot of the error?", "photo"),
        ("What address should we send the replacement to?", "address"),
        ("Which date did you place the order?", "date"),
        ("Do you have the tracking number?", "tracking"),
        ("What's the model number on the back of the unit?", "model"),
        ("Which email address is the account registered with?", "account"),
    ],
}

# the customer's answer to a request, with {v} for the value, per language and kind
ANSWERS: dict[str, dict[str, list[str]]] = {
    "zh": {
        "order": ["订单号{v}", "好的,是{v}", "嗯,{v}", "单号是{v}"],
        "phone": ["手机号{v}", "打{v}就行", "留的是{v}"],
        "name": ["收件人是{v}", "写的{v}", "{v},是我本人"],
        "photo": ["照片发过去了", "截图在这 [图片]", "拍好了,你看下", "发了两张图"],
        "address": ["改成{v}", "新地址:{v}", "寄到{v}"],
        "date": ["{v}下的单", "是{v}", "应该是{v}那天"],
        "tracking": ["快递单号{v}", "是{v}"],
        "model": ["型号是{v}", "背面写的{v}"],
        "account": ["账号{v}", "是{v}这个"],
    },
    "zh-tw": {
        "order": ["訂單編號{v}", "好的,是{v}", "編號是{v}"],
        "phone": ["手機是{v}", "打{v}就可以"],
        "name": ["收件人是{v}", "寫的是{v}"],
        "photo": ["照片傳過去了", "拍好了,你看一下"],
        "address": ["改成{v}", "新地址是{v}"],
        "date": ["{v}訂的", "是{v}"],
        "tracking": ["單號是{v}"],
    },
    "en": {
        "order": ["it's {v}", "sure, order {v}", "{v}", "the reference is {v}"],
        "phone": ["{v}", "you can call me on {v}", "it's {v}"],
        "name": ["it's under {v}", "{v}", "the name is {v}"],
        "photo": ["photo attached", "just sent the screenshot", "here you go [image]",
                  "sent two pictures"],
        "address": ["please send it to {v}", "{v}", "new address is {v}"],
        "date": ["on {v}", "I ordered it on {v}", "{v} I think"],
        "tracking": ["it's {v}", "tracking is {v}"],
        "model": ["it says {v}", "model {v}"],
        "account": ["{v}", "it's {v}"],
    },
}

# warm words added to a cooperative answer (or said alone after plain information)
WARM: dict[str, list[str]] = {
    "zh": ["谢谢", "谢谢你", "麻烦了", "麻烦您了", "多谢", "谢谢帮忙", "感谢", "辛苦", "谢啦",
           "劳烦了"],
    "zh-tw": ["謝謝", "麻煩了", "感謝", "謝謝幫忙", "多謝"],
    "en": ["thanks", "thank you", "thanks a lot", "much appreciated", "thanks for the help",
           "cheers", "thank you so much", "thanks for looking", "many thanks", "ta"],
}

# (agent's plain information, the customer's acknowledgement), per language
INFORMED: dict[str, list[tuple[str, str]]] = {
    "zh": [
        ("退款会在1到3个工作日原路退回", "好的明白了,谢谢"),
        ("这款面膜保质期是三年,开封后建议半年内用完", "哦哦知道了,谢谢你"),
        ("门店营业时间是早上十点到晚上九点", "好的,那我周末过去,谢谢"),
        ("这个型号支持七天无理由退货", "了解,谢谢告知"),
        ("快递目前在转运中心,预计后天送达", "行,那我等着,谢谢"),
        ("会员积分可以抵扣百分之十的金额", "原来是这样,感谢"),
        ("安装师傅需要提前一天预约", "好的,我明天约一下,谢谢"),
        ("发票会在确认收货后开具", "明白,多谢"),
    ],
    "zh-tw": [
        ("退款會在三個工作天內退回", "好的了解,謝謝"),
        ("門市營業到晚上九點", "好,那我下班過去,謝謝"),
        ("這款可以七天內退貨", "知道了,感謝"),
    ],
    "en": [
        ("Refunds go back to the original card within 3 to 5 business days",
         "ok got it, thanks"),
        ("The store is open from 10 am to 9 pm", "great, I'll pop in after work, thanks"),
        ("That model comes with a two-year warranty", "good to hear, thank you"),
        ("Your parcel is at the local depot and should arrive on Thursday",
         "alright, I'll keep an eye out, thanks"),
        ("Installation has to be booked a day in advance", "makes sense, thanks for letting me know"),
        ("Points can cover up to 10% of an order", "oh nice, didn't know that, thanks"),
        ("The invoice is issued once you confirm delivery", "understood, thanks"),
        ("You can change the delivery slot in the app under My Orders",
         "found it, thank you"),
    ],
}

# a pleased remark and the next question, after an agent's helpful answer, per language
FOLLOWUPS: dict[str, list[str]] = {
    "zh": ["太好了,那运费谁出呀?", "不错不错,那能开发票吗?", "好的好的,顺便问下有没有赠品",
           "那挺好,我还想问下尺码", "哈哈可以,那什么时候发货?"],
    "zh-tw": ["太好了,那運費怎麼算?", "不錯喔,那可以開發票嗎?"],
    "en": ["perfect, and what about the charger?", "great, can I also change the colour?",
           "lovely, one more thing: is there a warranty?", "nice one. does it come with a case?",
           "awesome, how long does shipping take?"],
}
HELPFUL: dict[str, list[str]] = {
    "zh": ["可以的,已经帮您备注了", "有的,这款现货充足", "没问题,已经帮您改好了"],
    "zh-tw": ["可以的,已經幫您備註了", "沒問題,已經改好了"],
    "en": ["Yes, I've added a note to your order", "Sure, that's in stock", "No problem, done"],
}

_NAMES = {"zh": ["王静", "李伟", "张敏", "刘洋", "陈晨"], "zh-tw": ["林怡君", "陳家豪", "黃雅婷"],
          "en": ["Anna Park", "Tom Reed", "Priya Shah", "Luis Ortega", "Mei Chen"]}
_PLACES = {"zh": ["上海市浦东新区张杨路500号", "北京市朝阳区建国路88号", "杭州市西湖区文三路20号"],
           "zh-tw": ["台北市大安區復興南路一段100號", "高雄市苓雅區三多四路50號"],
           "en": ["14 Mill Lane, Leeds LS6 2QT", "220 Pine St, Apt 4B, Seattle",
                  "7 Rue de la Paix, Lyon"]}
_DATES = {"zh": ["3月5号", "上周二", "11月20日", "前天"], "zh-tw": ["3月5號", "上週二", "前天"],
          "en": ["March 5th", "last Tuesday", "the 20th", "two days ago"]}


def _value(rng: random.Random, lang: str, kind: str) -> str:
    def digits(n: int) -> str:
        return "".join(rng.choice(string.digits) for _ in range(n))

    if kind == "order":
        return rng.choice([digits(12), f"{rng.choice('ABCDEFGH')}{digits(8)}", f"20{digits(14)}"])
    if kind == "phone":
        return "1" + rng.choice("3589") + digits(9) if lang != "en" else f"07{digits(3)} {digits(6)}"
    if kind == "name":
        return rng.choice(_NAMES[lang])
    if kind == "address":
        return rng.choice(_PLACES[lang])
    if kind == "date":
        return rng.choice(_DATES[lang])
    if kind == "tracking":
        return rng.choice(["SF", "YT", "JD", "1Z"]) + digits(10)
    if kind == "model":
        return f"{rng.choice(['XQG', 'KFR', 'WM', 'HX'])}-{digits(3)}{rng.choice('ABCD')}"
    if kind == "account":
        return (f"user{digits(4)}@example.com" if lang == "en" else "尾号" + digits(4))
    return ""


def cooperative_turns(rng: random.Random, lang: str) -> tuple[list[dict[str, str]], str]:
    """(the turns after the customer's problem, the kind): the agent's request and the
    customer's answer with warm words, the agent's plain information and the customer's
    thanks, or a helpful reply and a pleased follow-up question. The last turn is the
    sincere, warm one."""
    shape = rng.random()
    if shape < 0.55:
        ask, kind = rng.choice(ASKS[lang])
        answer = rng.choice(ANSWERS[lang][kind]).replace("{v}", _value(rng, lang, kind))
        warm = rng.choice(WARM[lang])
        sep = rng.choice([", ", ". ", " "]) if lang == "en" else rng.choice([",", " ", "。"])
        text = answer + sep + warm
        if lang == "en" and rng.random() < 0.5:
            text = rng.choice(["Sure, ", "Yes, ", "Ok ", ""]) + text
        return [{"role": "agent", "text": ask}, {"role": "customer", "text": text}], "cooperative"
    if shape < 0.85:
        info, thanks = rng.choice(INFORMED[lang])
        return [{"role": "agent", "text": info},
                {"role": "customer", "text": thanks}], "thanks_for_information"
    return [{"role": "agent", "text": rng.choice(HELPFUL[lang])},
            {"role": "customer", "text": rng.choice(FOLLOWUPS[lang])}], "polite_followup"
