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
