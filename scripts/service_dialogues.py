"""Synthetic customer-service dialogues with emotion and sarcasm labels (zh, zh-tw, en).

Public emotion data (GoEmotions: Reddit; CPED: TV series; MUStARD: sitcoms) has no
customer-service turns, no "impatient" class and no sarcastic thanks after a failed
delivery. This generator composes short service dialogues from phrase banks written for
the project: a customer's problem, an agent reply that either solves it or does not, and a
closing customer turn. The same closing words ("谢谢你", "thanks a lot", "太好了") appear
after both kinds of reply, so only the context tells sincere thanks from sarcastic thanks.

It is training data for the shipped default emotion model (see
``scripts/train_emotion_default.py``). The evaluation challenge set in
``tests/data/emotion_challenge.jsonl`` was written separately, by hand, without these
phrase banks; the two share no dialogue.

    python scripts/service_dialogues.py --n 2000 > /tmp/service.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

# (customer problem, agent reply that fails, agent reply that solves), per language
PROBLEMS: dict[str, list[tuple[str, list[str], list[str]]]] = {
    "zh": [
        ("我的快递一个星期了还没到", ["请您再耐心等待", "物流的事我们也没办法", "系统显示正常,请继续等待"],
         ["帮您查到了,包裹今天下午送达", "已经为您催促快递,明天一早送到", "给您重新安排了顺丰,明天到"]),
        ("收到的面膜盒子是破的", ["这个不在我们的售后范围", "您可以联系快递公司", "请您自行处理一下"],
         ["非常抱歉,已经给您补发一盒新的", "马上给您换新,运费我们承担", "已经给您退了这盒的钱"]),
        ("申请退款三天了还没处理", ["退款需要等待审核,请耐心等待", "这个我也不清楚", "请您重新提交一次申请"],
         ["已经给您加急处理,退款已到账", "查到了,退款刚刚原路退回", "帮您特殊处理了,钱已经退了"]),
        ("发错货了,我买的是B款", ["您可以自己再下单B款", "这个需要您先寄回来,运费自理", "请核对一下订单"],
         ["抱歉,马上给您补发B款,不用寄回", "已经安排换货,快递员明天上门取件", "B款已经发出,单号发您了"]),
        ("优惠券用不了", ["优惠券有使用规则,请您自己看一下", "这个是系统问题,我们处理不了", "请您稍后再试"],
         ["帮您重新发了一张,已经可以用了", "已经给您手动改价,按优惠后付款就行", "问题已修复,现在可以正常使用"]),
        ("洗衣机装好第二天就坏了", ["请您联系厂家售后", "这个需要您自己送修", "人为损坏不在保修范围"],
         ["已经给您安排换新机,明天送到", "师傅今天下午上门维修,费用全免", "给您办理了退货退款"]),
        ("我的订单被取消了,为什么", ["系统自动取消的,我们也不知道", "请您重新下单", "这个没办法恢复"],
         ["查到了,已经帮您恢复订单并正常发货", "是系统误判,订单已恢复,送您一张券", "已经恢复订单,价格保持不变"]),
        ("外卖送了一个半小时还没到", ["高峰期请您理解", "骑手也很辛苦,请再等等", "这个我们管不了"],
         ["已经给您全额退款,餐也马上送到", "帮您联系了骑手,五分钟内到,另外补偿您一张券", "已经为您重新安排送餐并退款"]),
        ("手机套餐多扣了我五十块钱", ["扣费是正常的,请查看套餐说明", "这个需要您去营业厅办理", "我们这边查不到问题"],
         ["核实是系统错误,五十元已退回您的账户", "已经退还多扣的费用", "帮您退了钱,套餐也调整好了"]),
        ("我要改签航班,怎么一直改不了", ["改签需要您自己在app操作", "目前无法为您处理", "请您稍后再联系我们"],
         ["已经帮您改签到明天上午九点的航班", "改签成功,不收手续费", "已为您改签,新的行程单发到您手机了"]),
    ],
    "zh-tw": [
        ("我的包裹一個禮拜了還沒到", ["請您再耐心等候", "物流的問題我們也沒辦法", "系統顯示正常,請繼續等"],
         ["幫您查到了,包裹今天下午會送到", "已經幫您催件,明天一早送達", "已經改派,明天就到"]),
        ("收到的商品是壞的", ["這不在我們的售後範圍", "請您自行聯絡廠商", "這個我們沒辦法處理"],
         ["非常抱歉,已經幫您補寄一個新的", "馬上幫您換新,運費由我們負擔", "已經幫您退款了"]),
        ("退款申請好幾天了都沒下文", ["退款需要審核,請耐心等候", "這個我也不清楚", "請您重新申請一次"],
         ["已經幫您加急處理,款項已退回", "退款剛剛已經退回您的帳戶", "已經特別處理,錢退好了"]),
        ("帳單多扣了我一筆錢", ["扣款是正常的", "請您到門市辦理", "我們這邊查不到"],
         ["確認是系統錯誤,已經退回給您", "多扣的費用已經退還", "已經幫您處理好並退款"]),
    ],
    "en": [
        ("My parcel was supposed to arrive a week ago", ["Please wait a little longer", "Delivery issues are out of our hands", "The system says it's on its way, please keep waiting"],
         ["I found it, your parcel will arrive this afternoon", "I've escalated it and it will be delivered tomorrow morning", "I've re-sent it by express, it arrives tomorrow"]),
        ("The box arrived broken", ["That's not covered by our policy", "Please contact the courier", "You'll have to sort that out yourself"],
         ["So sorry, a new one is on its way at no cost", "I've sent a replacement and a return label", "I've refunded the full amount"]),
        ("I asked for a refund three days ago and nothing happened", ["Refunds take time, please be patient", "I don't have any information on that", "Please submit the request again"],
         ["I've pushed it through, the refund is in your account now", "Your refund has just been processed", "Done, the money is back on your card"]),
        ("You sent me the wrong size", ["You can place a new order for the right size", "You need to send it back at your own cost first", "Please check your order details"],
         ["Sorry about that, the right size ships today, keep the other one", "A courier will pick it up tomorrow and the new one is already on its way", "The correct size has been sent, here's the tracking number"]),
        ("My coupon code doesn't work", ["Please read the coupon terms", "That's a system problem we can't fix", "Try again later"],
         ["I've issued a new code, it works now", "I've applied the discount manually for you", "It's fixed, you can use it now"]),
        ("My washing machine broke the day after installation", ["Please contact the manufacturer", "You'll need to take it to a repair shop", "Damage like that isn't covered"],
         ["A replacement will be delivered tomorrow", "A technician is coming this afternoon, free of charge", "I've arranged a full refund and pickup"]),
        ("My order got cancelled and I don't know why", ["It was cancelled automatically, I can't say why", "Please order again", "There's nothing I can do"],
         ["It was a system error, I've restored your order and it ships today", "Your order is back and I've added a voucher for the trouble", "Restored, and the price stays the same"]),
        ("My food has been on the way for 90 minutes", ["It's peak time, please understand", "The riders are busy, please wait", "We can't control that"],
         ["I've refunded the order and the food is arriving in five minutes", "I called the rider, it's two minutes away, plus a voucher for you", "Full refund issued and a new order is on its way"]),
        ("I was overcharged 50 dollars on my phone bill", ["The charge is correct, please check your plan", "You'll have to visit a store for that", "I can't see any problem on our side"],
         ["It was our error, the 50 dollars are back in your account", "I've refunded the extra charge", "Refunded, and your plan is fixed"]),
        ("I can't change my flight in the app", ["You need to do that in the app yourself", "We can't help with that right now", "Please call again later"],
         ["I've moved you to the 9 am flight tomorrow", "Changed, with no fee", "Done, your new itinerary is in your inbox"]),
    ],
}

THANKS = {
    "zh": ["谢谢你", "谢谢啊", "太好了", "真是太感谢了", "好的,谢谢", "谢谢你们", "你们真是太棒了", "太感谢了",
           "行,谢谢", "非常感谢", "真好", "好的呢,谢谢亲"],
    "zh-tw": ["謝謝你", "太好了", "真是太感謝了", "好的,謝謝", "你們真是太棒了", "非常感謝", "多謝"],
    "en": ["thanks", "thanks a lot", "great, thank you", "wonderful, thank you so much", "great job",
           "thank you very much", "perfect, thanks", "amazing, thanks", "ok, thanks", "you're the best"],
}

OTHER: dict[str, dict[str, list[str]]] = {
    "zh": {
        "angry": ["你们这是什么服务!", "太过分了,我要投诉你们", "骗子,再也不会买了", "气死我了,到底管不管"],
        "dissatisfied": ["这样处理我不能接受", "你们的售后太差了", "这个答复我不满意", "说了半天等于没说"],
        "disappointed": ["本来很期待的,结果太失望了", "唉,没想到会这样", "原来是这样,有点失望"],
        "impatient": ["在吗?在吗?怎么还不回", "快点行不行", "到底什么时候能好,我等不了了", "别让我一直等啊", "能不能快点处理"],
        "confused": ["这个优惠券到底怎么用?", "没看懂,什么意思?", "我该选哪个尺码啊,搞不清楚", "为什么显示已签收?我没收到啊"],
        "anxious": ["明天就要用了,来不及怎么办", "会不会丢件啊,好担心", "宝宝过敏了,这个还能用吗"],
        "hopeful": ["希望周五前能到", "要是能赶上生日就好了", "期待新款早点上架"],
        "sad": ["这是送妈妈的最后一份礼物,结果坏了", "心情很差,东西也没了"],
        "neutral": ["这款有没有大码?", "发什么快递?", "几点下班?", "我想查一下订单"],
        "satisfied": ["东西收到了,质量不错", "用了一周,效果挺好", "包装很好,满意"],
        "happy": ["哈哈终于到了,开心", "太开心了,抢到了"],
    },
    "en": {
        "angry": ["This is outrageous, I'm filing a complaint", "What a joke of a service!", "I'm furious, never buying here again"],
        "dissatisfied": ["That answer doesn't help me at all", "Your after-sales service is terrible", "That's not acceptable"],
        "disappointed": ["I expected much more, honestly disappointed", "Sadly this is not what I hoped for"],
        "impatient": ["Hello?? Anyone there?", "Hurry up please, I've been waiting 20 minutes", "How much longer is this going to take?", "Can you speed this up"],
        "confused": ["I don't understand how this coupon works", "What do you mean? I'm confused", "Which size should I pick? The chart makes no sense"],
        "anxious": ["I need it tomorrow, what if it doesn't arrive?", "I'm worried the package got lost", "Is it safe for my baby? I'm nervous"],
        "hopeful": ["Hope it arrives before Friday", "Fingers crossed it makes it for the birthday"],
        "sad": ["It was a gift for my late mother, and it's broken", "I'm really upset, it was irreplaceable"],
        "neutral": ["Do you have this in XL?", "Which courier do you use?", "I'd like to check my order"],
        "satisfied": ["Got it, the quality is good", "Works well, I'm satisfied"],
        "happy": ["Yay, it's finally here!", "So happy I got one"],
    },
}

APOLOGIES = {
    "zh": ["非常抱歉给您带来不便", "实在不好意思,是我们的失误", "抱歉让您久等了", "真的很抱歉,我们马上处理"],
    "zh-tw": ["非常抱歉造成您的不便", "真的很不好意思,是我們的疏失"],
    "en": ["I'm so sorry for the inconvenience", "My apologies, that was our mistake", "Sorry to keep you waiting"],
}

NEGATIVE = ("angry", "dissatisfied", "disappointed")


def generate(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` labelled dialogues: a third sarcastic thanks, a third sincere thanks, a third
    other emotions and agent apologies. Deterministic for a seed."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    langs = ["zh", "zh", "en", "en", "zh-tw"]
    for i in range(n):
        lang = rng.choice(langs)
        kind = i % 3
        problem, fails, solves = rng.choice(PROBLEMS[lang])
        if kind in (0, 1):
            failed = kind == 0
            reply = rng.choice(fails if failed else solves)
            turns = [{"role": "customer", "text": problem}, {"role": "agent", "text": reply}]
            if failed and rng.random() < 0.4:  # a second round that fails too
                turns += [{"role": "customer", "text": problem}, {"role": "agent",
                                                                  "text": rng.choice(fails)}]
            turns.append({"role": "customer", "text": rng.choice(THANKS[lang])})
            emotion = rng.choice(NEGATIVE) if failed else rng.choice(
                ("grateful", "grateful", "grateful", "satisfied"))
            out.append({"turns": turns, "emotion": emotion, "sarcastic": failed,
                        "lang": lang, "kind": "sarcastic_thanks" if failed else "sincere_thanks"})
            continue
        if rng.random() < 0.25:
            turns = [{"role": "customer", "text": problem},
                     {"role": "agent", "text": rng.choice(APOLOGIES[lang])}]
            out.append({"turns": turns, "emotion": "apologetic", "sarcastic": False,
                        "lang": lang, "kind": "agent_apology"})
            continue
        bank = OTHER["zh" if lang == "zh-tw" else lang]
        emotion = rng.choice(sorted(bank))
        turns = []
        if rng.random() < 0.6:
            turns = [{"role": "customer", "text": problem},
                     {"role": "agent", "text": rng.choice(fails + solves)}]
        turns.append({"role": "customer", "text": rng.choice(bank[emotion])})
        out.append({"turns": turns, "emotion": emotion, "sarcastic": False, "lang": lang,
                    "kind": emotion})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for row in generate(args.n, args.seed):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
