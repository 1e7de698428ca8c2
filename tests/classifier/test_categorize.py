"""Classifier: matching semantics on a small rule set, then the default pack on hard cases."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from assist.classifier.categorize import Classifier
from assist.classifier.model import CATEGORY_IDS, Segment
from assist.classifier.rules import compile_rules

PACK = Path(__file__).resolve().parents[2] / "assist" / "scripts" / "packs" / "default"


def small() -> Classifier:
    cats: dict[str, Any] = {c: {"rules": [{"any": [f"zz{i}"]}]} for i, c in enumerate(CATEGORY_IDS) if c != "none"}
    cats["complaint.general"] = {
        "requires": ["grievance"],
        "unless": ["complaint.urgent"],
        "rules": [
            {
                "id": "word",
                "any": [{"word": "投诉", "sound": True}, {"word": "投诉你", "not": ["投诉你们"]}],
                "unless": ["开玩笑"],
            }
        ],
    }
    cats["complaint.urgent"] = {"requires": ["grievance"], "rules": [{"id": "reg", "any": ["12378"]}]}
    cats["media.live"] = {"rules": [{"id": "live", "any": ["直播", "zb", "live stream*"], "in": ["customer", "note"]}]}
    cats["system_outage"] = {
        "rules": [
            {"id": "near", "all": [["转账", "app"], ["失败", "报错"]], "near": 4, "weight": 0.5},
            {"id": "many", "any": ["同事也"], "weight": 0.5, "within": "call"},
            {"id": "busy", "any": ["系统繁忙"]},
        ]
    }
    cats["media.interview"] = {"rules": [{"id": "j", "any": ["journalist", "记者"]}]}
    cats["major_incident"] = {
        "rules": [{"id": "q", "within": "call", "all": [["队"], ["谣言"]], "in": ["context.queue", "customer"]}]
    }
    raw = {
        "negation": {"before": ["不是", "不会"], "after": ["就算了"], "window": 3},
        "exclude": ["投资"],
        "signals": {"grievance": {"rules": [{"any": [{"word": "投诉", "sound": True}, "12378"]}]}},
        "categories": cats,
    }
    return Classifier(compile_rules(raw, priority=CATEGORY_IDS))


def cust(text: str, i: int = 0) -> Segment:
    return Segment("customer", i, text)


def test_plain_match_and_evidence_span_on_original_text() -> None:
    text = "喂，我要 投訴！"
    r = small().classify([cust(text)])
    assert r.labels == ("complaint.general",)
    ev = next(e for e in r.evidence if e.rule == "complaint.general/word")
    assert text[ev.span[0] : ev.span[1]] == "投訴"
    assert ev.words == ("投訴",)
    assert (ev.source, ev.index) == ("customer", 0)


def test_none_when_nothing_matches() -> None:
    r = small().classify([cust("查一下余额")])
    assert r.labels == ("none",) and r.category == "none" and r.evidence == ()


def test_negation_before_and_after_and_clause_break() -> None:
    c = small()
    assert c.classify([cust("我不是要投诉")]).category == "none"
    assert c.classify([cust("投诉就算了")]).category == "none"
    assert c.classify([cust("我不是骗子，我要投诉")]).category == "complaint.general"


def test_homophone_match() -> None:
    r = small().classify([cust("我要头诉")])
    assert r.category == "complaint.general"
    assert any(e.words == ("头诉",) for e in r.evidence)
    # two-character words match by sound only when asked (上调 is not 上吊); longer ones by default
    hits = small().scan(cust("我要头诉你们")).hits
    assert {h.how for h in hits} == {"sound"}


def test_exclude_and_not_words() -> None:
    c = small()
    assert c.classify([cust("我想投资理财")]).category == "none"
    ev = c.classify([cust("我要投诉你们")]).evidence
    assert {e.words for e in ev} == {("投诉",)}


def test_unless_cancels_in_same_segment_only() -> None:
    c = small()
    assert c.classify([cust("投诉你们，开玩笑的")]).category == "none"
    assert c.classify([cust("开玩笑的"), cust("我要投诉", 1)]).category == "complaint.general"


def test_requires_and_unless_between_categories() -> None:
    r = small().classify([cust("我要投诉，不然打12378")])
    assert r.labels == ("complaint.urgent",)


def test_ascii_keywords_need_word_boundaries_and_prefix() -> None:
    c = small()
    assert c.classify([cust("我在zb")]).category == "media.live"
    assert c.classify([cust("zbx 是什么")]).category == "none"
    assert c.classify([cust("I'm live streaming now")]).category == "media.live"


def test_fuzzy_english() -> None:
    assert small().classify([cust("I am a jounralist")]).category == "media.interview"


def test_scope_agent_lines_ignored_when_rule_is_customer_and_note() -> None:
    assert small().classify([Segment("agent", 0, "您在直播吗")]).category == "none"


def test_near_and_weights() -> None:
    c = small()
    assert c.classify([cust("转账一直失败")]).category == "none"  # 0.5 < 1
    assert c.classify([cust("转账一直失败"), cust("同事也不行", 1)]).category == "system_outage"
    assert c.classify([cust("转账的时候我在外面吃饭然后失败"), cust("同事也", 1)]).category == "none"


def test_within_call_and_context_field() -> None:
    segs = [Segment("context", 0, "排队", "queue"), cust("网上有谣言")]
    assert small().classify(segs).category == "major_incident"
    assert small().classify([Segment("context", 0, "排队", "caller_type"), cust("谣言")]).category == "none"


def test_scan_is_pure_and_decide_combines() -> None:
    c = small()
    s1, s2 = c.scan(cust("转账报错")), c.scan(cust("同事也是", 1))
    assert c.scan(cust("转账报错")) == s1
    assert c.decide([s1]).category == "none"
    assert c.decide([s1, s2]).category == "system_outage"


# ---------------------------------------------------------------- the default pack


@cache
def pack() -> Classifier:
    raw = YAML(typ="rt").load((PACK / "rules.yaml").read_text(encoding="utf-8"))
    return Classifier(compile_rules(raw, priority=CATEGORY_IDS))


def call(*lines: str, notes: tuple[str, ...] = (), queue: str = "retail") -> list[Segment]:
    segs = [Segment("context", 0, queue, "queue")]
    segs += [Segment("note", i, n) for i, n in enumerate(notes)]
    for i, line in enumerate(lines):
        who, text = line.split(":", 1)
        segs.append(Segment("customer" if who == "C" else "agent", i, text))
    return segs


CASES: list[tuple[str, list[Segment], tuple[str, ...]]] = [
    ("balance", call("C:帮我查一下余额", "A:您的余额是三千元"), ("none",)),
    ("idioms", call("C:急死我了，老板要骂死我，卡怎么激活"), ("none",)),
    ("fried chicken", call("C:我开了个炸鸡店，想办收款码"), ("none",)),
    ("fireworks", call("C:我们是烟花爆竹批发公司，开对公户要什么材料"), ("none",)),
    ("rush buying", call("C:大额存单几点开抢？上次没抢到，秒杀也没秒到"), ("none",)),
    ("laughing", call("C:账单看得我都不想活了哈哈，分期怎么算"), ("none",)),
    ("not complaining", call("C:我不是来投诉的，也不会去12378，就问下提前还款"), ("none",)),
    ("investment", call("C:我想投资一下你们的理财"), ("none",)),
    ("locked password", call("C:app登不上了，说密码错误次数过多账户已锁定"), ("none",)),
    ("insufficient", call("C:转账一直失败", "A:系统显示您的可用余额不足"), ("none",)),
    ("maintenance q", call("C:我收到你们短信说今晚系统升级，那时候能刷卡吗"), ("none",)),
    ("own phone", call("C:我手机死机了，不知道转账成功没有"), ("none",)),
    ("recording", call("C:我这个电话开着录音呢，怕记不住步骤"), ("none",)),
    ("watching stream", call("C:我刚才看一个直播，主播说你们有4%的存单，真的吗"), ("none",)),
    ("media worker", call("C:我在电视台上班，想问下我自己的房贷提前还款"), ("none",)),
    ("praise", call("C:你服务真好，工号多少？我要表扬你"), ("none",)),
    ("remembered", call("C:好的，你说的我都记着呢，谢谢"), ("none",)),
    ("outage", call("C:手机银行转账一直提示系统繁忙，试了三次"), ("system_outage",)),
    ("outage trad", call("C:網銀轉帳一直顯示「系統忙碌中」"), ("system_outage",)),
    ("crash homophone", call("C:你们app一点开就闪推，我同事手机也一样"), ("system_outage",)),
    ("xt shorthand", call("C:转不了账", notes=("网银转账报xt繁忙 客户称试了多次",)), ("system_outage",)),
    ("english outage", call("C:Your app keeps showing service unavailable when I log in"), ("system_outage",)),
    ("general", call("C:你们这个年费收得不合理，我要投诉", "A:会有我行相关人员与您联系解决"), ("complaint.general",)),
    ("teller", call("C:我要投诉你们网点的柜员，态度太差", "A:会有我行相关人员与您联系解决"), ("complaint.general",)),
    ("about agent", call("C:你这什么态度？工号报一下，我要投诉你"), ("complaint.about_agent",)),
    ("about agent typo", call("C:你的工号多少？我要头诉你"), ("complaint.about_agent",)),
    ("urgent 12378", call("C:乱扣费，今天不退我就打12378投诉你们"), ("complaint.urgent",)),
    ("urgent typo", call("C:再拖我就打12387投述你们"), ("complaint.urgent",)),
    ("press threat", call("C:今天不给说法，我就找电视台曝光你们"), ("complaint.urgent",)),
    ("live", call("C:家人们，我现在正在直播，问问银行客服"), ("media.live",)),
    ("zb", call("C:zb间的宝宝们都在听，信用卡积分能延期吗"), ("media.live",)),
    ("live homophone", call("C:我现在在直博，好多人在看"), ("media.live",)),
    ("speakerphone", call("C:我这开着免提，五十多个乡亲都在听"), ("media.live",)),
    ("journalist", call("C:你好，我是晚报的记者，想就网点排队的事采访一下"), ("media.interview",)),
    ("journalist typo", call("C:我是晨报的记着，想问问你们的回应"), ("media.interview",)),
    (
        "late journalist",
        call("C:理财能提前赎回吗", "A:开放期可以", "C:其实我是电视台的编导，想约采访"),
        ("media.interview",),
    ),
    ("radio live", call("C:各位听众，我们的直播节目接通了银行客服，请你们回应一下"), ("media.live", "media.interview")),
    ("bomb", call("C:我在你们支行放了炸弹，下午三点炸"), ("major_incident",)),
    ("self harm", call("C:钱全被骗了，我真的不想活了，我在江边"), ("major_incident",)),
    ("crowd", call("C:网上都在传你们银行要破产，好多人都去网点排队取钱了"), ("major_incident",)),
    ("knife english", call("C:There's a guy with a knife shouting at the tellers"), ("major_incident",)),
    ("threat", call("C:再不给我办，我就宰了你"), ("major_incident",)),
    # 在了你 reads like 宰了你 but shares only 了 and 你 with it: a homophone must agree on a word that means something
    ("not a homophone threat", call("C:我从早上等到现在了你就跟我说等等"), ("none",)),
    # a grievance about a branch, then about this agent: "your supervisor" (主管 as well as 领导) with a second cue
    (
        "teller, then this agent",
        call("C:我要反映你们分行转账手续费收太多了", "A:手续费就是这样收的", "C:你一直打斷我講話，請你主管來聽"),
        ("complaint.about_agent", "complaint.general"),
    ),
    (
        "agent + outage",
        call("C:网银一直系统繁忙", "C:你就会说稍后再试？我要投诉你，工号多少"),
        ("complaint.about_agent", "system_outage"),
    ),
]


@pytest.mark.parametrize(("name", "segments", "labels"), CASES, ids=[c[0] for c in CASES])
def test_default_pack(name: str, segments: list[Segment], labels: tuple[str, ...]) -> None:
    assert pack().classify(segments).labels == labels


def test_evidence_for_every_label_points_at_original_text() -> None:
    segs = call("C:我在直播！你們系統異常，今天不解決我就打12378")
    r = pack().classify(segs)
    assert set(r.labels) >= {"media.live", "complaint.urgent", "system_outage"}
    for label in r.labels:
        evs = [e for e in r.evidence if e.category == label]
        assert evs, label
        for e in evs:
            seg = next(s for s in segs if s.source == e.source and s.index == e.index)
            assert seg.text[e.span[0] : e.span[1]] == e.words[0]
