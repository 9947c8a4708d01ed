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

# ---------------------------------------------------------------- hard cases (version 2)
# More problems, each with replies that fail and replies that settle it; the held-out split
# (``split="heldout"``) keeps every fourth problem of each bank out of ``split="train"`` so
# that choices (features, threshold) are judged on problems the model has not seen.
MORE_PROBLEMS: dict[str, list[tuple[str, list[str], list[str]]]] = {
    "zh": [
        ("买的耳机左耳没有声音", ["可能是您使用不当造成的", "耳机属于易损品,不支持售后", "建议您重启一下手机试试"],
         ["已经给您登记换货,新耳机今天发出", "确认是质量问题,直接给您退款了", "给您补发了一副新的,旧的不用寄回"]),
        ("衣服洗了一次就掉色严重", ["掉色是正常现象", "洗涤方式不对我们不负责", "超过七天了没法处理"],
         ["给您申请了全额退款,衣服不用退回", "已经给您换一件新的,今天发货", "给您补偿了五十元,已经打到账户"]),
        ("会员续费扣了两次钱", ["重复扣款需要您去银行查询", "系统扣款不会出错的", "请提供银行流水,我们再研究"],
         ["核实了,多扣的那笔已经原路退回", "重复的费用已经给您退掉了,三分钟内到账", "已经撤销了第二笔扣款"]),
        ("买的蛋糕送来已经压坏了", ["配送过程难免有磕碰", "蛋糕类商品不支持退换", "您可以找骑手协商"],
         ["马上给您重新做一个送过去,半小时到", "已经给您全额退款,再送您一张优惠券", "已安排重新配送,费用我们承担"]),
        ("快递员没打电话就把包裹放门口丢了", ["放门口是快递公司的规定", "丢件的事找快递公司", "我们这边没有办法核实"],
         ["已经给您重新发一份,明天送到", "核实后已经全额赔付给您", "补发的包裹已经出库,单号发您了"]),
        ("账号被锁了登不上去", ["账号锁定后需要等七天自动解锁", "这个是安全机制,没办法", "请您自己找回密码"],
         ["已经帮您解锁了,现在可以登录", "身份核实通过,账号已恢复正常", "帮您重置好了,新密码发到手机上了"]),
        ("预约的安装师傅一直没来", ["师傅都很忙,请您再等等", "安装是第三方负责的", "请您重新预约"],
         ["师傅已经在路上了,二十分钟到", "重新给您安排了师傅,今天下午两点上门", "已经联系好了,明早九点准时上门"]),
        ("发票开错了抬头", ["发票开出后不能修改", "请您自己联系财务", "这个我们处理不了"],
         ["已经给您重新开好了,发到邮箱了", "作废重开了,新发票已经发送", "改好了,电子发票五分钟内发您"]),
        ("我买的东西第二天就降价了", ["价格波动是正常的", "已经下单的不能保价", "活动规则就是这样"],
         ["已经给您退了差价,三十元到账了", "帮您申请了价保,差价已经退回", "给您补了差价,请查收"]),
        ("话费充值了一直没到账", ["充值高峰期请耐心等待", "可能是您号码输错了", "我们这边显示成功了"],
         ["查到了,已经给您补充值成功", "充值已经到账了,您刷新一下", "帮您退回了充值款并重新充好了"]),
    ],
    "zh-tw": [
        ("耳機左邊沒有聲音", ["可能是您使用不當", "耳機屬於消耗品,不提供售後", "請您重開機試試看"],
         ["已經幫您登記換貨,新的今天寄出", "確認是品質問題,直接幫您退款了", "幫您補寄一副新的,舊的不用寄回"]),
        ("外送等了一個多小時還沒到", ["尖峰時段請您見諒", "外送員也很辛苦,請再等等", "這個我們管不到"],
         ["已經幫您全額退款,餐點也馬上送到", "已經聯絡外送員,五分鐘內到,另外補償您一張折價券", "已經重新安排送餐並退款"]),
        ("優惠碼一直不能用", ["優惠碼有使用規則,請自行查看", "這是系統問題,我們沒辦法", "請稍後再試"],
         ["幫您重新發了一組,現在可以用了", "已經手動幫您折扣了", "問題已修復,現在可以正常使用"]),
        ("會員被重複扣款", ["重複扣款請您去問銀行", "系統不會出錯的", "請提供銀行明細,我們再研究"],
         ["核對過了,多扣的已經退回", "重複的費用已經幫您退掉", "已經取消第二筆扣款了"]),
        ("訂單被取消了,為什麼", ["系統自動取消的,我們也不知道", "請您重新下單", "這個沒辦法恢復"],
         ["查到了,已經幫您恢復訂單並正常出貨", "是系統誤判,訂單已恢復,再送您一張券", "訂單已恢復,價格不變"]),
        ("帳號被鎖住登不進去", ["帳號鎖定後要等七天", "這是安全機制,沒辦法", "請您自己重設密碼"],
         ["已經幫您解鎖了,現在可以登入", "身分核對通過,帳號已恢復", "幫您重設好了,新密碼已傳到手機"]),
    ],
    "en": [
        ("My headphones stopped working on the left side", ["That's probably user damage", "Headphones aren't covered after opening", "Have you tried restarting your phone?"],
         ["I've logged an exchange, new ones ship today", "It's a known defect, I've refunded you in full", "A new pair is on its way, no need to return the old ones"]),
        ("The sweater lost its colour after one wash", ["Some fading is normal", "We aren't responsible for washing damage", "It's past the 7-day window"],
         ["I've refunded you in full, keep the sweater", "A new one ships today", "I've credited 20 dollars to your account"]),
        ("I was billed twice for my subscription", ["Please ask your bank about duplicate charges", "Our system doesn't make billing errors", "Send us a bank statement and we'll look into it eventually"],
         ["Confirmed, the second charge has been reversed", "The duplicate charge is refunded, it'll show in minutes", "I've cancelled the extra payment"]),
        ("The cake arrived completely squashed", ["Minor damage happens in transit", "Cakes can't be returned", "Please take it up with the driver"],
         ["A fresh one is being made and will be there in 30 minutes", "Full refund done, plus a voucher for next time", "I've arranged a new delivery at our cost"]),
        ("The courier left my parcel outside and it's gone", ["Leaving it at the door is the courier's policy", "Lost parcels are the courier's responsibility", "We can't verify that"],
         ["I've sent a new one, it arrives tomorrow", "I've checked and refunded you in full", "The replacement has shipped, here's the tracking number"]),
        ("My account is locked and I can't log in", ["Locked accounts unlock automatically after 7 days", "It's a security feature, nothing I can do", "Please reset your password yourself"],
         ["I've unlocked it, you can log in now", "Your identity is verified and the account is restored", "Done, a new temporary password is on your phone"]),
        ("The installer never showed up", ["Our technicians are very busy, please wait", "Installation is handled by a third party", "Please book again"],
         ["The technician is on the way and will be there in 20 minutes", "I've booked a new technician for 2 pm today", "All set, someone is coming at 9 tomorrow morning"]),
        ("The invoice has the wrong company name", ["Invoices can't be changed once issued", "Please contact accounting yourself", "We can't do anything about that"],
         ["I've reissued it, it's in your inbox", "Corrected, the new invoice has been sent", "Fixed, you'll get the new PDF in five minutes"]),
        ("The price dropped the day after I bought it", ["Prices change all the time", "Completed orders aren't price-matched", "That's how promotions work"],
         ["I've refunded the difference, 30 dollars", "Price protection applied, the difference is back on your card", "Done, you've been credited the difference"]),
        ("My top-up still hasn't arrived", ["Top-ups can be slow at peak times", "You probably typed the wrong number", "It shows as successful on our side"],
         ["Found it, the top-up has now gone through", "The credit is on your line now, please refresh", "I've refunded it and topped you up again"]),
    ],
}

