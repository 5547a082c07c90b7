"""One paragraph and an example for every keyword of the grammar, for hover.

Several keywords that only make sense together share one entry (`repeat up to ... times`).
tests/lsp/test_keyword_docs.py checks that every keyword terminal of grammar/n3.lark has an
entry and that every example parses (an example that does not start with a top-level word is
a flow body). The texts follow /work/shared/LANGUAGE.md (the section is named).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeywordDoc:
    """The words an entry covers, its paragraph (Markdown) and an example (.ai source)."""

    words: tuple[str, ...]
    text: str
    example: str


def _doc(words: str, text: str, example: str) -> KeywordDoc:
    return KeywordDoc(tuple(words.split()), text, example)


ENTRIES: tuple[KeywordDoc, ...] = (
    # ---- program shape (§2)
    _doc("spec", "`spec is \"1.0\"` names the language version the app is written for. It is "
         "required exactly once, anywhere at the top level; only \"1.0\" runs.", 'spec is "1.0"'),
    _doc("capabilities", "`capabilities:` lists what the app is allowed to use, one token per line or "
         "inline in brackets. This runtime enforces `training`, `http`, `files`, `secrets` and "
         "`composition.includes` (§2).", 'capabilities:\n  training\n  http'),
    # ---- records (§3)
    _doc("record", "`record \"Name\":` declares a kind of stored data: one field per line (`name type "
         "[must ...]`), or the braced one-line form. Flows create, find, update, delete and save its rows (§3).",
         'record "User":\n  email text must be present\n  age number'),
    _doc("version shared", "Optional words of a record header: `version \"1.0\"` labels the record's "
         "version and `shared` marks it shared between apps (namel3ss's record header).",
         'record "Note" version "1.0" shared:\n  body text'),
    _doc("field", "The legacy field form `field \"email\" is text` inside a record; accepted with a "
         "`legacy-field` warning. Write `email text` instead (§3).", 'record "User":\n  field "email" is text'),
    _doc("fields", "`fields:` opens a block of field lines inside a record or identity; quoted field "
         "names (with spaces) are allowed there (§3).", 'record "Item":\n  fields:\n    "unit price" is number'),
    _doc("tenant_key", "`tenant_key is identity.org_id` scopes a record's rows to one identity value, as "
         "namel3ss does.", 'record "Doc":\n  title text\n  tenant_key is identity.org_id'),
    _doc("must be", "`must` starts a field's constraints, each `be ...`, `match pattern ...` or `have "
         "length ...`, joined with `and`. They are checked on create, save and update (§3).",
         'record "User":\n  age number must be at least 18 and be at most 130'),
    _doc("present", "`must be present`: the field may not be missing or null (§3).",
         'record "User":\n  email text must be present'),
    _doc("unique", "`must be unique`: no two rows of the record may hold the same value (§3).",
         'record "User":\n  email text must be unique'),
    _doc("integer an a", "`must be an integer` (also `be a integer`, `be integer`): the number must be "
         "whole (§3).", 'record "Order":\n  qty number must be an integer\n  rank number must be a integer'),
    _doc("pattern", "`must match pattern \"re\"`: the text must fully match the regular expression (§3).",
         'record "User":\n  email text must match pattern "^[^@]+@[^@]+$"'),
    _doc("have length", "`must have length at least N` / `at most N`: a bound on a text's length (§3).",
         'record "User":\n  name text must have length at least 3'),
    # ---- flows (§4, §9)
    _doc("flow", "`flow \"name\":` declares a flow: the program's entry points, run with `n3 run`. "
         "Its result is its `return` value, else the last value produced (§4). Also `call flow` and "
         "`contract flow` (§9).", 'flow "hello":\n  return "Hello"'),
    _doc("requires", "`requires EXPR` in a flow header: evaluated before the body on every run; when "
         "false the run stops (`access is not permitted`). Flows that change records need it (§4).",
         'flow "admin" requires identity.role is "admin":\n  return "ok"'),
    _doc("audited", "`audited` in a flow header marks the flow as audited (namel3ss's header item, "
         "accepted at most once).", 'flow "pay": audited\n  return 1'),
    _doc("purity", "`purity is \"pure\"` or `\"effectful\"` in a flow or tool header; a pure flow may "
         "not call an effectful one.", 'flow "sum": purity is "pure"\n  return 1 + 2'),
    _doc("require", "`require \"condition\"` is a step of a declarative flow (no colon after the header) "
         "(§9).", 'flow "create_note" requires true\n  require "a signed-in user"\n  create "Note"\n    body is input.body'),
    _doc("foreign", "`call foreign \"name\"` is a step of a declarative flow calling a foreign function, "
         "with optional indented `field is EXPR` lines (§9).", 'flow "sync" requires true\n  call foreign "push"\n    id is 1'),
    # ---- functions, tools, ai, prompts, models (§7, §9)
    _doc("define function", "`define function \"name\":` declares a pure function with a required "
         "`input:` block and an optional `output:` block; call it with `call function` (§9).",
         'define function "add":\n  input:\n    a is number\n    b is number\n  return a + b'),
    _doc("input", "`input:` is the block of a function's, contract's or tool's inputs; in a flow, "
         "`input` is the run's input value (`input.question`) (§9).",
         'define function "double":\n  input:\n    n is number\n  return n * 2'),
    _doc("output", "`output:` lists a function's, contract's or tool's outputs; `call flow` names the "
         "fields it takes from the result (§9).",
         'define function "split":\n  input:\n    n is number\n  output:\n    half is number\n  return map:\n    half is n / 2'),
    _doc("optional", "`optional` before an input's type: the argument may be left out.",
         'define function "greet":\n  input:\n    name is optional text\n  return "hi"'),
    _doc("tool", "`tool \"name\":` declares a tool implemented outside the app (`implemented using "
         "python`, `http` or `file`) with `input:` and `output:` fields; call it by its phrase (§9).",
         'tool "greet someone":\n  implemented using python\n  input:\n    name is text\n  output:\n    message is text'),
    _doc("implemented using", "`implemented using python|http|file` says how a tool runs; python "
         "tools are bound in `.namel3ss/tools.yaml` (§9).", 'tool "lookup":\n  implemented using python\n  input:\n    id is number\n  output:\n    name is text'),
    _doc("ai", "`ai \"name\":` declares an ai profile: `model is \"...\"` (required), `provider`, "
         "`system_prompt`, `tools:` and `memory:` blocks. Used by `ask ai` (§7, §9). In a flow, "
         "`ai:` is the flow's metadata block.", 'ai "support":\n  model is "faq_v2"\n  system_prompt is "Be brief."'),
    _doc("tools expose", "`tools:` in an ai block lists the tools the ai may use, one `expose \"tool\"` "
         "line each (§9).", 'ai "helper":\n  model is "m"\n  tools:\n    expose "lookup"'),
    _doc("memory", "`memory:` in an ai block: `short_term` (a whole number), `semantic` and `profile` "
         "(true or false) (§9).", 'ai "helper":\n  model is "m"\n  memory:\n    short_term is 5'),
    _doc("prompt", "`prompt \"name\":` declares a prompt: `text is \"...\"` (required), `version`, "
         "`description` (§9).", 'prompt "greet":\n  version is "1.0"\n  text is "Say hello."'),
    _doc("model", "`model \"name\":` declares a model to train (extension, §7): the keys of "
         "training.yaml, validated by the same code and schema. Needs the `training` capability; "
         "`n3 train app.ai` trains it.", 'model "faq_v2":\n  model_base is "gpt-3.5-turbo"\n  dataset is "data/faq.jsonl"'),
    _doc("predict", "`predict \"model\" with EXPR` runs a trained model on a value and gives a map "
         "with label, confidence and top (extension, §7; needs `training`).",
         'let scored is predict "faq_v2" with input.question'),
    _doc("identity", "`identity \"user\":` declares the fields of the caller's identity (as a "
         "record's), plus `trust_level is one of ...`; flows read them as `identity.x` (§9).",
         'identity "user":\n  role text\n  trust_level is one of "guest", "verified"'),
    _doc("contract", "`contract flow \"name\":` states a flow's `input:` and `output:` fields; `call "
         "flow` needs it (§9).", 'contract flow "add":\n  input:\n    a is number\n  output:\n    total is number'),
    _doc("use module as only allow override", "`use \"capsule\" as alias` or `use module \"file.ai\" as "
         "alias` brings in a module (§9); after `use module`, `only:` picks categories and `allow "
         "override:` the ones the app may redefine. `override flow \"x\":` replaces a preset's flow.",
         'use module "modules/common.ai" as common\nonly:\n  functions\nallow override:\n  records'),
    _doc("include", "`include \"file.ai\"` adds another file's declarations to the app; needs the "
         "`composition.includes` capability (§9).", 'include "shared.ai"'),
    # ---- statements (§5)
    _doc("let constant", "`let x is EXPR` binds a name; `constant` after the value forbids `set` on "
         "it. `let:` binds several names, one or more `a is EXPR` per line (§5).", 'let total is 3 constant'),
    _doc("set", "`set x is EXPR` changes an existing variable; `set state.a.b is EXPR` writes app "
         "state; `set state.order with:` sets several keys. In `update`, `set:` starts the new "
         "values (§5).", 'let count is 1\nset count is count + 1'),
    _doc("if else", "`if EXPR:` runs its block when the condition is true; `else:` otherwise. The "
         "condition must be a boolean; there is no `else if` (§5).",
         'if input.age is at least 18:\n  return "adult"\nelse:\n  return "minor"'),
    _doc("repeat up times while limit", "`repeat up to N times:` runs its block exactly N times; "
         "`repeat while EXPR limit N:` at most N times, while the condition holds (§5).",
         'let n is 0\nrepeat up to 3 times:\n  set n is n + 1\nrepeat while n is less than 9 limit 10:\n  set n is n + 1'),
    _doc("for each in", "`for each x in LIST:` runs its block once per item, x naming it (§5).",
         'let total is 0\nfor each n in list: 1, 2, 3:\n  set total is total + n'),
    _doc("match when otherwise", "`match EXPR:` then `with:` and `when VALUE:` cases; the first "
         "equal case runs, else `otherwise:` (§5).",
         'match input.kind:\n  with:\n    when "a":\n      return 1\n    otherwise:\n      return 0'),
    _doc("with", "`with` joins a statement to its value: `create \"R\" with MAP`, `ask ai \"a\" with "
         "input: X`, `predict \"m\" with X`, the `with:` of `match`, `with catch` of `try`, and the "
         "collection blocks (`map XS with item as x:`).", 'try:\n  return 1 / 0\nwith catch err:\n  return err.message'),
    _doc("try catch", "`try:` runs its block; a run-time error inside goes to `with catch err:`, err "
         "holding message, line and column (§5).", 'try:\n  return 1 / 0\nwith catch err:\n  return err.message'),
    _doc("return", "`return EXPR` ends the flow (or function) with that value, from any depth (§5).",
         'return "done"'),
    _doc("create as", "`create \"Record\" with MAP as x` stores a new row and binds it, with its id, "
         "to x. `as` names the result of `create`, `ask ai` and the collection blocks (§5).",
         'create "User" with map:\n  email is "a@b.c"\nas user'),
    _doc("find where", "`find \"Record\" where PRED` binds `record_results` (the record name "
         "lower-cased) to the matching rows; PRED sees each row's fields (§5).",
         'find "User" where age is at least 18'),
    _doc("update", "`update \"Record\" where PRED set:` + `field is EXPR` lines changes the matching "
         "rows, all or nothing; its value is the count updated (§5).",
         'update "User" where email is "a@b.c" set:\n  age is 30'),
    _doc("delete", "`delete \"Record\" where PRED` removes the matching rows; its value is the count "
         "deleted (§5).", 'delete "User" where age is less than 18'),
    _doc("save", "`save \"Record\"` validates and stores `state.<record>` as a row (§5).",
         'set state.user with:\n  email is "a@b.c"\nsave "User"'),
    _doc("ask", "`ask ai \"name\" with input: EXPR as x` asks an ai profile and binds its answer "
         "(§7, §9).", 'ask ai "support" with input: input.question as reply'),
    _doc("stream structured text image audio", "Forms of `ask ai`'s input: `stream: true and`, "
         "`text input:` / `image input:` / `audio input:`, or `structured input from EXPR` (namel3ss's "
         "ask ai).", 'ask ai "helper" with stream: true and text input: input.q as a\nask ai "helper" with image input: input.photo as b\nask ai "helper" with audio input: input.clip as c\nask ai "helper" with structured input from input.form as d'),
    _doc("calc", "`calc:` + indented `name = EXPR` lines: several lets written with `=` (§5).",
         'calc:\n  total = 2 + 3\n  double = total * 2'),
    _doc("order by from", "`order TARGET by FIELD from highest to lowest` (or `lowest to highest`) "
         "sorts a list of maps in place, stably (§5).", 'let rows is list:\n  map:\n    score is 2\norder rows by score from highest to lowest'),
    _doc("keep first items", "`keep first N items` truncates the list the preceding `order` sorted (§5).",
         'let rows is list:\n  map:\n    score is 2\norder rows by score from highest to lowest\nkeep first 1 items'),
    _doc("log", "`log LEVEL EXPR [with MAP]` appends a trace event (debug, info, warn, error); it "
         "does not change the result (§5).", 'log info "started"'),
    _doc("metric", "`metric KIND ...` appends a metric event to the trace, as namel3ss's metric "
         "statement (§5).", 'metric counter "requests" increment'),
    # ---- app surface statements (§10)
    _doc("run agent agents parallel", "`run agent \"name\" with input: EXPR as x`, `run agents in "
         "parallel:` and `parallel:` blocks need the app surface: they parse, and fail with a clear "
         "error when run (§10).", 'run agent "writer" with input: "topic" as draft\nrun agents in parallel:\n  agent "a" with input: 1\n  agent "b" with input: 2\nas results\nparallel:\n  run "one":\n    let x is 1'),
    _doc("merge", "`merge:` collects the results of `run agents in parallel:`, `parallel:` or "
         "`orchestration:` (settings such as `policy is ...`) (§10).",
         'orchestration:\n  branch "a":\n    call function "f":\n      x is 1\nmerge:\n  policy is "first_success"\nas result'),
    _doc("orchestration branch", "`orchestration:` + `branch \"name\":` blocks, each holding one call, "
         "then `merge:` and `as x` (namel3ss's orchestration, §10).",
         'orchestration:\n  branch "a":\n    call function "f":\n      x is 1\nmerge:\n  policy is "first_success"\nas result'),
    _doc("enqueue job after", "`enqueue job \"name\"` [`at`/`after EXPR`] [`with input: EXPR`] "
         "schedules a job of the app surface; running it is an error here (§10).",
         'enqueue job "report" after 5'),
    _doc("theme", "`set theme to \"dark\"` changes the app surface's theme; running it is an error "
         "here (§10).", 'set theme to "dark"'),
    _doc("tick", "`tick N` advances the job scheduler's logical clock (§10).", 'tick 1'),
    _doc("pipeline", "`call pipeline \"name\":` with `input:` and `output:` blocks, as `call flow` "
         "(namel3ss's pipelines).", 'let r is call pipeline "ingest":\n  input:\n    x is 1\n  output:\n    y'),
    # ---- expressions (§6)
    _doc("call", "`call function \"name\":` + `arg is EXPR` lines calls a function; `call flow "
         "\"name\":` with `input:` and `output:` blocks runs a flow (§6, §9).",
         'let sum is call function "add":\n  a is 1\n  b is 2'),
    _doc("and or not", "Boolean operators: `and`, `or` (short-circuit) and `not`; operands must be "
         "booleans. Precedence: or < and < not < comparison (§6).", 'let ok is not false and (true or false)'),
    _doc("is", "`is` binds (`let x is 1`), sets a field or setting, and compares: `a is b`, `is "
         "not`, `is greater than`, `is at least`, `is between A and B`, `is one of ...` (§6).",
         'let same is 1.0 is 1'),
    _doc("equal", "`is equal to` / `is not equal to`: the same as `is` / `is not` (§6).",
         'let same is 2 is equal to 2'),
    _doc("greater less than", "`is greater than` / `is less than` compare numbers (§6); in a record "
         "constraint, `must be greater than N`.", 'let big is 10 is greater than 3\nlet small is 1 is less than 3'),
    _doc("at least most", "`is at least` / `is at most` compare numbers, ends included (§6); `must be "
         "at least N` in a record (§3). `at` also reads `list get XS at I`.", 'let adult is 20 is at least 18\nlet low is 2 is at most 5'),
    _doc("between strictly", "`is between A and B` (ends included) and `is strictly between A and B` "
         "(ends excluded) (§6).", 'let inside is 5 is strictly between 1 and 10'),
    _doc("one of", "`is one of A, B, C` (or `[A, B]`, or a `:` block of literals) tests membership "
         "(§6). `list of TYPE:` makes a typed list.", 'let ok is "b" is one of "a", "b"'),
    _doc("true false null", "The literals `true`, `false` (lower case only) and `null` (§6).",
         'let flags is list: true, false, null'),
    _doc("list", "`list: a, b` or `list:` + one item per line makes a list; `list of number: 1, 2` a "
         "typed one; `list length of`, `list append ... with`, `list get ... at` work on lists (§6).",
         'let xs is list: 1, 2, 3'),
    _doc("length append get", "`list length of XS`, `list append XS with V`, `list get XS at I`, "
         "`map get M key K`: list and map operations that return new values (§6).",
         'let xs is list append list: 1, 2 with 3\nlet first is list get xs at 0\nlet n is list length of xs'),
    _doc("map key keys value", "`map:` + `key is EXPR` lines makes a map; `map get M key K`, `map set "
         "M key K value V`, `map keys M` (sorted); `map XS with item as x:` maps a list (§6).",
         'let m is map:\n  a is 1\nlet ks is map keys m\nlet m2 is map set m key "b" value 2\nlet b is map get m2 key "b"'),
    _doc("item acc starting", "Collection blocks: `map XS with item as x:`, `filter XS with item as "
         "x:`, `reduce XS with acc as s and item as v starting 0:` + an indented expression (§6).",
         'let total is reduce list: 1, 2 with acc as s and item as v starting 0:\n  s + v'),
    _doc("to", "`to` in `repeat up to N times`, `is equal to`, `from highest to lowest` and `set "
         "theme to`.", 'let n is 0\nrepeat up to 2 times:\n  set n is n + 1'),
    _doc("of", "`of` in `is one of`, `list length of` and `list of TYPE:` (§6).",
         'let xs is list of number: 1, 2'),
)

#: Keyword spelling -> its entry.
DOCS: dict[str, KeywordDoc] = {word: entry for entry in ENTRIES for word in entry.words}


def keyword_markdown(word: str) -> str | None:
    """Hover text of a keyword: its paragraph and example as Markdown, or None."""
    entry = DOCS.get(word)
    if entry is None:
        return None
    return f"**`{word}`** (keyword)\n\n{entry.text}\n\n```n3\n{entry.example}\n```"
