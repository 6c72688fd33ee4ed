"""Consent keywords and the consent history of one number."""

from __future__ import annotations

import pytest

from slotline.notifier.domain.consent import Consent, Intent, Keyword, Scope, read_keyword

pytestmark = pytest.mark.unit


class TestReadingAReply:
    @pytest.mark.parametrize(
        "text",
        [
            "STOP",
            "stop",
            " Stop! ",
            "STOPALL",
            "UNSUBSCRIBE",
            "END",
            "QUIT",
            "CANCEL",
            "REVOKE",
            "OPTOUT",
        ],
    )
    def test_every_opt_out_word_opts_out(self, text: str) -> None:
        keyword = read_keyword(text)
        assert keyword is not None
        assert keyword.intent is Intent.OPT_OUT

    @pytest.mark.parametrize("text", ["START", "yes", "Unstop"])
    def test_start_yes_unstop_opt_back_in(self, text: str) -> None:
        keyword = read_keyword(text)
        assert keyword is not None
        assert keyword.intent is Intent.OPT_IN

    def test_help_asks_for_help(self) -> None:
        keyword = read_keyword("help")
        assert keyword is not None
        assert keyword.intent is Intent.HELP

    @pytest.mark.parametrize(
        "text", ["please stop", "stop it now", "stopp", "", None, "Can I cancel?"]
    )
    def test_only_a_single_keyword_counts(self, text: str | None) -> None:
        assert read_keyword(text) is None


def keyword(text: str) -> Keyword:
    """``text`` read as the keyword it is."""
    found = read_keyword(text)
    assert found is not None, f"{text!r} is no keyword"
    return found


class TestConsentOfANumber:
    def test_stop_revokes_transactional_and_marketing_once(self) -> None:
        consent = Consent(tenant_id="t", address="+306912345678")
        assert consent.reply(keyword("STOP"))
        assert not consent.allows(Scope.TRANSACTIONAL)
        assert not consent.allows(Scope.MARKETING)
        assert not consent.reply(keyword("QUIT"))
        changes = [e for e in consent.collect_events() if isinstance(e, Consent.Changed)]
        assert [(e.scope, e.granted, e.keyword) for e in changes] == [("all", False, "STOP")]

    def test_start_restores_transactional_but_never_assumes_marketing(self) -> None:
        consent = Consent(tenant_id="t", address="+306912345678")
        consent.reply(keyword("STOPALL"))
        assert consent.reply(keyword("START"))
        assert consent.allows(Scope.TRANSACTIONAL)
        assert not consent.allows(Scope.MARKETING)

    def test_start_without_a_stop_changes_nothing(self) -> None:
        consent = Consent(tenant_id="t", address="+306912345678")
        assert not consent.reply(keyword("START"))