# Product questions: answers that give the customer what they asked, and dodges that do not.
QUESTIONS: dict[str, list[tuple[str, list[str], list[str]]]] = {
    "zh": [
        ("这款精华孕妇可以用吗", ["可以的,成分温和无刺激,孕期也能放心用", "里面不含水杨酸和视黄醇,孕妇可以用"],
         ["每个人情况不同,您自己判断哦", "这个不好说,建议您问医生", "请看商品详情页"]),
        ("这两款手机有什么区别", ["贵的那款多了长焦镜头和更大的电池,拍远景更清楚", "主要区别是芯片和屏幕,贵的那款打游戏更流畅"],
         ["都是很好的产品,看您喜欢哪个", "详情请看参数页", "价格不同,配置也不同"]),
        ("这件外套170穿什么码", ["170的话建议选M码,喜欢宽松可以选L", "按尺码表,您这个身高穿M刚好"],
         ["尺码因人而异,您自己对照尺码表", "每个人穿着感受不一样,没法推荐", "看您自己的喜好"]),
        ("为什么这款比那款贵那么多", ["因为这款用的是进口原料,成本高很多", "贵的那款加了专利成分,提取工艺复杂所以贵一些"],
         ["定价是公司决定的,我们也不清楚", "一分钱一分货嘛", "价格以页面为准哦"]),
        ("这个面霜油皮能用吗", ["能用的,质地清爽不油腻,油皮夏天也适合", "这款是啫喱质地,油皮用着不闷"],
         ["不同肤质感受不同哦", "您可以买来试试看", "这个因人而异"]),
        ("洗碗机要不要预留水管", ["需要预留进水和排水口,师傅上门会帮您接好", "要的,装在水槽旁边最方便,安装免费"],
         ["这个您问一下装修师傅", "看您家的情况", "请参考说明书"]),
    ],
    "zh-tw": [
        ("這款精華孕婦可以用嗎", ["可以的,成分溫和無刺激,孕期也能安心使用", "裡面不含水楊酸和A醇,孕婦可以用"],
         ["每個人狀況不同,請自行判斷", "這個不好說,建議您問醫生", "請看商品頁面"]),
        ("這兩支手機差在哪裡", ["貴的那支多了長焦鏡頭和更大的電池", "主要差在晶片和螢幕,貴的那支玩遊戲更順"],
         ["兩支都很好,看您喜歡哪個", "詳細請看規格頁", "價格不同,規格也不同"]),
        ("這件外套170要穿什麼尺寸", ["170建議穿M,喜歡寬鬆可以選L", "依照尺寸表,您的身高穿M剛好"],
         ["尺寸因人而異,請自行對照尺寸表", "每個人穿起來感覺不同,沒辦法推薦", "看您自己的喜好"]),
    ],
    "en": [
        ("Is this serum safe during pregnancy?", ["Yes, it has no retinol or salicylic acid, so it's fine during pregnancy", "It's fragrance-free and pregnancy-safe, many of our customers use it"],
         ["Everyone is different, you'll have to decide", "Hard to say, ask a doctor", "Please see the product page"]),
        ("What's the difference between these two laptops?", ["The pricier one has a brighter screen and twice the battery life", "The main difference is the chip, the Pro one handles video editing much faster"],
         ["Both are great products, it depends on you", "Please check the spec sheet", "They have different prices and different specs"]),
        ("What size should I get if I'm 5'7\"?", ["At 5'7\" a medium fits best, go large if you like it loose", "Going by the chart, a medium is right for your height"],
         ["Sizing varies, please check the chart yourself", "Everyone fits differently, I can't recommend", "It's up to your preference"]),
        ("Why does this one cost so much more?", ["It uses imported materials that cost a lot more to produce", "It has a patented ingredient that's expensive to extract"],
         ["Prices are set by head office, I don't know", "You get what you pay for", "The price is as shown on the page"]),
        ("Does the dishwasher need a separate water line?", ["Yes, it needs an inlet and a drain, our installer connects both for free", "It does, and the installer will set it up at no extra cost"],
         ["Ask your plumber", "Depends on your kitchen", "Please refer to the manual"]),
    ],
}

