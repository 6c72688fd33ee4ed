"""Signed links: a token opens only what it was signed for, and only with an expiry."""

from __future__ import annotations

import time

import jwt
import pytest

from slotline.events.signed_links import LinkRefused, LinkSigner

pytestmark = pytest.mark.unit

SECRET = "a-secret-of-at-least-thirty-two-bytes!"


def test_a_token_opens_its_own_audience_only() -> None:
    manage, feed = LinkSigner(SECRET, "slotline-manage"), LinkSigner(SECRET, "slotline-feed")
    token = manage.sign({"sub": "b-1", "tnt": "t", "exp": int(time.time()) + 60})
    assert manage.read(token, "sub", "tnt")["sub"] == "b-1"
    with pytest.raises(LinkRefused):
        feed.read(token, "sub", "tnt")
    with pytest.raises(LinkRefused):
        LinkSigner("another-secret-of-thirty-two-bytes!!", "slotline-manage").read(token)


def test_an_expired_token_or_one_without_expiry_is_refused() -> None:
    signer = LinkSigner(SECRET, "slotline-manage")
    with pytest.raises(LinkRefused):
        signer.read(signer.sign({"sub": "b-1", "exp": int(time.time()) - 1}))
    forever = jwt.encode({"aud": "slotline-manage", "sub": "b-1"}, SECRET, algorithm="HS256")
    with pytest.raises(LinkRefused):
        signer.read(forever)
    with pytest.raises(LinkRefused):  # a claim the purpose needs is missing
        signer.read(signer.sign({"exp": int(time.time()) + 60}), "sub")
