"""What the sidebar shows: gathered for every label, primary first, rendered in the agent's language."""

from __future__ import annotations

from typing import Any

from assist.classifier.model import Classification
from assist.live.guidance import Guidance, template_context
from assist.scripts.pack import Pack


def update(pack: Pack, labels: tuple[str, ...], lang: str = "zh-CN", **context: object) -> dict[str, Any]:
    return Guidance(pack).update("v7", "c1", context, Classification(labels[0], labels), lang)


def test_a_call_of_no_category_shows_nothing_to_do(default_pack: Pack) -> None:
    shown = update(default_pack, ("none",))
    assert shown["type"] == "assist.update" and shown["call_id"] == "c1" and shown["pack_version"] == "v7"
    assert shown["category"] == "none" and shown["category_name"] == default_pack.category_name("none", "zh-CN")
    assert shown["route"] == []


def test_two_labels_show_both_categories_primary_first(default_pack: Pack) -> None:
    shown = update(default_pack, ("complaint.urgent", "system_outage"))
    cats = [tp["category"] for tp in shown["talking_points"]]
    assert cats and cats[0] == "complaint.urgent" and "system_outage" in cats
    assert cats == sorted(cats, key=["complaint.urgent", "system_outage"].index), "primary's points first"
    assert shown["label_names"] == [
        default_pack.category_name(c, "zh-CN") for c in ("complaint.urgent", "system_outage")
    ]


def test_a_field_two_forms_ask_for_is_shown_once_and_names_both_forms(default_pack: Pack) -> None:
    shown = update(default_pack, ("complaint.urgent", "system_outage"))
    checklist = shown["checklist"]
    ids = [f["id"] for f in checklist]
    assert len(ids) == len(set(ids))
    shared = [f for f in checklist if len(f["forms"]) > 1]
    assert shared, "the complaint and outage forms share a field (e.g. the customer's phone)"


def test_each_forbidden_rule_is_listed_once(default_pack: Pack) -> None:
    shown = update(default_pack, ("system_outage", "complaint.general"))
    rules = [p["rule"] for p in shown["forbidden_phrases"]]
    assert rules and len(rules) == len(set(rules))


def test_the_agents_language_is_used_and_an_unknown_one_falls_back(default_pack: Pack) -> None:
    en = update(default_pack, ("system_outage",), "en")
    zh = update(default_pack, ("system_outage",), "xx")
    assert en["category_name"] == default_pack.category_name("system_outage", "en") != zh["category_name"]
    assert zh["category_name"] == default_pack.category_name("system_outage", default_pack.default_language)


def test_templates_see_the_context_and_the_call_id_only() -> None:
    context: dict[Any, Any] = {"queue": "retail", 5: "not a name"}
    assert template_context("c9", context) == {"queue": "retail", "call_id": "c9"}


def test_calls_of_the_same_labels_each_see_their_own_values(default_pack: Pack) -> None:
    """What a label set shows is gathered once per pack (`Guidance`), yet a talking point that reads the call's
    values is each call's own, and every update is the one a fresh `Guidance` builds."""
    shown = Guidance(default_pack)
    outage = Classification("system_outage", ("system_outage",))
    first = shown.update("v7", "c1", {"customer_name": "张先生"}, outage, "zh-CN")
    second = shown.update("v7", "c2", {"customer_name": "李女士"}, outage, "zh-CN")
    unnamed = shown.update("v7", "c3", {}, outage, "zh-CN")
    apologies = [
        next(tp["text"] for tp in u["talking_points"] if tp["id"] == "apologise_and_redirect")
        for u in (first, second, unnamed)
    ]
    assert [a[:4] for a in apologies] == ["张先生好", "李女士好", "您好，非"]
    assert [tp["text"] for tp in first["talking_points"][1:]] == [tp["text"] for tp in second["talking_points"][1:]]
    for labels in (("system_outage",), ("complaint.urgent", "system_outage"), ("none",)):
        for lang in ("zh-CN", "en", "xx"):
            result = Classification(labels[0], labels)
            context = {"customer_name": "王先生", "caller_number": "13900001234"}
            assert shown.update("v7", "c4", context, result, lang) == Guidance(default_pack).update(
                "v7", "c4", context, result, lang
            )
