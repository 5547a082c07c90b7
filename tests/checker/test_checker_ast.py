"""The checker on hand-built ASTs: each rule in isolation, without the parser."""

from __future__ import annotations

from decimal import Decimal

from n3lang import ast as A
from n3lang.checker import check_program
from n3lang.diagnostics import REGISTRY


def S(line: int, col: int = 1, end: int | None = None) -> A.Span:
    return A.Span(line, col, line, end if end is not None else col + 1)


SPEC = A.SpecDecl("1.0", S(1))


def prog(*decls, spec=True, caps=()) -> A.Program:
    head = [SPEC] if spec else []
    if caps:
        head.append(A.CapabilitiesDecl(tuple(A.Capability(c, S(3, 3)) for c in caps), S(2)))
    return A.Program(tuple(head) + tuple(decls), "app.ai")


def flow(name, *body, line=10, requires=None):
    return A.FlowDecl(name, tuple(body), requires, span=S(line), name_span=S(line, 6))


def codes(program, **kw):
    return [(d.code, d.span.line, d.message) for d in check_program(program, **kw)]


def num(v):
    return A.Literal(Decimal(v), S(1))


def test_clean_program_has_no_diagnostics():
    p = prog(flow("demo", A.Let("x", num("1"), span=S(11)), A.Return(A.Name("x", S(12, 10)), S(12))))
    assert codes(p) == []


def test_missing_and_unsupported_spec():
    assert codes(prog(spec=False))[0][0] == "missing-spec"
    p = A.Program((A.SpecDecl("2.0", S(1)),), "app.ai")
    assert codes(p) == [("unsupported-spec", 1, 'Spec version "2.0" is not supported.')]
    assert check_program(p)[0].severity == "warning"  # namel3ss loads it; running it fails


def test_capabilities():
    p = prog(caps=("trainng", "training", "training", "jobs"))
    got = codes(p)
    assert ("unknown-capability", 3, "Unknown capability 'trainng'.") in got
    unknown = next(d for d in check_program(p) if d.code == "unknown-capability")
    assert "training" in unknown.fix
    assert any(c == "duplicate-capability" for c, _, _ in got)
    assert any(c == "unused-capability" for c, _, _ in got)
    notes = [d for d in check_program(p) if d.code == "unused-capability"]
    assert notes[0].severity == "note"


def test_undefined_variable_and_textual_binding():
    body = (
        A.If(A.Literal(True, S(11)), (A.Let("x", num("1"), span=S(12)),), (), S(11)),
        A.Return(A.Binary("+", A.Name("x", S(13, 10)), A.Name("y", S(13, 14)), S(13)), S(13)),
    )
    assert codes(prog(flow("f", *body))) == [("undefined-variable", 13, "Unknown variable 'y'")]


def test_set_undeclared_and_state():
    body = (
        A.Set(("state", "a"), num("1"), S(11)),
        A.Set(("count",), num("1"), S(12)),
    )
    assert codes(prog(flow("f", *body))) == [("set-undeclared", 12, "Cannot set undeclared variable 'count'")]


def test_find_binds_results_and_fields_in_predicate():
    rec = A.RecordDecl("Order", (A.FieldDecl("total", A.TypeRef("number"), span=S(3)),), S(2), S(2, 8))
    pred = A.Compare("is greater than", A.Name("total", S(11, 20)), (num("1"),), S(11))
    body = (A.Find("Order", pred, S(11)), A.Return(A.Name("order_results", S(12, 10)), S(12)))
    assert codes(prog(rec, flow("f", *body))) == []


def test_function_arguments():
    fn = A.FunctionDecl(
        "add",
        (A.Param("a", A.TypeRef("number"), span=S(3)), A.Param("b", A.TypeRef("number"), True, span=S(4))),
        (),
        (A.Return(A.Name("a", S(5)), S(5)),),
        S(2),
        S(2, 18),
    )
    call = A.CallFunction("add", (A.Argument("c", num("1"), S(12)),), S(11), S(11, 15))
    got = codes(prog(fn, flow("f", A.Return(call, S(11)))))
    assert ("unexpected-argument", 11, "Unknown function input 'c'") in got
    assert ("missing-argument", 11, "Missing function input 'a'") in got


def test_training_gate_and_model_keys():
    model = A.ModelDecl("m", (A.Setting("epoch", num("3"), S(5)),), S(4), S(4, 7))
    got = codes(prog(model))
    assert ("training-required", 4, "Model 'm' requires the 'training' capability") in got
    assert any(c == "unknown-model-setting" and "did you mean 'epochs'" in m for c, _, m in got)


def test_mutation_without_requires_and_unreachable():
    rec = A.RecordDecl("User", (A.FieldDecl("name", A.TypeRef("text"), span=S(3)),), S(2), S(2, 8))
    body = (
        A.Create("User", A.Name("input", S(11)), "u", S(11)),
        A.Return(A.Name("u", S(12)), S(12)),
        A.Let("z", num("1"), span=S(13)),
    )
    got = codes(prog(rec, flow("f", *body)))
    assert [c for c, _, _ in got] == ["mutation-without-requires", "unreachable-code"]


def test_recursion():
    call = A.CallFunction("loop", (), S(5), S(5, 20))
    fn = A.FunctionDecl("loop", (), (), (A.Return(call, S(5)),), S(2), S(2, 18))
    assert codes(prog(fn)) == [("recursive-function", 2, "Function recursion is not allowed")]


def test_every_check_code_has_texts():
    from n3lang.checker import CHECK_CODES

    for code in CHECK_CODES:
        info = REGISTRY[code]
        assert info.why and info.fix and info.example, code


def test_never_raises_on_odd_nodes():
    p = A.Program((A.SpecDecl("1.0"), A.FlowDecl("f", (A.Set((), num("1")),))), "x.ai")
    assert isinstance(check_program(p), list)
