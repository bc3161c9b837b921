from __future__ import annotations

import json

import pytest

from bot.config import PersonaSection
from personality.charts import radar_chart_png
from personality.personas import Persona, personas_from_config, rank_personas, render_persona
from personality.profile import UserProfile, render_profile, update_profile
from personality.signals import TRAITS, MessageSignals
from tests.profile_support import CALM, COMPANION, FORMAL, SAD, TUTOR, signals


def run(profile: UserProfile, message: MessageSignals, times: int) -> UserProfile:
    for _ in range(times):
        profile, _ = update_profile(profile, message, 0.2)
    return profile


def test_new_profile_is_the_prior_with_no_confidence() -> None:
    profile = UserProfile()
    assert profile.means() == dict.fromkeys(TRAITS, 0.5)
    assert all(profile.confidence(t) == 0.0 for t in TRAITS)


def test_update_moves_toward_observation_by_alpha_and_records_residual() -> None:
    updated, insights = update_profile(UserProfile(), FORMAL, 0.2)
    assert updated.value("formality") == pytest.approx(0.5 + 0.2 * (0.95 - 0.5))
    formality = next(i for i in insights if i.trait == "formality")
    assert formality.delta == pytest.approx(0.45)
    assert formality.source == "test"
    assert updated.messages == 1


def test_confidence_grows_with_evidence_and_stays_below_one() -> None:
    confidences = [run(UserProfile(), FORMAL, n).confidence("formality") for n in (1, 5, 50)]
    assert confidences == sorted(confidences)
    assert 0.0 < confidences[0] < confidences[-1] < 1.0


def test_big_five_evidence_is_weighted_by_analysis_confidence() -> None:
    unsure = signals(big_five={"openness": 0.9}, big_five_confidence=0.1)
    sure = signals(big_five={"openness": 0.9}, big_five_confidence=0.9)
    a, _ = update_profile(UserProfile(), unsure, 0.2)
    b, _ = update_profile(UserProfile(), sure, 0.2)
    assert a.value("openness") < b.value("openness")
    assert a.confidence("openness") < b.confidence("openness")


def test_unanalysed_message_infers_nothing() -> None:
    updated, insights = update_profile(UserProfile(), MessageSignals(), 0.2)
    assert insights == ()
    assert updated.means() == UserProfile().means()


def test_short_term_state_follows_mood() -> None:
    profile = run(run(UserProfile(), CALM, 3), SAD, 5)
    assert profile.state.sentiment_trend < 0.0
    assert profile.state.dominant_emotion == "sadness"
    assert profile.state.sentiment_volatility > 0.0
    assert 0.0 < profile.state.engagement <= 1.0


def test_json_round_trip() -> None:
    profile = run(UserProfile(), SAD, 3)
    restored = UserProfile.from_json(json.loads(json.dumps(profile.to_json())))
    assert restored == profile


def test_from_json_drops_unknown_and_clamps() -> None:
    restored = UserProfile.from_json(
        {"traits": {"openness": {"mean": 7, "evidence": -1}, "bogus": {"mean": 1}}}
    )
    assert restored.value("openness") == 1.0
    assert restored.confidence("openness") == 0.0
    assert "bogus" not in restored.traits


def test_render_profile_lists_every_trait_with_confidence() -> None:
    text = render_profile(run(UserProfile(), FORMAL, 4), COMPANION.traits)
    for trait in TRAITS:
        assert trait in text
    assert "confidence" in text
    assert "4 message(s)" in text


def test_radar_chart_is_a_png() -> None:
    png = radar_chart_png(run(UserProfile(), FORMAL, 2).means(), COMPANION.traits)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5_000


def test_personas_from_config_sections() -> None:
    section = PersonaSection("x", "d", {"humor": 2.0})
    personas = personas_from_config({"x": section})
    assert personas["x"].traits["humor"] == 1.0
    assert personas["x"].traits["empathy"] == 0.5


def test_matcher_modes_rank_opposite_personas() -> None:
    formal_user = run(UserProfile(), FORMAL, 30)
    casual = Persona("casual", "", {**COMPANION.traits, "formality": 0.05})
    formal = Persona("formal", "", {**COMPANION.traits, "formality": 0.95})
    personas = {"casual": casual, "formal": formal}
    assert rank_personas(personas, formal_user, "similarity")[0][0] == "formal"
    assert rank_personas(personas, formal_user, "complementarity")[0][0] == "casual"
    hybrid = dict(rank_personas(personas, formal_user, "hybrid", weight=1.0))
    similarity = dict(rank_personas(personas, formal_user, "similarity"))
    assert hybrid["formal"] == pytest.approx(similarity["formal"])
    assert hybrid["formal"] > hybrid["casual"]


def test_matcher_without_evidence_ties_in_config_order() -> None:
    ranking = rank_personas({"companion": COMPANION, "tutor": TUTOR}, UserProfile())
    assert [name for name, _ in ranking] == ["companion", "tutor"]
    assert ranking[0][1] == ranking[1][1]


def test_render_persona_shows_choices_and_controls() -> None:
    text = render_persona(
        TUTOR,
        "complement",
        strategy_override="complement",
        persona_override="tutor",
        locked=True,
        available={"companion": COMPANION, "tutor": TUTOR},
    )
    assert "tutor" in text and "complement (your choice)" in text
    assert "locked" in text and "Other personas: companion" in text
    assert "/persona use NAME" in text