# Agent replies that sound sorry or busy but change nothing (sarcasm bait), per language.
EMPTY_SORRY = {
    "zh": ["非常抱歉给您带来不便,但这个我们也没有办法", "理解您的心情,不过规定就是这样", "抱歉,已经给您反馈了,请耐心等待结果",
           "很抱歉,这个问题我们会记录下来的", "亲亲,您的心情我们理解,请再等等哦"],
    "zh-tw": ["非常抱歉造成不便,但這個我們也沒辦法", "理解您的心情,不過規定就是這樣", "抱歉,已經幫您反映了,請耐心等候"],
    "en": ["I'm sorry for the inconvenience, but there's nothing we can do", "I understand your frustration, but that's the policy",
           "Sorry, I've passed on your feedback, please wait for an update", "We apologise, your comment has been noted",
           "I hear you, but you'll just have to wait"],
}

# Customer turns that push back after a failed reply (the problem may still get solved).
PUSHBACK = {
    "zh": ["我已经等了很久了,能不能认真处理一下", "你这么说等于没说啊", "这不是我的问题吧,你们得负责", "我都问了三次了", "请你们给个解决办法"],
    "zh-tw": ["我已經等很久了,可以認真處理嗎", "你這樣說等於沒說", "這不是我的問題,你們要負責"],
    "en": ["I've been waiting for ages, can you actually do something?", "That doesn't help at all", "This isn't my fault, you need to sort it out",
           "This is the third time I'm asking", "I need an actual solution please"],
}

