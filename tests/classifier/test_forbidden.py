"""Forbidden phrases: the default pack's three rules, spans, numbers, media, compile errors."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from assist.classifier.forbidden_check import MAX_HITS_PER_LINE, MAX_HITS_PER_RULE, ForbiddenChecker
from assist.classifier.forbidden_compile import compile_forbidden
from assist.classifier.model import ForbiddenHit
from assist.classifier.phone_numbers import digit_runs, digits_of, same_number
from assist.problems import PackError

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "assist" / "scripts" / "packs" / "default" / "forbidden.yaml"
LINES = Path(__file__).with_name("forbidden_lines.jsonl")

SYSTEM = "system_blame"
PHONE = "internal_phone"
MEDIA = "policy_answer_to_media"


def load_pack() -> Any:
    return YAML(typ="rt").load(PACK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def checker() -> ForbiddenChecker:
    return compile_forbidden(load_pack())


def rules_of(hits: list[ForbiddenHit]) -> list[str]:
    return [h.rule for h in hits]


# --------------------------------------------------------------------------- system_blame


@pytest.mark.parametrize(
    "text",
    [
        "这是我们系统的问题，我们系统坏了。",
        "抱歉，咱们行的系统今天又崩了。",
        "我们后台挂掉了，现在什么都查不到。",
        "服务器宕机了，技术还在抢修。",
        "系統當機了，請您晚點再試。",  # traditional characters
        "我们系桶坏了，您明天再来。",  # homophone typo
        "xt又抽风了，不好意思。",  # pinyin shorthand
        "估计是核心系统出bug了。",
        "网银这两天一直不太稳定，可能是这个原因。",
        "【短信】因我行系统故障，您的交易未能完成。",
        "您别急，手机银行app又闪退了，很多人都这样。",
        "我们这个破系统，没办法。",
        "Sorry, our system is down at the moment.",
        "Our servers crashed last night.",
        "There's a glitch in our system, please bear with us.",
    ],
)
def test_system_blame_is_found(checker: ForbiddenChecker, text: str) -> None:
    assert SYSTEM in rules_of(checker.check(text))


@pytest.mark.parametrize(
    "text",
    [
        "系统正在维护，建议您稍后再试。",  # the approved wording
        "系统显示您的转账已经成功，预计两小时内到账。",  # system as a data source
        "系统提示交易失败，原因是余额不足。",
        "备注：客户称“系统坏了”，已报班长。",  # a note quoting the customer
        "备注：客户说网银登不上，已记录报错码。",  # reported speech without quotes
        "您手机的操作系统版本太低，升级后再安装。",  # the customer's device
        "您看到的“系统繁忙”提示是几点出现的？",  # asking about an error message
        "这不是系统的问题，是您的密码连续输错被锁定了。",  # negated
        "系统没有问题，请您重新登录试试。",
        "系统检测到您的账户有异常交易，已临时冻结。",  # risk control, not a failure
        "您那边的网络不稳定，换个WiFi再试试。",
        "The system shows your payment went through at 3 pm.",
        "Your phone's operating system needs an update.",
        "没办法，这个业务只能到柜台办理。",
    ],
)
def test_system_blame_near_misses_are_allowed(checker: ForbiddenChecker, text: str) -> None:
    assert SYSTEM not in rules_of(checker.check(text))


def test_system_blame_span_points_at_original_text(checker: ForbiddenChecker) -> None:
    text = "不好意思，我們的 系統 今天壞了！"
    (hit,) = checker.check(text)
    assert hit.rule == SYSTEM
    assert hit.phrase == "系統 今天壞了"
    assert text[hit.span[0] : hit.span[1]] == hit.phrase


def test_system_blame_alternative_quotes_the_plan(checker: ForbiddenChecker) -> None:
    (hit,) = checker.check("系统崩了")
    assert "系统正在维护，建议您稍后再试" in hit.alternative
    (hit_en,) = checker.check("our system is down", lang="en")
    assert "try again later" in hit_en.alternative
    (hit_fallback,) = checker.check("系统崩了", lang="fr")
    assert hit_fallback.alternative == hit.alternative


def test_english_terms_match_whole_words_only(checker: ForbiddenChecker) -> None:
    # "app" must not match inside "apply", "xt" not inside "next".
    assert checker.check("Please apply again; the next step is down the page.") == []
    assert rules_of(checker.check("Our app crashed again.")) == [SYSTEM]


# --------------------------------------------------------------------------- internal_phone


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("您直接打我们信息技术部的电话吧，0571-87091234，他们能查。", "0571-87091234"),
        ("运维同事的手机 139 0571 2236，您找他就行。", "139 0571 2236"),
        ("科技部值班电话是内线6688，让总机转一下。", "6688"),
        ("网络部的分机是3021。", "3021"),
        ("数据中心机房座机是０２１－６８８８０１０１。", "０２１－６８８８０１０１"),  # full-width
        ("系统组值班手机：一五九，二二一三，零八七七。", "一五九，二二一三，零八七七"),  # spoken
        ("外包公司的技术热线400-820-7731，您问问他们。", "400-820-7731"),
        ("IT help desk 的号码是 8709-5566。", "8709-5566"),
        ("Please call our IT department at (0571) 8709 4410.", "0571) 8709 4410"),
    ],
)
def test_internal_number_near_department_is_found(checker: ForbiddenChecker, text: str, number: str) -> None:
    hits = [h for h in checker.check(text) if h.rule == PHONE]
    assert len(hits) == 1
    (hit,) = hits
    assert hit.phrase == number
    assert text[hit.span[0] : hit.span[1]] == number
    assert "会由我行相关人员尽快与您联系" in hit.alternative


def test_handing_over_a_contact_without_digits_is_found(checker: ForbiddenChecker) -> None:
    assert rules_of(checker.check("我把科技部的电话发给您，您自己问。")) == [PHONE]
    assert rules_of(checker.check("我把运维同事的手机号告诉您。")) == [PHONE]


@pytest.mark.parametrize(
    "text",
    [
        "您可以拨打我行客服热线95588，按0转人工。",  # public hotline
        "金融消费者投诉可以拨打12378。",
        "遇到诈骗请马上拨打110报警。",
        "城西支行对外公布的咨询电话是0571-86012345。",  # a branch's published number
        "我帮您转接值班班长，请您稍等。",  # transfer to a supervisor
        "技术部门正在处理，处理好以后我们给您回电。",  # mentions a department, no number
        "科技部门核实后会打您预留的手机13800001111通知您。",  # the customer's own number
        "技术同事处理好后，我们会在24小时内回电。",  # a duration, not a phone
        "开发区支行的电话是0571-86661234。",  # 开发区 is a place, not the developers
        "我的工号是2671，如有需要您可以再次来电。",
        "The IT team is on it; we will call you back on your mobile 138 0000 1111.",
    ],
)
def test_internal_phone_near_misses_are_allowed(checker: ForbiddenChecker, text: str) -> None:
    assert PHONE not in rules_of(checker.check(text))


def test_directory_numbers_given_at_compile_time() -> None:
    c = compile_forbidden(load_pack(), internal_numbers=["0571-8709 3300", "6688"])
    text = "有问题可以打 8709-3300 找值班的同事。"  # no department word: the directory decides
    (hit,) = c.check(text)
    assert (hit.rule, hit.phrase) == (PHONE, "8709-3300")
    assert text[hit.span[0] : hit.span[1]] == "8709-3300"
    full = "号码是０５７１ ８７０９ ３３００，您记一下。"
    (hit,) = c.check(full)
    assert hit.phrase == "０５７１ ８７０９ ３３００"
    assert rules_of(c.check("您拨总机以后转6688就行。")) == [PHONE]
    # a short listed number read back as the end of a card number is not the extension
    assert c.check("您的卡号后四位是6688对吧？") == []
    # a mobile number that merely contains the extension is not it
    assert c.check("好的，回拨号码13866881234我记下了。") == []


def test_with_internal_numbers_replaces_the_directory(checker: ForbiddenChecker) -> None:
    text = "您打 6688 1234 问问看。"
    assert checker.check(text) == []
    updated = checker.with_internal_numbers(["66881234", "12"])  # "12" is too short: ignored
    assert updated.internal_numbers == ("66881234",)
    assert rules_of(updated.check(text)) == [PHONE]
    assert updated.with_internal_numbers([]).check(text) == []
    assert checker.check(text) == []  # the original is unchanged


# --------------------------------------------------------------------------- policy_answer_to_media


@pytest.mark.parametrize(
    "text",
    [
        "记者您好，我行的规定是提前还款不收违约金。",
        "各位听众，我们银行信用卡被盗刷一律全额赔付。",
        "直播间的朋友们，大额存单二十万起存，这是行里的统一政策。",
        "您是电视台的？那我告诉您，受害客户有十几个，都已经赔了。",
        "主持人您好，那天排队是因为人手不够，我们已经在调整了。",
        "记者朋友，网上说的资金链断裂是谣言。",
        "Dear listeners, our policy is to refund card fraud in full.",
    ],
)
def test_policy_to_media_context_is_found(checker: ForbiddenChecker, text: str) -> None:
    assert MEDIA in rules_of(checker.check(text))


def test_policy_wording_is_fine_for_an_ordinary_customer(checker: ForbiddenChecker) -> None:
    text = "我行提前还款不收违约金，具体以您的合同为准。"
    assert checker.check(text) == []
    # ...but on a media call the same words are a policy answer
    hits = checker.check(text, media=True)
    assert MEDIA in rules_of(hits)
    assert all(text[h.span[0] : h.span[1]] == h.phrase for h in hits)


@pytest.mark.parametrize(
    "text",
    [
        "我先记录您的联系电话向相关部门汇报，安排采访时间后再给您回复。",  # the approved reply
        "记者您好，这个问题我先记录下来，咨询相关部门后再回复您。",
        "各位听众好，请节目组留一个联系方式，相关部门会尽快回复。",
        "直播间的朋友们好，具体的政策问题我们会有专人回复。",
        "各位听众，利率方面的问题我们会安排专人统一答复。",
        "请问您是哪家媒体的记者？方便留一下姓名和电话吗？",  # a question
        "I can't comment for your newspaper; may I take your name and number?",
    ],
)
def test_referrals_to_the_media_are_allowed(checker: ForbiddenChecker, text: str) -> None:
    assert checker.check(text, media=True) == []


def test_media_alternative_is_the_interview_reply(checker: ForbiddenChecker) -> None:
    (hit,) = [h for h in checker.check("记者您好，我行的规定是这样的。") if h.rule == MEDIA][:1]
    assert hit.alternative == "我先记录您的联系电话向相关部门汇报，安排采访时间后再给您回复。"


# --------------------------------------------------------------------------- sidebar list


def test_phrases_for_a_category(checker: ForbiddenChecker) -> None:
    media = checker.phrases("media.live")
    assert [p["rule"] for p in media] == [SYSTEM, PHONE, MEDIA]
    assert all(p["title"] and p["alternative"] and p["examples"] for p in media)
    ordinary = checker.phrases("none", lang="en")
    assert [p["rule"] for p in ordinary] == [SYSTEM, PHONE]
    assert ordinary[0]["title"] == "Blaming our system"


# --------------------------------------------------------------------------- compiling


def minimal_rule(**extra: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "demo",
        "title": {"zh-CN": "示例", "en": "Demo"},
        "alternative": {"zh-CN": "请这样说", "en": "Say this"},
    }
    rule.update(extra)
    return rule


def problems_of(raw: Any) -> dict[tuple[Any, ...], str]:
    with pytest.raises(PackError) as err:
        compile_forbidden(raw)
    return {p.path: p.message for p in err.value.problems}


def test_compile_accepts_plain_dicts() -> None:
    c = compile_forbidden({"rules": [minimal_rule(phrases=["坏透了"], categories=["system_outage"])]})
    (hit,) = c.check("真是坏 透了！")
    assert (hit.rule, hit.phrase, hit.span) == ("demo", "坏 透了", (2, 6))
    assert c.phrases("none") == []
    assert c.phrases("system_outage")[0]["rule"] == "demo"


def test_compile_reports_every_problem_with_its_path() -> None:
    raw = {
        "rules": [
            minimal_rule(phrases=["ok"]),
            {
                "id": "Bad Id",
                "title": {"zh-CN": "x"},
                "phrases": ["ok", "！！"],
                "patterns": ["(unclosed", ".*"],
                "pairs": [{"first": ["系统"], "within": -1}],
                "categories": ["media.live", "weather"],
                "colour": "red",
            },
            minimal_rule(phrases=["again"]),
            "not a rule",
        ]
    }
    problems = problems_of(raw)
    assert ("rules", 1, "id") in problems
    assert ("rules", 1, "alternative") in problems
    assert ("rules", 1, "phrases", 1) in problems
    assert "regular expression" in problems[("rules", 1, "patterns", 0)]
    assert "every line" in problems[("rules", 1, "patterns", 1)]
    assert ("rules", 1, "pairs", 0, "then") in problems
    assert ("rules", 1, "pairs", 0, "within") in problems
    assert "weather" in problems[("rules", 1, "categories", 1)]
    assert "colour" in problems[("rules", 1, "colour")]
    assert "used twice" in problems[("rules", 2, "id")]
    assert ("rules", 3) in problems


def test_compile_errors_on_the_file_shape() -> None:
    assert ("rules",) in problems_of({})
    assert () in problems_of(["not", "a", "mapping"])
    assert ("rules",) in problems_of({"rules": "system_blame"})
    problems = problems_of({"rules": [minimal_rule()]})
    assert "matches nothing" in problems[("rules", 0)]
    problems = problems_of({"rules": [minimal_rule(media_only=True, phrases=["x"], numbers={"directory": 1})]})
    assert ("rules", 0, "media_words") in problems
    assert ("rules", 0, "numbers", "directory") in problems
    problems = problems_of({"rules": [minimal_rule(title={"en": "only English"}, phrases=["x"])]})
    assert "zh-CN" in problems[("rules", 0, "title")]


def test_compile_errors_from_ruamel_carry_paths() -> None:
    text = "rules:\n  - id: demo\n    title: 示例\n    alternative: 请这样说\n    phrases: 坏了\n"
    problems = problems_of(YAML(typ="rt").load(text))
    assert "list" in problems[("rules", 0, "phrases")]


# --------------------------------------------------------------------------- phone numbers


def test_digit_runs_keep_numbers_apart() -> None:
    runs = digit_runs("热线95588，3号键；分机 80-12；一下；一三八零五七一")
    assert [r.digits for r in runs] == ["95588", "3", "8012", "1380571"]
    assert digits_of("０５７１－８７０９ 幺二三") == "057187091 23".replace(" ", "")
    assert same_number("87091234", "057187091234")
    assert not same_number("6688", "13866881234")


# --------------------------------------------------------------------------- accuracy and speed


def test_default_pack_accuracy_on_own_labelled_lines(checker: ForbiddenChecker) -> None:
    rows = [json.loads(line) for line in LINES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 80
    wrong: list[str] = []
    for row in rows:
        c = checker.with_internal_numbers(row["internal_numbers"]) if "internal_numbers" in row else checker
        got = rules_of(c.check(row["text"], media=row.get("media", False)))
        want = row["which"] if row["forbidden"] else None
        ok = (want in got) if want else not got
        if not ok:
            wrong.append(f"{row['id']}: want {want} got {got}: {row['text']}")
    accuracy = 1 - len(wrong) / len(rows)
    assert accuracy >= 0.95, "\n".join(wrong)


def test_check_is_fast(checker: ForbiddenChecker) -> None:
    line = "不好意思啊，您这边先别着急，我帮您看一下这个转账为什么没有到账，请您稍等一下好吗？"
    for _ in range(50):
        checker.check(line)
    n = 2000
    t0 = time.perf_counter()
    for i in range(n):
        checker.check(line + str(i % 7), media=True)
    per_line = (time.perf_counter() - t0) / n
    assert per_line < 0.001  # generous for slow CI; the bench reports the real figure (~25 µs)


def test_the_highlight_covers_the_whole_failure_word(checker: ForbiddenChecker) -> None:
    """宕 and 宕机 are both failure words: the warning marks 服务器也宕机, not 服务器也宕."""
    hits = checker.check("服务器也宕机了")
    assert [h.phrase for h in hits] == ["服务器也宕机"]


# --------------------------------------------------------------------------- long lines: bounded work and output

LONG_CASES = {
    "blame": "这是我们系统的问题，服务器宕机了，后台挂掉了。",
    "pairs": "我们行那个系统今天又有点坏，",
    "quoted": "客户说“系统崩了”，",
    "reported": "客户称系统故障后台挂了",
    "negated": "不是系统故障，",
    "numbers": "技术部电话13700008412，",
    "media": "记者您好，我行的规定是存款利率下调，",
}


def _repeat(sentence: str, chars: int) -> str:
    return (sentence * (chars // len(sentence) + 1))[:chars]


@pytest.mark.parametrize("name", sorted(LONG_CASES))
def test_a_long_line_gives_a_bounded_number_of_warnings(checker: ForbiddenChecker, name: str) -> None:
    sentence = LONG_CASES[name]
    hits = checker.check(_repeat(sentence, 60_000), media=True)
    assert len(hits) <= MAX_HITS_PER_LINE
    for rule in set(rules_of(hits)):
        assert rules_of(hits).count(rule) <= MAX_HITS_PER_RULE
    # the warnings kept are the leftmost: the first sentence's own warnings come first, unchanged
    first = checker.check(sentence, media=True)
    assert hits[: len(first)] == first


@pytest.mark.parametrize("name", sorted(LONG_CASES))
def test_the_work_on_a_line_grows_linearly_with_its_length(checker: ForbiddenChecker, name: str) -> None:
    def work(chars: int) -> int:
        c = compile_forbidden(load_pack())
        c.check(_repeat(LONG_CASES[name], chars), media=True)
        return c.operations

    small, large = work(6_000), work(24_000)
    assert small > 0
    assert large <= 4.4 * small  # four times the text: about four times the steps, not sixteen


def test_a_repeated_phrase_is_one_warning_per_stretch_not_per_repetition(checker: ForbiddenChecker) -> None:
    line = "我们系统坏了。" * 3
    hits = checker.check(line)
    assert rules_of(hits) == [SYSTEM] * 3  # three sentences: three warnings (at most MAX_HITS_PER_RULE)
    assert len(checker.check("我们系统坏了。" * 500)) == MAX_HITS_PER_RULE


def test_exclusions_still_hold_on_long_lines(checker: ForbiddenChecker) -> None:
    assert checker.check(_repeat("客户说“系统崩了”，", 20_000)) == []
    assert checker.check(_repeat("不是系统故障，", 20_000)) == []
    assert rules_of(checker.check(_repeat("客户说“系统崩了”，", 20_000) + "我们系统崩了。")) == [SYSTEM]


def test_positions_found_once_answer_as_the_regular_expressions_did() -> None:
    """The line's sentence ends and tokens, asked by binary search, give what a regex search over
    the same stretch gives (a full stop counts before white space or at the end of the stretch)."""
    import random
    import re

    from assist.classifier.forbidden_check import _SENTENCE_MARKS, _Breaks, _Line
    from assist.classifier.normalize import normalize

    sentence_end = re.compile(r"[。！？!?；;\n]|\.(?:\s|$)")
    token = re.compile(r"[A-Za-z0-9]+|[^\W_]")
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice("ab1 .。？!\n系统，_") for _ in range(rng.randint(1, 14)))
        breaks = _Breaks(text, _SENTENCE_MARKS)
        line = _Line(text, normalize(text))
        for lo in range(len(text) + 1):
            m = sentence_end.search(text, lo)
            assert breaks.first_from(lo) == (m.start() if m else -1), (text, lo)
            for hi in range(lo, len(text) + 1):
                assert breaks.any_in(lo, hi) == bool(sentence_end.search(text, lo, hi)), (text, lo, hi)
                assert line.tokens_between(lo, hi) == len(token.findall(text, lo, hi)), (text, lo, hi)
