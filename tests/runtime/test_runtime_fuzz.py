"""Property: any program, however ill-typed, runs to a result or a diagnostic, never a traceback.

Random ASTs mix every statement and expression form with values of every type, against a
record with constraints, a function, an ai and a model (with a fake predictor).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from n3lang import ast as A
from n3lang.diagnostics import REGISTRY, Diagnostic, DiagnosticError
from n3lang.runtime import Limits, RunResult, run_flow
from n3lang.runtime.values import dumps

NAMES = ["x", "y", "input", "state", "r_results", "err", "zz"]
KEYS = ["a", "b", "c", "message"]

literals = st.one_of(
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False).map(A.Literal),
    st.integers(-3, 5).map(lambda i: A.Literal(Decimal(i))),
    st.sampled_from(["", "a", "b", "password"]).map(A.Literal),
    st.sampled_from([True, False, None]).map(A.Literal),
)


def exprs_from(children):
    two = st.tuples(children, children)
    return st.one_of(
        st.lists(children, max_size=3).map(lambda xs: A.ListExpr(tuple(xs))),
        st.lists(st.tuples(st.sampled_from(KEYS), children), max_size=3).map(
            lambda es: A.MapExpr(tuple(A.MapEntry(k, v) for k, v in es))),
        st.tuples(children, st.sampled_from(KEYS)).map(lambda t: A.Attribute(t[0], t[1])),
        two.map(lambda t: A.Index(*t)),
        st.tuples(st.sampled_from("+-"), children).map(lambda t: A.Unary(*t)),
        st.tuples(st.sampled_from(["+", "-", "*", "/", "%", "**"]), children, children).map(
            lambda t: A.Binary(*t)),
        st.tuples(st.sampled_from(["is", "is not", "is greater than", "is at most"]), two).map(
            lambda t: A.Compare(t[0], t[1][0], (t[1][1],))),
        st.tuples(children, children, children).map(
            lambda t: A.Compare("is between", t[0], (t[1], t[2]))),
        st.tuples(children, st.lists(children, min_size=1, max_size=3)).map(
            lambda t: A.Compare("is one of", t[0], tuple(t[1]))),
        st.tuples(st.sampled_from(["and", "or"]), children, children).map(lambda t: A.BoolOp(*t)),
        children.map(A.Not),
        st.tuples(st.sampled_from(["list length", "map keys", "sum", "min", "max", "mean", "median"]),
                  children).map(lambda t: A.BuiltinCall(t[0], (t[1],))),
        st.tuples(st.sampled_from(["list append", "list get", "map get"]), two).map(
            lambda t: A.BuiltinCall(t[0], t[1])),
        st.tuples(children, children, children).map(lambda t: A.BuiltinCall("map set", t)),
        st.lists(st.tuples(st.sampled_from(["n", "m"]), children), max_size=2).map(
            lambda args: A.CallFunction("f", tuple(A.Argument(k, v) for k, v in args))),
        st.tuples(st.sampled_from(["demo.m", "demo.m@1", "nope"]), children).map(
            lambda t: A.Predict(t[0], t[1])),
    )


exprs = st.recursive(st.one_of(literals, st.sampled_from(NAMES).map(A.Name)), exprs_from,
                     max_leaves=4)
names = st.sampled_from(NAMES)


def stmts_from(children):
    block = st.lists(children, min_size=1, max_size=3).map(tuple)
    return st.one_of(
        st.tuples(st.just("if"), exprs, block, block).map(lambda t: A.If(t[1], t[2], t[3])),
        st.tuples(exprs, block).map(lambda t: A.RepeatTimes(t[0], t[1])),
        st.tuples(exprs, exprs, block).map(lambda t: A.RepeatWhile(*t)),
        st.tuples(names, exprs, block).map(lambda t: A.ForEach(*t)),
        st.tuples(exprs, st.lists(st.tuples(literals, block), max_size=2),
                  st.one_of(st.none(), block)).map(
            lambda t: A.Match(t[0], tuple(A.MatchCase(v, b) for v, b in t[1]), t[2])),
        st.tuples(block, names, block).map(lambda t: A.Try(*t)),
    )


simple = st.one_of(
    st.tuples(names, exprs, st.booleans()).map(lambda t: A.Let(*t)),
    st.tuples(st.lists(st.sampled_from(NAMES + KEYS), min_size=1, max_size=3), exprs).map(
        lambda t: A.Set(tuple(t[0]), t[1])),
    exprs.map(A.Return),
    st.tuples(st.sampled_from(["R", "Ghost"]), exprs, names).map(lambda t: A.Create(*t)),
    st.tuples(st.sampled_from(["R", "Ghost"]), exprs).map(lambda t: A.Find(*t)),
    st.tuples(exprs, st.lists(st.tuples(st.sampled_from(["a", "b", "q"]), exprs), max_size=2)).map(
        lambda t: A.Update("R", t[0], tuple(A.Assignment(k, v) for k, v in t[1]))),
    exprs.map(lambda e: A.Delete("R", e)),
    st.sampled_from(["R", "Ghost"]).map(A.Save),
    st.tuples(st.sampled_from(["bot", "hosted", "none"]), exprs, names).map(lambda t: A.AskAI(*t)),
)
stmts = st.recursive(simple, stmts_from, max_leaves=5)

RECORD = A.RecordDecl("R", (
    A.FieldDecl("a", A.TypeRef("number"), (A.Constraint("at_least", (A.Literal(Decimal(0)),)),
                                          A.Constraint("integer"))),
    A.FieldDecl("b", A.UnionType((A.TypeRef("text"), A.TypeRef("null"))),
                (A.Constraint("unique"), A.Constraint("pattern", (A.Literal("[a-z]*"),)),
                 A.Constraint("length_at_most", (A.Literal(Decimal(3)),)))),
))
FUNCTION = A.FunctionDecl("f", (A.Param("n", A.TypeRef("number")),
                                A.Param("m", A.TypeRef("text"), optional=True)),
                          (A.Param("out", A.TypeRef("number")),),
                          (A.Return(A.Binary("*", A.Name("n"), A.Literal(Decimal(2)))),))
AIS = (A.AIDecl("bot", (A.Setting("model", A.Literal("demo.m")),)),
       A.AIDecl("hosted", (A.Setting("model", A.Literal("gpt-4o")),)),
       A.ModelDecl("demo.m", ()))


class Fake:
    def ranked(self, x):
        return [("yes", 0.5)]


def loader(project, ref):
    if ref.startswith("demo."):
        return Fake()
    raise DiagnosticError([Diagnostic(code="model-not-found", message=f"no model {ref}")])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(stmts, min_size=1, max_size=4), st.one_of(st.none(), exprs), st.booleans(),
       st.one_of(st.none(), st.dictionaries(st.sampled_from(KEYS), st.integers(-2, 2))))
def test_any_program_gives_a_result_or_a_diagnostic(body, requires, training, input_value):
    decls = [A.SpecDecl("1.0")]
    if training:
        decls.append(A.CapabilitiesDecl((A.Capability("training"),)))
    decls += [RECORD, FUNCTION, *AIS, A.FlowDecl("main", tuple(body), requires=requires)]
    program = A.Program(tuple(decls), path="fuzz.ai")
    r = run_flow(program, None, input_value, limits=Limits(max_steps=3000, max_list_length=500),
                 predictor_loader=loader)
    assert isinstance(r, RunResult)
    if r.ok:
        dumps(r.to_json())
    else:
        assert isinstance(r.error, Diagnostic) and r.error.message
        assert r.error.code in REGISTRY or r.error.code == "model-not-found"
