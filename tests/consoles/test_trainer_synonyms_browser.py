"""The trainer console in Debian chromium: a trainer writes a synonym group, sees a bad line's problem where
they typed it, fixes it, and the try box classifies a call that says the other word."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from assist.app import Running
from tests.conftest import issue
from tests.consoles.test_trainer_browser import SHOTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.small_pack]
expect.set_options(timeout=60_000)  # an upper bound: a save takes seconds on a busy machine

WORD = "趴窝"
"""Slang for a breakdown that no sample says: a word the model learned from samples could overrule the rule the new
synonym makes (docs/model.md), and this test is about the synonym reaching the rules. (掉链子 was the word until a
sample call said it.)"""


async def test_a_trainer_adds_a_synonym_group_and_a_call_with_the_other_word_gets_the_category(
    trainer_service: Running, browser: Browser, small_pack: Path
) -> None:
    assert WORD not in (small_pack / "samples.jsonl").read_text(encoding="utf-8"), "pick a word no sample says"
    page = await sign_in(browser, trainer_service, await issue(trainer_service, "t1", "trainer"))
    await page.get_by_test_id("try-input").fill(f"客户：我这边{WORD}了怎么办")
    category = page.get_by_test_id("try-category")
    await expect(category).to_have_attribute("data-category", "none")

    await page.get_by_test_id("nav-synonyms").click()
    card = page.get_by_test_id("synonyms")
    await expect(card.get_by_role("heading")).to_have_text("同义词与简称")
    text = card.get_by_test_id("synonyms-text")
    await expect(text).to_have_value(re.compile("网银 = 网上银行 = 网上银行系统"))  # the published pack's groups

    before = await text.input_value()
    await text.fill(before + f"系统故障 {WORD}\n")
    await card.get_by_test_id("save-synonyms").click()
    problems = page.get_by_test_id("synonyms").get_by_test_id("synonyms-problems")
    await expect(problems).to_contain_text("synonyms.txt:")
    await expect(problems).to_contain_text(f"系统故障 {WORD}")
    await expect(page.get_by_test_id("try-result")).to_contain_text("话术包有 1 个问题")  # the draft does not load

    text = page.get_by_test_id("synonyms").get_by_test_id("synonyms-text")
    await text.fill(before + f"系统故障 = {WORD}\n")
    await page.get_by_test_id("synonyms").get_by_test_id("save-synonyms").click()
    await expect(page.get_by_test_id("synonyms").get_by_test_id("synonyms-problems")).to_have_count(0)
    await expect(page.get_by_test_id("draft-status")).to_have_text("编辑中")
    await expect(category).to_have_attribute("data-category", "system_outage")
    await expect(category).to_have_text("系统故障")
    await expect(page.get_by_test_id("try-result").locator("ul.evidence mark")).to_contain_text([WORD])
    await expect(page.get_by_test_id("synonyms").get_by_test_id("synonyms-text")).to_have_value(
        before + f"系统故障 = {WORD}\n"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "synonyms.png"))


async def test_the_try_box_names_the_rule_label_the_model_overruled_with_its_words(
    trainer_service: Running, browser: Browser
) -> None:
    """docs/trainer.md, "Try a call": a journalist opening an account. The rules read 记者 as a media interview;
    the model, which learned those words from samples that read otherwise, overrules it. The trainer sees the call
    is ordinary, and which category the rules gave with which words, so a keyword that never takes effect is
    not a mystery."""
    page = await sign_in(browser, trainer_service, await issue(trainer_service, "t1", "trainer"))
    await page.get_by_test_id("try-input").fill("客户：我是报社记者，想开一张储蓄卡")
    await expect(page.get_by_test_id("try-category")).to_have_attribute("data-category", "none")
    await expect(page.get_by_test_id("try-decided-by")).to_have_attribute("data-by", "rules+model")
    overruled = page.get_by_test_id("try-overruled")
    await expect(overruled).to_contain_text("模型否决了规则的类别")
    await expect(overruled.locator("[data-category]")).to_have_attribute("data-category", "media.interview")
    await expect(overruled.locator("[data-category]")).to_have_text("媒体采访")
    await expect(overruled.locator("mark")).to_contain_text("报社")

    await page.get_by_test_id("try-input").fill("客户：我要投诉你们乱收费")
    await expect(page.get_by_test_id("try-category")).to_have_attribute("data-category", "complaint.general")
    await expect(page.get_by_test_id("try-overruled")).to_have_count(0)
