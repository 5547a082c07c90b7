"""The words of the language as the front end knows them.

Keywords and punctuation come from the grammar's own terminals, recorded when the parser is
built (set_vocabulary); the reserved words are namel3ss's list (LANGUAGE.md §1), which is a
rule about names, not part of the grammar.
"""

from __future__ import annotations

#: Keyword terminal names of the grammar and their spelling (SPEC -> "spec"), filled from the
#: grammar's own terminals when the parser is built (set_keywords): no hand-kept list.
KEYWORDS: dict[str, str] = {}
#: The same, by spelling (spec -> SPEC).
KEYWORD_OF_WORD: dict[str, str] = {}


def set_vocabulary(keywords: dict[str, str], punct: dict[str, str]) -> None:
    """Record the grammar's keywords and punctuation (spelling -> terminal name, as the parse
    tables carry them) for the messages."""
    KEYWORD_OF_WORD.clear()
    KEYWORD_OF_WORD.update(keywords)
    KEYWORDS.clear()
    KEYWORDS.update({name: word for word, name in keywords.items()})
    PUNCTUATION.clear()
    PUNCTUATION.update({name: text for text, name in punct.items()})


#: Punctuation terminal names and their spelling (COLON -> ":"), filled the same way.
PUNCTUATION: dict[str, str] = {}

#: Words that cannot name a variable (unless escaped with backticks). Common words stay free:
#: count, item, result, value, total, list, map, define, function, update, delete, requires,
#: limit, while, between, one, of, field, fields.
RESERVED_WORDS: frozenset[str] = frozenset(
    # namel3ss's 108 reserved words (LANGUAGE.md §1), exactly.
    """agent agents ai and app as ask async at await be bool boolean button call calls
    capabilities card catch column constant create divider each else enqueue entry equal expose
    false find flow for form greater have if image in input input_schema int integer is job json
    kind latest least length less let match memory model most must not null number or otherwise
    output_schema page parallel param pattern present profile provider purity record repeat
    require return row run save section semantic set short_term spec state str string
    system_prompt table text than theme theme_preference theme_tokens timeout_seconds times title
    to tool tools true try ui unique up when where with yield""".split()
)
#: Reserved words that are read as values where an expression is expected.
VALUE_WORDS: frozenset[str] = frozenset(("input", "state"))

#: LANGUAGE.md §10: the top-level words of namel3ss's app surface (its parser's top-level
#: rules, parser/grammar_table.py, less the ones this runtime parses: spec, capabilities,
#: record, flow, define, identity, tool, prompt, contract, use, include, ai). A line at column
#: 1 starting with one of these, where a declaration may start, is read with its indented
#: body as one SURFACE token: accepted, its references checked, not served.
SURFACE_WORDS: frozenset[str] = frozenset(
    """app theme responsive permissions policy packs foreign capsule team agent crud
    llm_call rag classification classify summarise translate qa cot chain route job page
    nav_sidebar ui_state ui ui_pack pattern""".split()
)
