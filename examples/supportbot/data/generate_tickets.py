#!/usr/bin/env python3
"""Write the supportbot example's data: support_tickets.jsonl and state_records.json.

The tickets are customer messages written the way people write to a help desk: greetings or
none, run-on sentences, typos, shorthand, several ways to say the same thing, and words that
belong to more than one intent ("charged" is billing or refund, "account" is locked, reset or
cancel, "order" is shipping or refund). Each message is labelled with one of eight intents.

Everything is composed from the templates and vocabulary below with ``random.Random(SEED)``,
so running the script again gives the same bytes:

    python examples/supportbot/data/generate_tickets.py            # writes beside this file

state_records.json is the same tickets as a help-desk state export ({"records": [...]} with
id, channel, message, category, priority, status); converting it with

    python scripts/convert_state_to_training_dataset.py \\
      --input data/state_records.json --output data/support_tickets.jsonl

reproduces support_tickets.jsonl exactly.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 13
PER_INTENT = 50

V = {
    "product": ["the app", "the dashboard", "the mobile app", "the web app", "your site", "the Android app",
                "the iPhone app", "the desktop client", "the checkout page", "the portal"],
    "plan": ["Pro plan", "premium plan", "team plan", "monthly plan", "annual plan", "family plan",
             "business subscription", "basic plan"],
    "amount": ["$9.99", "$19", "$49.00", "$120", "€15", "£30", "$4.99", "$240", "29 dollars", "$79.50"],
    "month": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December", "last month", "this month"],
    "days": ["two days", "3 days", "a week", "10 days", "two weeks", "5 business days", "over a month", "6 days"],
    "order": ["order #{n}", "order {n}", "my order ({n})", "order no. {n}", "purchase #{n}"],
    "item": ["headphones", "the charger", "a pair of shoes", "the blender", "my new phone case", "the jacket",
             "the keyboard", "two t-shirts", "the desk lamp", "a backpack", "the coffee grinder"],
    "carrier": ["UPS", "FedEx", "DHL", "the courier", "USPS", "the delivery guy", "Royal Mail"],
    "error": ["error 500", "a blank white screen", "\"something went wrong\"", "a spinning wheel forever",
              "error code E42", "a 404 page", "\"unexpected token\"", "a crash to the home screen"],
    "action": ["upload a photo", "export to CSV", "save my settings", "log in with Google", "open a report",
               "change my profile picture", "add a second user", "print an invoice", "search my history",
               "sync my calendar"],
    "feature": ["dark mode", "a calendar view", "two-factor login with an authenticator app",
                "CSV import", "a way to schedule reports", "keyboard shortcuts", "offline mode",
                "shared folders", "an API", "bulk delete", "custom tags", "a Slack integration",
                "multiple currencies", "a Spanish translation"],
    "reason": ["it's too expensive for us now", "we switched to another tool", "I don't use it anymore",
               "money is tight this month", "our project ended", "the team is moving to a different service",
               "I only needed it for one thing"],
    "device": ["my laptop", "my phone", "a new computer", "my work PC", "my tablet", "Chrome", "Safari"],
}

INTENTS: dict[str, list[str]] = {
    "billing": [
        "billing question: the {plan} charge looks off",
        "charged twice??",
        "what is this {amount} charge on my account",
        "my account shows an unpaid balance of {amount} but I paid",
        "I was charged {amount} twice on my card for {month}",
        "why is my invoice for {month} {amount} when my {plan} is cheaper",
        "there's a charge of {amount} I don't recognise on my statement",
        "can you send me a copy of the invoice for {month}? need it for accounting",
        "my credit card expired, how do I update the payment method",
        "the bill says {amount} but the pricing page says less for the {plan}",
        "I need to change the billing address on my invoices",
        "do you charge VAT? the invoice total of {amount} looks wrong",
        "how do I switch from monthly to yearly billing",
        "payment failed but my bank says the card is fine",
        "you billed me for 5 seats but we only have 3 users",
        "where can I download receipts for my payments",
        "got charged {amount} after the trial ended, I thought it was free until {month}",
        "need our company VAT number added to the invoice",
        "is there a discount for nonprofits on the {plan}",
        "the price went up to {amount} without any email, why",
    ],
    "password_reset": [
        "cant log in, forgot pw",
        "login not working, I think I need a new password",
        "how to reset pw on {device}",
        "locked out because I forgot the password, can you send a reset link",
        "I forgot my password and can't log in",
        "the reset password email never arrives",
        "how do I change my password",
        "the password reset link says it has expired",
        "I clicked forgot password but nothing happens on {product}",
        "can't remember my password, please help me reset it",
        "reset link goes to a blank page",
        "I need a new password, the old one isn't working on {device}",
        "it keeps saying my password is incorrect but I'm sure it's right",
        "where is the option to reset the password in {product}",
        "I changed my email and now password reset goes to the old address",
        "the reset code you texted me doesn't work",
        "my password manager lost my login, how do I set a new password",
        "password reset email went to spam and the link is dead now",
    ],
    "shipping": [
        "where is my stuff",
        "still no delivery",
        "{item} not here yet",
        "is {order} lost? I was charged and nothing arrived yet, just want to know where it is",
        "where is my package? {order} still hasn't arrived after {days}",
        "tracking for {order} hasn't updated in {days}",
        "{carrier} says delivered but I never got {item}",
        "can I change the delivery address for {order}",
        "how long does shipping to Canada take",
        "my parcel is stuck in customs",
        "do you ship to Australia and what does it cost",
        "{item} was supposed to arrive yesterday, any update on {order}",
        "the tracking number you sent doesn't work on the {carrier} site",
        "can I pick up {order} instead of having it delivered",
        "{carrier} left a note but I wasn't home, how do I reschedule the delivery",
        "is express shipping available for {item}",
        "order status says shipped for {days} but nothing moves",
        "package came to the wrong address, {order}",
    ],
    "refund": [
        "money back please",
        "refund??",
        "charged twice, please give one of them back",
        "cancel {order} and refund me",
        "I want a refund for {item}, it arrived broken",
        "please refund {order}, I returned it {days} ago",
        "how do I return {item} and get my money back",
        "I cancelled but was still charged {amount}, I want that refunded",
        "still waiting on my refund of {amount}",
        "{item} is not what was shown in the photos, I'd like my money back",
        "can I get a refund for the unused part of my {plan}",
        "the refund for {order} hasn't shown up on my card",
        "what's your return policy for {item}",
        "got the wrong size, can I send it back for a full refund",
        "I was charged for {order} that never arrived, please refund it",
        "requesting a refund, the {plan} didn't work for us",
        "you said the refund would take {days} and it's been longer",
        "return label for {item} please, want a refund not an exchange",
    ],
    "account_locked": [
        "can't log in, it says account locked",
        "locked out",
        "my account is on hold and I can't sign in",
        "I reset my password but the account is still blocked",
        "my account is locked after too many login attempts",
        "it says my account has been suspended, why",
        "I'm locked out of my account on {device}",
        "account disabled message when I try to sign in",
        "I can't access my account, it says temporarily locked for security",
        "please unlock my account, I need it for work today",
        "got an email saying suspicious activity and now my account is frozen",
        "my two factor device is lost and I'm locked out",
        "account blocked, I didn't do anything wrong",
        "it says too many attempts, try again later, but it's been hours",
        "why was my account deactivated without notice",
        "the verification code never comes so I'm stuck outside my account",
        "my login is blocked after I travelled abroad",
        "unlock request: locked out since {month}",
    ],
    "bug_report": [
        "app broken",
        "nothing loads on {device}",
        "the password field won't accept paste, looks like a bug",
        "the invoice page shows {error}",
        "{product} crashes every time I try to {action}",
        "I get {error} when I {action}",
        "the button to {action} does nothing in {product}",
        "after the last update {product} shows {error}",
        "bug: can't {action} on {device}, it just freezes",
        "the page keeps reloading when I try to {action}",
        "dates are displayed wrong in {product}, shows the wrong month",
        "notifications are duplicated, I get every email three times",
        "{product} is really slow since yesterday and then shows {error}",
        "the search returns nothing even for things I know exist",
        "layout is broken on {device}, text overlaps the buttons",
        "when I {action} the app logs me out",
        "found a glitch: totals in the report don't add up",
        "{error} on {device} whenever I {action}",
    ],
    "cancel_subscription": [
        "stop charging me, I want out of the {plan}",
        "cancel pls",
        "no more renewals",
        "how do I delete my account and end the subscription",
        "I want to cancel my subscription",
        "how do I cancel the {plan}? {reason}",
        "please stop my {plan} from renewing",
        "cancel my account and subscription, {reason}",
        "where is the cancel button? I can't find it in {product}",
        "I'd like to end my membership at the end of {month}",
        "turn off auto-renew for the {plan}",
        "we no longer need the {plan}, please cancel it",
        "unsubscribe me from the paid plan, {reason}",
        "can I pause instead of cancelling the {plan}",
        "cancel before the next charge please, {reason}",
        "how do I downgrade to free and stop paying",
        "want to close my account for good, {reason}",
        "do I lose my data if I cancel the {plan}",
    ],
    "feature_request": [
        "please let us pay invoices by bank transfer",
        "add export to PDF pls",
        "would be nice to reset passwords for my team from the admin page",
        "option to pause shipping notifications would help",
        "it would be great if {product} had {feature}",
        "any plans to add {feature}?",
        "feature request: {feature}",
        "please consider adding {feature}, we would use it daily",
        "can you add {feature} to {product}",
        "suggestion: {feature} would save us a lot of time",
        "is {feature} on the roadmap",
        "we'd pay more for the {plan} if it included {feature}",
        "would love {feature}, other tools have it",
        "I wish I could {action} from {product}, maybe add {feature} too",
        "idea for the team: {feature}",
        "when will {feature} be available",
        "could you support {feature} in the next release",
        "voting for {feature}, please build it",
    ],
}

# Side remarks that mention another intent's words; the label stays the main request's.
ASIDES = {
    "billing": ["also my last invoice looked odd", "btw your prices went up again", "and please fix my billing email"],
    "password_reset": ["I also forgot my password last week", "btw the reset email took ages last time"],
    "shipping": ["also my other order hasn't shipped", "btw the parcel box was damaged last time"],
    "refund": ["I got a refund last time without problems", "last year you refunded me quickly"],
    "account_locked": ["my account got locked last month too", "I was locked out once before"],
    "bug_report": ["the app was also really slow yesterday", "btw the page showed an error earlier"],
    "cancel_subscription": ["otherwise I'm going to cancel", "I'm thinking about cancelling to be honest"],
    "feature_request": ["also, dark mode would be nice", "and please add an export button someday"],
}
ASIDE_RATE = 0.3

OPENERS = ["", "", "", "Hi, ", "Hello, ", "hey ", "Hi team, ", "Good morning, ", "Hello support, ", "hi there - ",
           "Urgent: ", "Quick question: ", "Hey guys, ", "Dear support, "]
CLOSERS = ["", "", "", "", " Thanks!", " thx", " Thank you.", " Please help.", " asap please", " Regards, Sam",
           " Cheers", " thanks in advance", " (sent from my phone)", " I've been a customer for years."]
TYPO_RATE = 0.07
CHANNELS = ["email", "chat", "web form", "phone note"]
STATUSES = ["closed", "closed", "resolved", "open"]
PRIORITIES = ["low", "normal", "normal", "high"]


def fill(template: str, rng: random.Random) -> str:
    out = template
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        key = out[start + 1 : end]
        if key == "n":
            value = str(rng.randint(10000, 99999))
        elif key == "order":
            value = rng.choice(V["order"]).replace("{n}", str(rng.randint(10000, 99999)))
        else:
            value = rng.choice(V[key])
        out = out[:start] + value + out[end + 1 :]
    return out


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # swap two letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:  # drop a letter
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # double a letter


def noisy(text: str, rng: random.Random) -> str:
    words = [typo(w, rng) if rng.random() < TYPO_RATE else w for w in text.split(" ")]
    text = " ".join(words)
    style = rng.random()
    if style < 0.2:
        text = text.lower()
    elif style < 0.25:
        text = text.upper() if len(text) < 60 else text
    elif style < 0.6:
        text = text[0].upper() + text[1:]
    end = rng.choice(["", "", ".", "?", "!", "!!", "..."])
    if text[-1] not in ".?!":
        text += end
    return text


def make_tickets() -> list[dict]:
    rng = random.Random(SEED)
    tickets: list[dict] = []
    seen: set[str] = set()
    for intent in sorted(INTENTS):
        templates = INTENTS[intent]
        made = 0
        while made < PER_INTENT:
            template = templates[made % len(templates)] if made < len(templates) else rng.choice(templates)
            body = noisy(fill(template, rng), rng)
            if rng.random() < ASIDE_RATE:
                other = rng.choice(sorted(k for k in ASIDES if k != intent))
                aside = rng.choice(ASIDES[other])
                body = body + " " + (aside[0].upper() + aside[1:] + "." if body[-1] in ".?!" else "- " + aside)
            message = (rng.choice(OPENERS) + body + rng.choice(CLOSERS)).strip()
            key = message.lower()
            if key in seen:
                continue
            seen.add(key)
            tickets.append({"message": message, "category": intent})
            made += 1
    rng.shuffle(tickets)
    for i, t in enumerate(tickets, start=1):
        t["id"] = f"T-{i:04d}"
        t["channel"] = rng.choice(CHANNELS)
        t["status"] = rng.choice(STATUSES)
        t["priority"] = rng.choice(PRIORITIES)
    return tickets


def main(outdir: Path) -> None:
    tickets = make_tickets()
    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / "support_tickets.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for t in tickets:
            fh.write(json.dumps({"input": t["message"], "target": t["category"]}, sort_keys=True,
                                ensure_ascii=False) + "\n")
    export = {"exported_from": "helpdesk", "records": tickets}
    with open(outdir / "state_records.json", "w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps(export, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for t in tickets:
        counts[t["category"]] = counts.get(t["category"], 0) + 1
    print(json.dumps({"rows": len(tickets), "classes": counts}, sort_keys=True))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