# Polite openings agents add to any reply, good or bad.
OPENERS = {
    "zh": ["", "", "亲,", "您好,", "亲亲,", "好的亲,"],
    "zh-tw": ["", "", "您好,", "親,"],
    "en": ["", "", "Hi there, ", "Thanks for waiting. ", "Hello! "],
}
CLOSERS = {
    "zh": ["", "", "", "还有什么可以帮您的吗?", "祝您生活愉快~"],
    "zh-tw": ["", "", "還有什麼需要幫忙的嗎?"],
    "en": ["", "", "", " Anything else I can help with?", " Have a nice day!"],
}

# Closings only a satisfied customer writes after a long fight, and ones only an unhappy one
# writes; most closings still come from ``THANKS`` (shared by both kinds).
THANKS_SINCERE = {
    "zh": ["终于解决了,谢谢你", "总算搞定了,太感谢了", "虽然等了很久,不过还是谢谢你", "辛苦了,谢谢", "好的,那我等着,谢谢"],
    "zh-tw": ["終於解決了,謝謝你", "雖然等了很久,還是謝謝你", "辛苦了,謝謝"],
    "en": ["finally, thank you", "took a while but thanks for sorting it", "ok great, appreciate it", "thanks for your patience with me", "that's a relief, thanks"],
}
THANKS_SARCASTIC = {
    "zh": ["呵呵,谢谢你啊", "真是太感谢你了呢", "好的呢,谢谢您嘞", "谢谢啊,你们可真行", "行吧,真是谢谢了"],
    "zh-tw": ["呵呵,謝謝你喔", "真是太感謝你了呢", "好喔,真是謝謝了"],
    "en": ["wow, thanks so much", "great, really helpful, thanks", "oh perfect, thank you so much", "thanks, very helpful indeed", "brilliant, thanks a lot"],
}

NEGATIVE = ("angry", "dissatisfied", "disappointed")
SINCERE = ("grateful", "grateful", "grateful", "satisfied")
SPLITS = ("all", "train", "heldout")


def _in_split(index: int, split: str) -> bool:
    return split == "all" or (index % 4 == 3) == (split == "heldout")


def _bank(lang: str, split: str, banks: dict[str, list[Any]]) -> list[Any]:
    rows = banks.get(lang, [])
    return [r for i, r in enumerate(rows) if _in_split(i, split)]


def _agent(rng: random.Random, lang: str, text: str) -> dict[str, str]:
    return {"role": "agent", "text": rng.choice(OPENERS[lang]) + text + rng.choice(CLOSERS[lang])}


def _hard_thanks(rng: random.Random, lang: str, failed: bool, split: str) -> dict[str, Any]:
    """One hard sincere or sarcastic thanks dialogue (version 2 of the generator)."""
    problems = _bank(lang, split, PROBLEMS) + _bank(lang, split, MORE_PROBLEMS)
    questions = _bank(lang, split, QUESTIONS)
    shape = rng.randrange(4)
    if shape == 3 and questions:  # a product question, answered or dodged
        q, answers, dodges = rng.choice(questions)
        turns = [{"role": "customer", "text": q},
                 _agent(rng, lang, rng.choice(dodges if failed else answers))]
    else:
        problem, fails, solves = rng.choice(problems)
        turns = [{"role": "customer", "text": problem}]
        if shape == 0:  # a failed round and a push-back first, then the last reply decides
            turns += [_agent(rng, lang, rng.choice(fails + EMPTY_SORRY[lang])),
                      {"role": "customer", "text": rng.choice(PUSHBACK[lang])}]
        if failed:
            reply = rng.choice(EMPTY_SORRY[lang] if shape == 1 else fails)
        else:
            reply = rng.choice(solves)
            if shape in (1, 2) or rng.random() < 0.3:  # an apology, then the fix
                reply = rng.choice(APOLOGIES[lang]) + ("," if lang != "en" else ". ") + reply
        turns.append(_agent(rng, lang, reply))
    closings = THANKS[lang] * 2 + (THANKS_SARCASTIC if failed else THANKS_SINCERE)[lang]
    turns.append({"role": "customer", "text": rng.choice(closings)})
    return {"turns": turns, "emotion": rng.choice(NEGATIVE) if failed else rng.choice(SINCERE),
            "sarcastic": failed, "lang": lang,
            "kind": "sarcastic_thanks" if failed else "sincere_thanks"}


