"""The one markup of an announcement, made safe once and shaped per channel.

`sanitise` (nh3, the Rust ammonia sanitiser) keeps a small set of tags and attributes: no
script, no event handlers, no style, no `javascript:` URLs. The channels then derive from it:
plain text for e-mail and robots, inline-styled HTML for the WeChat official-account editor and
e-mail clients (both drop `<style>` blocks), with images made absolute so they survive the copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urljoin

import lxml.html
import nh3
from django.conf import settings

TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "a", "ul", "ol", "li", "h2", "h3", "h4",
    "blockquote", "img", "table", "thead", "tbody", "tr", "th", "td", "hr", "span", "code",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_CHARS = 200_000

# WeChat's editor and most mail clients keep inline `style` only; these mirror the site's CSS.
INLINE = {
    "p": "margin:0 0 1em;line-height:1.75;font-size:16px;color:#222;",
    "h2": "margin:1.2em 0 .6em;font-size:20px;font-weight:bold;color:#111;",
    "h3": "margin:1em 0 .5em;font-size:18px;font-weight:bold;color:#111;",
    "h4": "margin:1em 0 .5em;font-size:16px;font-weight:bold;color:#111;",
    "a": "color:#0b5cad;text-decoration:underline;",
    "ul": "margin:0 0 1em;padding-left:1.5em;",
    "ol": "margin:0 0 1em;padding-left:1.5em;",
    "li": "margin:0 0 .4em;line-height:1.75;",
    "blockquote": "margin:0 0 1em;padding:.5em 1em;border-left:4px solid #c8102e;color:#555;",
    "img": "max-width:100%;height:auto;display:block;margin:.5em auto;",
    "table": "border-collapse:collapse;width:100%;margin:0 0 1em;",
    "th": "border:1px solid #ccc;padding:6px;background:#f4f4f4;text-align:left;",
    "td": "border:1px solid #ccc;padding:6px;",
    "hr": "border:0;border-top:1px solid #ddd;margin:1.5em 0;",
    "code": "font-family:monospace;background:#f4f4f4;padding:0 .2em;",
}


def sanitise(html: str) -> str:
    """Safe markup from whatever was typed or pasted (a Word paste, a script, an onerror)."""
    return nh3.clean(
        html[:MAX_CHARS],
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def _fragment(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")


def _inner(root: lxml.html.HtmlElement) -> str:
    out = root.text or ""
    for child in root:
        out += lxml.html.tostring(child, encoding="unicode")
    return out


def inline_styled(
    html: str, base: str | None = None, link: Callable[[str], str] | None = None
) -> str:
    """The markup with each tag's style inline, image and link URLs absolute, and (for e-mail)
    each link passed through `link` (the signed click redirect)."""
    base = (base or settings.SITE_URL) + "/"
    root = _fragment(html)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        style = INLINE.get(el.tag)
        if style:
            el.set("style", style)
        if el.tag == "img" and el.get("src"):
            el.set("src", urljoin(base, el.get("src", "")))
        if el.tag == "a" and el.get("href"):
            href = urljoin(base, el.get("href", ""))
            el.set("href", link(href) if link and href.startswith("http") else href)
    return _inner(root)


def plain_text(html: str) -> str:
    """Text for e-mail's plain part and for robots: paragraphs kept, links written out."""
    root = _fragment(html)
    for el in root.iter("a"):
        href = el.get("href")
        if href and href != el.text_content():
            el.tail = f" ({href})" + (el.tail or "")
    for el in root.iter("br"):
        el.tail = "\n" + (el.tail or "")
    for el in root.iter("p", "li", "h2", "h3", "h4", "blockquote", "tr"):
        el.tail = "\n\n" + (el.tail or "") if el.tag != "li" else "\n" + (el.tail or "")
        if el.tag == "li":
            el.text = "• " + (el.text or "")
    text = root.text_content()
    return re.sub(r"\n{3,}", "\n\n", text).strip()
