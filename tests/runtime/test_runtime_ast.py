"""The interpreter on hand-built ASTs: semantics that do not need the parser."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from n3lang import ast as A
from n3lang.diagnostics import DiagnosticError, make
from n3lang.runtime import Limits, RunResult, run_flow, to_json_value
from n3lang.runtime.interpreter import _confidence
from n3lang.runtime.values import dumps, number_text, values_equal

S = A.Span


def L(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = D(str(v))
    return A.Literal(v)


N = A.Name


def B(op, a, b):
    return A.Binary(op, a, b)


def prog(*body, requires=None, decls=(), caps=()):
    head = [A.SpecDecl("1.0")]
    if caps:
        head.append(A.CapabilitiesDecl(tuple(A.Capability(c) for c in caps)))
    flow = A.FlowDecl("main", tuple(body), requires=requires)
    return A.Program(tuple(head) + tuple(decls) + (flow,), path="t.ai")


def run(*body, input=None, **kw) -> RunResult:
    extra = {k: kw.pop(k) for k in list(kw) if k in ("state_path", "limits", "predictor_loader")}
    return run_flow(prog(*body, **kw), None, input, **extra)


def value(*body, **kw):
    r = run(*body, **kw)
    assert r.ok, r.error
    return r.result


def error(*body, **kw):
    r = run(*body, **kw)
    assert not r.ok
    return r.error


# ---------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    "op,a,b,want",
    [("+", "0.1", "0.2", "0.3"), ("/", "10", "4", "2.5"), ("%", "-7", "3", "-1"),
     ("%", "7", "-3", "1"), ("*", "1.5", "2", "3"), ("-", "1", "3", "-2"),
     ("/", "1", "3", "0.3333333333333333333333333333"), ("**", "2", "10", "1024"),
     ("**", "0", "0", "1"), ("%", "1E+40", "7", None)],
)
def test_arithmetic(op, a, b, want):
    got = value(A.Return(B(op, L(D(a)), L(D(b)))))
    if want is None:
        assert got == 10**40 % 7
    else:
        assert got == D(want) and number_text(got) == want


def test_power_is_right_assoc_and_binds_tighter_than_unary_minus():
    assert value(A.Return(B("**", L(2), B("**", L(3), L(2))))) == 512
    assert value(A.Return(A.Unary("-", B("**", L(2), L(2))))) == -4


def test_results_round_to_28_digits_but_literals_are_exact():
    lit = D("0.12345678901234567890123456789012")
    assert value(A.Return(L(lit))) == lit
    assert value(A.Return(B("+", L(lit), L(0)))) == D("0.1234567890123456789012345679")


@pytest.mark.parametrize(
    "op,b,msg",
    [("/", "0", "Division by zero."), ("%", "0", "Modulo by zero."),
     ("**", "-1", "Division by zero.")],
)
def test_arithmetic_errors(op, b, msg):
    span = S(3, 10, 3, 15)
    e = error(A.Return(A.Binary(op, L(0), L(D(b)), span=span)))
    assert e.message == msg and e.code == "runtime-arithmetic-error"
    assert (e.span.line, e.span.column) == (3, 10)


def test_overflow_is_an_error_not_a_traceback():
    e = error(A.Return(B("**", L(10), L(999999999))))
    assert e.message == "Number is too large."


def test_text_join_and_type_error():
    assert value(A.Return(B("+", L("a"), L("b")))) == "ab"
    e = error(A.Return(B("+", L("a"), L(1))))
    assert e.message == "Cannot apply '+' to text and number." and e.code == "runtime-type-error"


# ---------------------------------------------------------------- comparisons
@pytest.mark.parametrize(
    "left,op,operands,want",
    [(1, "is", [D("1.0")], True), (1, "is", ["1"], False), (1, "is", [True], False),
     (True, "is", [True], True), (1, "is not", [2], True), (5, "is between", [1, 5], True),
     (5, "is strictly between", [1, 5], False), (3, "is one of", [1, 2, 3], True),
     (3, "is at least", [3], True), (3, "is at most", [2], False),
     (4, "is greater than", [3], True), (4, "is less than", [3], False)],
)
def test_comparisons(left, op, operands, want):
    assert value(A.Return(A.Compare(op, L(left), tuple(L(o) for o in operands)))) is want


def test_lists_compare_item_by_item():
    xs = A.ListExpr((L(1), L(2)))
    ys = A.ListExpr((L(D("1.0")), L(2)))
    assert value(A.Return(A.Compare("is", xs, (ys,)))) is True
    zs = A.ListExpr((L(1), L(True)))
    assert value(A.Return(A.Compare("is", xs, (zs,)))) is False


def test_ordering_needs_numbers():
    e = error(A.Return(A.Compare("is greater than", L("a"), (L(1),))))
    assert e.message == "Comparison requires numbers."


def test_boolean_operands_must_be_booleans():
    assert value(A.Return(A.BoolOp("and", L(False), L(1)))) is False  # short-circuit
    assert value(A.Return(A.BoolOp("or", L(True), L(1)))) is True
    assert error(A.Return(A.BoolOp("and", L(True), L(1)))).message == "Operator 'and' requires a boolean."
    assert error(A.Return(A.Not(L(0)))).message == "Operator 'not' requires a boolean."


# ---------------------------------------------------------------- statements
def test_result_is_last_value_or_null():
    assert value(A.Let("x", L(1)), A.Set(("x",), L(2))) == 2
    assert value(A.If(L(True), (A.Let("x", L(1)),)), A.Match(L(1), ())) == 1
    assert value(A.Match(L(1), ())) is None


def test_set_rules():
    e = error(A.Set(("x",), L(1), span=S(2, 3, 2, 10)))
    assert e.message == "Cannot set undeclared variable 'x'" and e.span.line == 2
    e = error(A.Let("x", L(1), constant=True), A.Set(("x",), L(2)))
    assert e.message == "Cannot set constant 'x'"
    # As in namel3ss, a name bound `constant` stays constant for the rest of the flow, even
    # after a plain `let` binds it again.
    e = error(A.Let("x", L(1), constant=True), A.Let("x", L(2)), A.Set(("x",), L(3)))
    assert e.message == "Cannot set constant 'x'"


def test_set_state_path_creates_maps_and_copies():
    r = run(A.Let("s", N("state")), A.Set(("state", "a", "b"), L(1)), A.Return(N("s")))
    assert r.ok and r.result == {} and r.state == {"a": {"b": 1}}


def test_if_condition_must_be_boolean():
    e = error(A.If(L(1), (A.Return(L(1)),), span=S(4, 3, 4, 9)))
    assert e.message == "If condition did not evaluate to true/false." and e.span.line == 4


def test_repeat_times():
    body = (A.Set(("n",), B("+", N("n"), L(1))),)
    assert value(A.Let("n", L(0)), A.RepeatTimes(L(3), body), A.Return(N("n"))) == 3
    assert value(A.Let("n", L(0)), A.RepeatTimes(L(0), body), A.Return(N("n"))) == 0
    assert error(A.RepeatTimes(L(D("1.5")), body)).message == "Repeat count must be an integer"
    assert error(A.RepeatTimes(L(-1), body)).message == "Repeat count cannot be negative"


def test_repeat_while_limit():
    inc = (A.Set(("n",), B("+", N("n"), L(1))),)
    cond = A.Compare("is less than", N("n"), (L(3),))
    assert value(A.Let("n", L(0)), A.RepeatWhile(cond, L(3), inc), A.Return(N("n"))) == 3
    e = error(A.Let("n", L(0)), A.RepeatWhile(cond, L(2), inc))
    assert e.message == "Loop limit hit"
    assert error(A.RepeatWhile(L(1), L(2), inc)).message == "If condition did not evaluate to true/false."


def test_for_each_keeps_variable():
    body = (A.Set(("t",), B("+", N("t"), N("x"))),)
    xs = A.ListExpr((L(1), L(2), L(3)))
    assert value(A.Let("t", L(0)), A.ForEach("x", xs, body), A.Return(B("+", N("t"), N("x")))) == 9
    assert error(A.ForEach("x", L(1), body)).message == "For-each expects a list"


def test_match():
    cases = (A.MatchCase(L("a"), (A.Return(L(1)),)), A.MatchCase(L("b"), (A.Return(L(2)),)))
    assert value(A.Match(L("b"), cases, (A.Return(L(3)),))) == 2
    assert value(A.Match(L("z"), cases, (A.Return(L(3)),))) == 3


def test_try_catch_exposes_message_line_column():
    bad = A.Return(A.Binary("/", L(1), L(0), span=S(7, 12, 7, 17)))
    catch = (A.Return(A.ListExpr((A.Attribute(N("err"), "message"), A.Attribute(N("err"), "line"),
                                  A.Attribute(N("err"), "column")))),)
    assert value(A.Try((bad,), "err", catch)) == ["Division by zero.", 7, 12]


def test_guards_are_not_caught():
    loop = A.RepeatTimes(L(1000), (A.Let("x", L(1)),))
    r = run(A.Try((loop,), "err", (A.Return(L("caught")),)), limits=Limits(max_steps=100))
    assert not r.ok and r.error.code == "runtime-limit"


def test_attributes_and_indexing():
    m = A.MapExpr((A.MapEntry("a", A.MapExpr((A.MapEntry("b", L(1)),))),))
    assert value(A.Let("m", m), A.Return(A.Attribute(A.Attribute(N("m"), "a"), "b"))) == 1
    assert error(A.Let("m", m), A.Return(A.Attribute(N("m"), "c"))).message == "Missing attribute 'c'"
    xs = A.ListExpr((L(1), L(2)))
    assert value(A.Return(A.Index(xs, L(1)))) == 2
    assert error(A.Return(A.Index(xs, L(2)))).message == "List index is out of range"
    assert error(A.Return(A.Index(xs, L(-1)))).message == "List index is out of range"


def test_builtins_return_new_values():
    xs = A.ListExpr((L(3), L(1), L(2)))
    got = value(
        A.Let("xs", xs),
        A.Let("ys", A.BuiltinCall("list append", (N("xs"), L(4)))),
        A.Let("m", A.MapExpr((A.MapEntry("b", L(1)), A.MapEntry("a", L(2))))),
        A.Let("m2", A.BuiltinCall("map set", (N("m"), L("c"), L(3)))),
        A.Return(A.ListExpr((
            A.BuiltinCall("list length", (N("xs"),)), A.BuiltinCall("list length", (N("ys"),)),
            A.BuiltinCall("list get", (N("ys"), L(3))), A.BuiltinCall("map keys", (N("m"),)),
            A.BuiltinCall("map keys", (N("m2"),)), A.BuiltinCall("map get", (N("m2"), L("c"))),
            A.BuiltinCall("sum", (N("xs"),)), A.BuiltinCall("min", (N("xs"),)),
            A.BuiltinCall("max", (N("xs"),)), A.BuiltinCall("mean", (N("xs"),)),
            A.BuiltinCall("median", (N("ys"),)),
        ))),
    )
    assert got == [3, 4, 4, ["a", "b"], ["a", "b", "c"], 3, 6, 1, 3, 2, D("2.5")]


def test_function_calls():
    fn = A.FunctionDecl("double", (A.Param("x", A.TypeRef("number")),
                                   A.Param("note", A.TypeRef("text"), optional=True)),
                        (A.Param("result", A.TypeRef("number")),),
                        (A.Return(A.MapExpr((A.MapEntry("result", B("*", N("x"), L(2))),))),))
    call = lambda *args: A.CallFunction("double", tuple(A.Argument(k, v) for k, v in args))  # noqa: E731
    assert value(A.Return(call(("x", L(21)))), decls=(fn,)) == {"result": 42}
    assert value(A.Return(call(("x", L(21)), ("note", L(None)))), decls=(fn,)) == {"result": 42}
    assert error(A.Return(call()), decls=(fn,)).message == "Missing function input 'x'"
    assert error(A.Return(call(("x", L(1)), ("y", L(1)))), decls=(fn,)).message == \
        "Unknown function input 'y'"
    assert error(A.Return(call(("x", L("a")))), decls=(fn,)).message == "Expected number but got text"
    assert error(A.Return(call(("x", L(1)), ("x", L(2)))), decls=(fn,)).message == \
        "Duplicate function argument 'x'"
    bare = A.FunctionDecl("bare", (A.Param("x", A.TypeRef("number")),), (A.Param("y", A.TypeRef("number")),),
                          (A.Return(N("x")),))
    assert error(A.Return(A.CallFunction("bare", (A.Argument("x", L(1)),))), decls=(bare,)).message == \
        "Function return must be a map"
    silent = A.FunctionDecl("silent", (), (), (A.Let("y", L(1)),))
    assert error(A.Return(A.CallFunction("silent", ())), decls=(silent,)).message == \
        'Function "silent" ended without return'



def test_no_recursion_and_no_state_in_functions():
    rec = A.FunctionDecl("f", (), (), (A.Return(A.CallFunction("f", ())),))
    assert error(A.Return(A.CallFunction("f", ())), decls=(rec,)).message == "Function recursion is not allowed"
    st = A.FunctionDecl("g", (), (), (A.Return(N("state")),))
    assert error(A.Return(A.CallFunction("g", ())), decls=(st,)).message == "Functions cannot read state"
    ident = A.FunctionDecl("h", (), (), (A.Return(N("identity")),))
    assert error(A.Return(A.CallFunction("h", ())), decls=(ident,)).message == "Functions cannot access identity"
    builtin = A.FunctionDecl("k", (), (), (A.Return(A.CallBuiltin("has_role", (L("a"),))),))
    assert error(A.Return(A.CallFunction("k", ())), decls=(builtin,)).message == "Functions cannot call builtins"


# ---------------------------------------------------------------- records
USER = A.RecordDecl("User", (
    A.FieldDecl("name", A.TypeRef("text"), (A.Constraint("present"), A.Constraint("unique"))),
    A.FieldDecl("age", A.TypeRef("number"), (A.Constraint("at_least", (L(18),)),)),
))


def create(name, age, binding="u"):
    m = A.MapExpr((A.MapEntry("name", L(name)), A.MapEntry("age", L(age))))
    return A.Create("User", m, binding)


def test_records_create_find_update_delete():
    r = run(
        create("a", 20), create("b", 30), create("c", 40),
        A.Find("User", A.Compare("is at least", N("age"), (L(30),))),
        A.Let("found", N("user_results")),
        A.Update("User", A.Compare("is", N("name"), (L("a"),)),
                 (A.Assignment("age", B("+", N("age"), L(1))),)),
        A.Let("updated", N("user_results")),
        A.Delete("User", A.Compare("is", N("name"), (L("c"),))),
        A.Find("User", L(True)),
        requires=L(True), decls=(USER,),
    )
    assert r.ok, r.error
    assert [u["name"] for u in r.result] == ["a", "b"]
    assert r.result[0] == {"_id": 1, "name": "a", "age": 21}


@pytest.mark.parametrize(
    "kind,args,good,bad,rule",
    [("greater_than", (0,), 1, 0, "must be greater than 0"),
     ("less_than", (10,), 9, 10, "must be less than 10"),
     ("at_most", (10,), 10, 11, "must be at most 10"),
     ("between", (1, 5), 5, 6, "must be between 1 and 5"),
     ("integer", (), 2, D("2.5"), "must be an integer"),
     ("pattern", ("[a-z]+",), "abc", "ab1", "must match pattern [a-z]+"),
     ("length_at_least", (2,), "ab", "a", "must have length at least 2"),
     ("length_at_most", (2,), "ab", "abc", "must have length at most 2")],
)
def test_each_constraint(kind, args, good, bad, rule):
    ftype = "text" if isinstance(good, str) else "number"
    decl = A.RecordDecl("Thing", (A.FieldDecl("v", A.TypeRef(ftype), (A.Constraint(kind, tuple(L(a) for a in args)),)),))
    mk = lambda v: A.Create("Thing", A.MapExpr((A.MapEntry("v", L(v)),)), "t")  # noqa: E731
    assert run(mk(good), requires=L(True), decls=(decl,)).ok
    e = error(mk(bad), requires=L(True), decls=(decl,))
    assert e.message == f"Field 'v' in record 'Thing' {rule}"


def test_record_types_and_access_control():
    e = error(create("a", "old"), requires=L(True), decls=(USER,))
    assert e.message == "Field 'age' in record 'User' must be a number"
    assert error(create("a", 20), decls=(USER,)).message == "Mutation blocked by access control."
    e = error(create("a", 20), requires=L(False), decls=(USER,))
    assert e.message == 'flow "main" access is not permitted.'


def test_decimal_round_trip_and_persistence(state_location: str):
    db = state_location  # a SQLite file, then a PostgreSQL database (conftest.py)
    exact = D("0.1000000000000000000000000001")
    r = run(A.Set(("state", "x"), L(exact)), create("a", exact + 20), requires=L(True),
            decls=(USER,), state_path=db)
    assert r.ok, r.error
    r = run(A.Find("User", L(True)), A.Return(A.ListExpr((A.Attribute(N("state"), "x"),
                                                          A.Index(N("user_results"), L(0))))),
            requires=L(True), decls=(USER,), state_path=db)
    assert r.ok and r.result[0] == exact and r.result[1]["age"] == exact + 20


def test_failed_run_rolls_back(state_location: str):
    db = state_location
    r = run(create("a", 20), A.Set(("state", "x"), L(1)), A.Return(B("/", L(1), L(0))),
            requires=L(True), decls=(USER,), state_path=db)
    assert not r.ok
    r = run(A.Find("User", L(True)), requires=L(True), decls=(USER,), state_path=db)
    assert r.ok and r.result == [] and r.state == {}


# ---------------------------------------------------------------- models
class FakePredictor:
    def ranked(self, x):
        best, second = ("reset", "other") if "password" in x else ("other", "reset")
        return [(best, 0.87654321), (second, 0.12345679)]


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_model_confidences_are_the_float_rounded_to_six_places(x):
    got, expected = _confidence(x), D(repr(round(x, 6)))
    assert got == expected or (got.is_nan() and expected.is_nan())


def test_predict_and_ask_ai_with_fake_predictor():
    loads = []

    def loader(project, ref):
        loads.append(ref)
        if ref.split("@")[0] != "bot.m":
            raise DiagnosticError([make("runtime-ai-error", f"Model '{ref}' is not in the registry")])
        return FakePredictor()

    ai = A.AIDecl("support", (A.Setting("model", L("bot.m")),))
    model = A.ModelDecl("bot.m", ())
    body = (A.AskAI("support", L("I forgot my password"), "reply"),
            A.Let("p", A.Predict("bot.m", L("hello"))),
            A.Let("q", A.Predict("bot.m", L("password"))),
            A.Return(A.ListExpr((N("reply"), N("p"), A.Attribute(N("q"), "confidence")))))
    r = run(*body, decls=(ai, model), caps=("training",), predictor_loader=loader)
    assert r.ok, r.error
    assert r.result[0] == "reset" and r.result[1]["label"] == "other"
    assert r.result[2] == D("0.876543") and loads == ["bot.m"]
    assert [t["type"] for t in r.traces] == ["ask_ai", "predict", "predict"]
    e = error(*body, decls=(ai, model), predictor_loader=loader)
    assert e.code == "runtime-capability-missing" and "'training' capability" in e.message


def test_hosted_ai_is_a_clear_error():
    def loader(project, ref):
        raise DiagnosticError([make("runtime-ai-error", "x")])

    ai = A.AIDecl("chat", (A.Setting("model", L("gpt-4o")),))
    e = error(A.AskAI("chat", L("hi"), "r"), decls=(ai,), predictor_loader=loader)
    assert e.code == "runtime-ai-error"


# ---------------------------------------------------------------- output
def test_json_numbers_are_exact():
    payload = {"a": [D("2.5"), D(1) / D(3), D("3.0"), D("1E+3"), D("-0")]}
    assert dumps(payload, indent=None) == \
        '{"a": [2.5, 0.3333333333333333333333333333, 3, 1000, 0]}'
    assert json.loads(dumps(to_json_value({"x": D("0.1")}))) == {"x": 0.1}


def test_values_equal_never_mixes_bool_and_number():
    assert not values_equal(D(1), True) and values_equal(D(1), D("1.00"))
    assert not values_equal({"a": D(1)}, {"a": True})


def test_deep_programs_and_values_are_guarded():
    e = L(1)
    for _ in range(5000):
        e = B("+", e, L(1))
    r = run(A.Return(e))
    assert not r.ok and r.error.code == "runtime-limit"
    nest = (A.Let("x", A.ListExpr(())),
            A.RepeatTimes(L(1000), (A.Set(("x",), A.ListExpr((N("x"),))),)),
            A.Return(N("x")))
    r = run(*nest)
    assert not r.ok and r.error.code == "runtime-limit" and "nested too deeply" in r.error.message


def test_quadratic_list_building_is_charged_to_the_budget():
    grow = (A.Let("xs", A.ListExpr(())),
            A.RepeatTimes(L(100000), (A.Set(("xs",), A.BuiltinCall("list append", (N("xs"), L(1)))),)))
    r = run(*grow, limits=Limits(max_steps=200_000))
    assert not r.ok and r.error.message.startswith("Step budget exceeded")


def test_model_loader_failures_become_diagnostics():
    from n3lang.diagnostics import Diagnostic

    def unregistered(project, ref):
        raise DiagnosticError([Diagnostic(code="someone-elses-code", message="gone")])

    def broken(project, ref):
        raise OSError("disk on fire")

    model = A.ModelDecl("bot.m", ())
    body = (A.Return(A.Predict("bot.m", L("hi"), span=S(5, 10, 5, 30))),)
    e = error(*body, decls=(model,), caps=("training",), predictor_loader=unregistered)
    assert (e.code, e.message, e.span.line) == ("someone-elses-code", "gone", 5)
    e = error(*body, decls=(model,), caps=("training",), predictor_loader=broken)
    assert e.code == "runtime-ai-error" and "disk on fire" in e.message


@pytest.mark.parametrize("ranked, message", [
    (lambda x: [], "The model 'bot.m' gave no prediction"),
    (lambda x: [("only-a-label",)], "The model 'bot.m' failed to predict: not enough values to unpack"),
    (lambda x: 1 / 0, "The model 'bot.m' failed to predict: division by zero"),
    (lambda x: [("a", float("nan"))], "The model 'bot.m' gave a confidence that is not a number"),
])
def test_a_misbehaving_model_is_a_runtime_error_at_the_statement(ranked, message):
    class Odd:
        pass

    odd = Odd()
    odd.ranked = ranked
    model = A.ModelDecl("bot.m", ())
    body = (A.Return(A.Predict("bot.m", L("hi"), span=S(4, 3, 4, 20))),)
    e = error(*body, decls=(model,), caps=("training",), predictor_loader=lambda project, ref: odd)
    assert e.code == "runtime-ai-error" and e.message.startswith(message) and (e.span.line, e.span.column) == (4, 3)
