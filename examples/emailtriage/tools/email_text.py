"""Turn a raw support e-mail into the text the intent model was trained on.

The model learned from short customer messages; e-mails arrive with greetings, quoted
replies, signatures and links that say nothing about the intent. This tool keeps the
customer's own words. It is plain Python with no dependencies: n3 runs it in a separate
process with the app's Python (`.venv` if the app has one).
"""

import re

_QUOTE_HEADER = re.compile(r"^On .+ wrote:\s*$")
_URL = re.compile(r"https?://\S+")
_SIGN_OFFS = ("thanks", "thank you", "regards", "best", "cheers", "sent from my")


def clean(payload):
    """payload: {"raw email": text}. Returns {"text": text, "removed lines": number}."""
    kept, removed = [], 0
    for line in payload["raw email"].splitlines():
        stripped = line.strip()
        if stripped == "--" or _QUOTE_HEADER.match(stripped):
            removed += 1
            break  # a signature or the quoted thread: the rest is not the customer's message
        if stripped.lower().startswith(_SIGN_OFFS):
            removed += 1
            break  # a sign-off: what follows is the sender's name and signature
        if stripped.startswith(">"):
            removed += 1
            continue
        if stripped.lower().startswith(("subject:", "from:", "to:", "date:")):
            removed += 1
            continue
        if stripped:
            kept.append(_URL.sub("", stripped))
    text = " ".join(" ".join(kept).split())
    return {"text": text, "removed lines": removed}
