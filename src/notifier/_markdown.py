"""Markdown to Slack mrkdwn (spec 3.6): bold, strike, links, headings, escaping; code left alone.

Pure: text in, text out.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)
_SPAN = re.compile(r"`[^`\n]+`")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"(\*\*|__)(.+?)\1")
_STRIKE = re.compile(r"~~(.+?)~~")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def to_mrkdwn(markdown: str) -> str:
    """Convert Markdown to Slack's mrkdwn. Pure."""
    kept: list[str] = []

    def keep(text: str) -> str:
        kept.append(text)
        return f"\x00{len(kept) - 1}\x00"

    text = _FENCE.sub(lambda m: keep("```\n" + m.group(1) + "```"), markdown)
    text = _SPAN.sub(lambda m: keep(m.group(0)), text)
    links: list[tuple[str, str]] = []

    def link(match: re.Match[str]) -> str:
        links.append((match.group(2), match.group(1)))
        return f"\x01{len(links) - 1}\x01"

    text = _IMAGE_OR_LINK.sub(link, text)
    text = _escape(text)
    text = _HEADING.sub(lambda m: f"*{m.group(1)}*", text)
    text = _BOLD.sub(lambda m: f"*{m.group(2)}*", text)
    text = _STRIKE.sub(lambda m: f"~{m.group(1)}~", text)
    text = re.sub("\x01(\\d+)\x01", lambda m: "<{}|{}>".format(*links[int(m.group(1))]), text)
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)


def _escape(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        quote = line.startswith(">")
        body = line[1:] if quote else line
        body = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines.append((">" if quote else "") + body)
    return "\n".join(lines)
