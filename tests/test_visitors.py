"""Every AST node class has a visit method in the checker and in the interpreter, or is listed
here with the reason it has none (docs/dev/ARCHITECTURE.md, recipes "add a statement/expression")."""

from __future__ import annotations

import dataclasses

import pytest

from n3lang import ast as A
from n3lang.checker import Checker
from n3lang.runtime.interpreter import Interpreter
from n3lang.visitor import Frames, Visitor

NODES = sorted(name for name, obj in vars(A).items()
               if isinstance(obj, type) and obj.__module__ == A.__name__ and dataclasses.is_dataclass(obj))

# Parts of a bigger node: the visit of the node that holds them walks them (neither walker
# dispatches on them).
PARTS = {
    "Program": "the list of declarations; Checker.run and Interpreter.__init__ walk it",
    "TypeRef": "a type annotation: Checker.check_type reads it, the interpreter's value_matches",
    "UnionType": "a type annotation, as TypeRef",
    "MapEntry": "one entry of a MapExpr, walked by visit_MapExpr",
    "Argument": "one argument of a CallFunction, walked by visit_CallFunction",
    "MatchCase": "one case of a Match, walked by visit_Match",
    "Assignment": "one `set:` line of an Update, walked by visit_Update",
    "Capability": "one token of a CapabilitiesDecl (Checker.check_capabilities, runtime.capabilities)",
    "Constraint": "a field constraint: Checker.check_constraint, Interpreter._check_constraint",
    "FieldDecl": "one field of a RecordDecl, walked by visit_RecordDecl / Interpreter.validate",
    "Param": "a function input or output, walked by visit_FunctionDecl / visit_CallFunction",
    "SurfaceRef": "a flow or record named by a SurfaceDecl, checked by visit_SurfaceDecl",
    "Setting": "one line of an ai or model block, walked by visit_AIDecl / visit_ModelDecl",
    "ToolField": "one field of a ToolDecl: runtime.tools.check_fields reads it",
    "ToolArg": "one field line of a ToolCall, walked by visit_ToolCall",
    "InputField": "one field of a StepInput: Checker.check_steps, Interpreter._check_step_input",
    "StepField": "one value line of a declarative step, walked by the step's visit",
    "ParallelTask": "one task of a Parallel block, walked by visit_Parallel",
    "OrchestrationBranch": "one branch of an Orchestration block, walked by visit_Orchestration",
    "ExposedTool": "one `expose` line of an ai's tools: block, checked by visit_AIDecl",
}

# Declarations: the checker visits them; the interpreter collects them in __init__ (records,
# functions, ais, models) or reads them where they apply (spec and flow in run, capabilities
# through runtime.capabilities), and never dispatches on them.
DECLARATIONS = {
    "SpecDecl": "Interpreter.run checks the version",
    "CapabilitiesDecl": "runtime.capabilities.declared reads it",
    "RecordDecl": "collected into Interpreter.records",
    "FlowDecl": "Interpreter.run runs the one asked for",
    "FunctionDecl": "collected into Interpreter.functions, run by visit_CallFunction",
    "AIDecl": "collected into Interpreter.ais, used by visit_AskAI",
    "ModelDecl": "collected into Interpreter.models, used by visit_Predict / visit_AskAI",
    "IdentityDecl": "Interpreter.__init__ fills its fields, Interpreter.run checks the identity",
    "SurfaceDecl": "the app surface (LANGUAGE.md §10) is accepted and checked, never served",
    "OverrideFlowDecl": "app surface (§10): the answer routine of use preset \"rag_chat\", checked, never run",
    "ContractDecl": "collected into Interpreter.contracts, used by visit_CallFlow",
    "ToolDecl": "collected into Interpreter.tools, run by visit_ToolCall (runtime/tools.py)",
    "UseDecl": "n3lang/syntax/loader.py reads the module before the program runs",
    "IncludeDecl": "n3lang/syntax/loader.py reads the file before the program runs",
    "PromptDecl": "checked only: prompts are text an ai provider would use; none runs here",
}


def test_the_lists_name_real_node_classes():
    assert set(PARTS) <= set(NODES) and set(DECLARATIONS) <= set(NODES)
    assert not set(PARTS) & set(DECLARATIONS)
    assert len(NODES) > 40  # the reader above found the node classes


@pytest.mark.parametrize("name", NODES)
def test_every_node_class_has_its_visits(name):
    cls = getattr(A, name)
    if name in PARTS:
        assert cls not in Interpreter.VISIT, f"{name} is listed as a part but the interpreter visits it"
        return
    assert cls in Checker.VISIT, f"n3lang/checker.py has no visit_{name} (or list {name} in {__file__})"
    if name in DECLARATIONS:
        assert cls not in Interpreter.VISIT, f"{name} is listed as a declaration but the interpreter visits it"
        return
    assert cls in Interpreter.VISIT, \
        f"n3lang/runtime/interpreter.py has no visit_{name} (or list {name} in {__file__})"


def test_the_table_is_found_once_per_class_and_bound_per_walker():
    class Walker(Visitor):
        def visit_Name(self, node):
            return ("name", self, node.name)

        def visit_block(self, body):  # not a node class: not in the table
            return body

    assert set(Walker.VISIT) == {A.Name}
    w = Walker()
    assert w.dispatch_table()[A.Name](A.Name("x")) == ("name", w, "x")


def test_frames_restore_on_exception():
    class Owner:
        def __init__(self):
            self.scope = {"a": 1}
            self.constants = {"a"}
            self.last = "before"
            self.frames = Frames(self)

    o = Owner()
    outer = o.scope
    with pytest.raises(ValueError):
        with o.frames.child({"b": 2}) as env:
            assert o.scope is env and env == {"a": 1, "b": 2}
            raise ValueError
    assert o.scope is outer and outer == {"a": 1}
    with pytest.raises(ValueError):
        with o.frames.call({"x": 0}):
            assert o.scope == {"x": 0} and o.constants == set() and o.last is None
            raise ValueError
    assert (o.scope, o.constants, o.last) == ({"a": 1}, {"a"}, "before")
    with o.frames.names(("a", "c")) as scope:
        scope["a"], scope["c"] = 10, 30
    assert o.scope == {"a": 1}
