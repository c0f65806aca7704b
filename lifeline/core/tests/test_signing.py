from __future__ import annotations

from django.test import override_settings

from lifeline.core.signing import Signer, canonical


def test_sign_and_verify() -> None:
    s = Signer("research.report:a")
    content = {"b": 1, "a": ["李", 2]}
    code = s.sign(content)
    assert s.verify({"a": ["李", 2], "b": 1}, code)  # key order does not matter
    assert not s.verify({"a": ["李", 3], "b": 1}, code)  # an edited value fails
    assert not Signer("research.report:b").verify(content, code)  # another label's key fails
    assert not s.verify(content, "A" * 86)  # a made-up code fails
    assert not s.verify(content, "not base64 !!")
    assert not s.verify(content, "")
    assert canonical(content) == '{"a":["李",2],"b":1}'.encode()


def test_key_follows_the_secret() -> None:
    code = Signer("x").sign({"a": 1})
    with override_settings(SIGNING_KEY="another secret of enough length 0123456789"):
        assert not Signer("x").verify({"a": 1}, code)


def test_old_signing_keys_still_verify_but_do_not_sign() -> None:
    old = "the signing secret of last year, long enough 0123456789"
    with override_settings(SIGNING_KEY=old):
        code = Signer("x").sign({"a": 1})
    with override_settings(SIGNING_KEY="this year's signing secret, long enough 0123456789"):
        assert not Signer("x").verify({"a": 1}, code)
        with override_settings(SIGNING_OLD_KEYS=[old]):
            assert Signer("x").verify({"a": 1}, code)
            assert not Signer("x").verify({"a": 2}, code)
            assert Signer("x").sign({"a": 1}) != code  # new signatures use this year's key


def test_thesis_receipts_follow_the_signing_key_not_the_secret_key() -> None:
    from lifeline.theses.logic import signing as receipts

    text = receipts.canonical({"serial": "NEFU-2020-0001", "title": "落叶松人工林"})
    signature = receipts.sign(text)
    with override_settings(SECRET_KEY="a rotated secret key, long and random 0123456789abc"):
        assert receipts.verify(text, signature)  # SECRET_KEY rotated alone: still valid
    with override_settings(SIGNING_KEY="a new signing key, long and random 0123456789abcdef"):
        assert not receipts.verify(text, signature)
        from django.conf import settings

        with override_settings(SIGNING_OLD_KEYS=[settings.SECRET_KEY]):
            assert receipts.verify(text, signature)