def _irony_thanks(rng: random.Random, lang: str, failed: bool, split: str) -> dict[str, Any]:
    """One dialogue of version 3: a problem, then a polite reply that does not help and a
    closing whose irony is in its content (or a real fix and sincere praise in the same
    words), from ``irony_banks``."""
    import irony_banks as banks

    problem = rng.choice(_bank(lang, split, PROBLEMS) + _bank(lang, split, MORE_PROBLEMS))[0]
    replies = banks.POLICY_REPLIES if failed else banks.FIX_REPLIES
    closings = banks.IRONIC_CLOSINGS if failed else banks.SINCERE_CLOSINGS
    turns = [{"role": "customer", "text": problem},
             _agent(rng, lang, rng.choice(_bank(lang, split, replies))),
             {"role": "customer", "text": rng.choice(_bank(lang, split, closings))}]
    return {"turns": turns, "emotion": rng.choice(NEGATIVE) if failed else rng.choice(SINCERE),
            "sarcastic": failed, "lang": lang,
            "kind": "sarcastic_thanks" if failed else "sincere_thanks"}


def generate(n: int, seed: int = 0, *, hard: float = 0.0, irony: float = 0.0,
             split: str = "all") -> list[dict[str, Any]]:
    """``n`` labelled dialogues: a third sarcastic thanks, a third sincere thanks, a third
    other emotions and agent apologies. Deterministic for a seed.

    Args:
        n: number of dialogues.
        seed: random seed.
        hard: share of the thanks dialogues drawn from the hard cases (long fights that end
            well, apologies with and without a fix, answered and dodged product questions,
            closings that lean one way); ``0`` reproduces version 1 of the generator.
        irony: share of the thanks dialogues drawn from version 3's banks
            (``irony_banks``: polite replies that do not help, closings whose irony is in
            the content, sincere praise in the same words after a real fix); drawn with
            its own random stream, so ``irony=0`` reproduces versions 1 and 2.
        split: ``"all"``; ``"train"`` or ``"heldout"`` to keep every fourth problem and
            question of each bank apart (for tuning on problems the model has not seen).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    rng = random.Random(seed)
    hard_rng = random.Random(seed + 7919)
    irony_rng = random.Random(seed + 104729)
    out: list[dict[str, Any]] = []
    langs = ["zh", "zh", "en", "en", "zh-tw"]
    for i in range(n):
        lang = rng.choice(langs)
        kind = i % 3
        problem, fails, solves = rng.choice(_bank(lang, split, PROBLEMS))
        if kind in (0, 1):
            failed = kind == 0
            if irony and irony_rng.random() < irony:
                out.append(_irony_thanks(irony_rng, lang, failed, split))
                continue
            if hard and hard_rng.random() < hard:
                out.append(_hard_thanks(hard_rng, lang, failed, split))
                continue
            reply = rng.choice(fails if failed else solves)
            turns = [{"role": "customer", "text": problem}, {"role": "agent", "text": reply}]
            if failed and rng.random() < 0.4:  # a second round that fails too
                turns += [{"role": "customer", "text": problem}, {"role": "agent",
                                                                  "text": rng.choice(fails)}]
            turns.append({"role": "customer", "text": rng.choice(THANKS[lang])})
            emotion = rng.choice(NEGATIVE) if failed else rng.choice(SINCERE)
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


def cooperative(n: int, seed: int = 0, *, split: str = "all") -> list[dict[str, Any]]:
    """``n`` dialogues of version 4 (``cooperative_banks``) ending in a warm, sincere turn
    from the middle of a chat: a problem, then (sometimes after an apology) an agent's
    request answered with thanks, plain information thanked for, or a helpful reply and a
    pleased follow-up question. Not sarcastic; deterministic for a seed."""
    import cooperative_banks as banks

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    rng = random.Random(seed + 15485863)
    out: list[dict[str, Any]] = []
    langs = ["zh", "zh", "en", "en", "zh-tw"]
    for _ in range(n):
        lang = rng.choice(langs)
        problem = rng.choice(_bank(lang, split, PROBLEMS) + _bank(lang, split, MORE_PROBLEMS))[0]
        tail, kind = banks.cooperative_turns(rng, lang)
        if rng.random() < 0.4:  # an apology before the request or the information
            sep = ". " if lang == "en" else ","
            tail[0] = {"role": "agent",
                       "text": rng.choice(APOLOGIES[lang]) + sep + tail[0]["text"]}
        turns = [{"role": "customer", "text": problem}, *tail]
        out.append({"turns": turns, "emotion": rng.choice(("grateful", "neutral")),
                    "sarcastic": False, "lang": lang, "kind": kind})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hard", type=float, default=0.0, help="share of hard thanks dialogues")
    ap.add_argument("--irony", type=float, default=0.0,
                    help="share of thanks dialogues from the irony banks (version 3)")
    ap.add_argument("--split", default="all", choices=SPLITS)
    args = ap.parse_args()
    for row in generate(args.n, args.seed, hard=args.hard, irony=args.irony, split=args.split):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
