"""identity (LANGUAGE.md §9): the declaration, and its values from N3_IDENTITY_JSON,
N3_IDENTITY_<FIELD> and `n3 run --identity`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang import ast as A
from n3lang.checker import check_program
from n3lang.cli.main import cli
from n3lang.syntax import parse_source

DECLARED = '''spec is "1.0"

identity "User":
  field "email" is text must be present
  role is text
  fields:
    org is text
    "display name" is text
  trust_level is one of "guest", "verified"

flow "demo": requires identity.role is "admin"
  return identity.email
'''

GUARDED = '''spec is "1.0"

identity "User":
  role is text
  age is number

flow "demo": requires identity.role is "admin"
  return has_role("admin")
'''

UNDECLARED = '''spec is "1.0"

flow "demo":
  return identity.role
'''


def run(tmp_path: Path, text: str, *args: str, env: dict | None = None):
    app = tmp_path / "app.ai"
    app.write_text(text, encoding="utf-8")
    base = {k: None for k in ("N3_IDENTITY_JSON", "N3_IDENTITY_ROLE", "N3_IDENTITY_EMAIL")}
    return CliRunner().invoke(cli, ["run", str(app), *args], env={**base, **(env or {})},
                              catch_exceptions=False)


def test_the_declaration_parses_in_every_field_form():
    program, diagnostics = parse_source(DECLARED)
    assert not [d for d in diagnostics if d.is_error]
    (decl,) = program.of_type(A.IdentityDecl)
    assert decl.name == "User"
    assert [f.name for f in decl.fields] == ["email", "role", "org", "display name"]
    assert decl.trust_levels == ("guest", "verified")
    assert not [d for d in check_program(program) if d.is_error]


@pytest.mark.parametrize("line", ['trust_level is one of ["guest", "verified"]',
                                  'trust_level is one of:\n    "guest"\n    "verified"'])
def test_trust_level_lists(line):
    program, diagnostics = parse_source(f'spec is "1.0"\n\nidentity "u":\n  {line}\n')
    assert not [d for d in diagnostics if d.is_error]
    assert program.of_type(A.IdentityDecl)[0].trust_levels == ("guest", "verified")


def test_only_trust_level_takes_one_of():
    _, diagnostics = parse_source('spec is "1.0"\n\nidentity "u":\n  level is one of "a"\n')
    assert any("trust_level" in d.message for d in diagnostics if d.is_error)


@pytest.mark.parametrize("env,args", [
    ({"N3_IDENTITY_JSON": '{"role": "admin", "trust_level": "guest", "email": "j@x"}'}, ()),
    ({"N3_IDENTITY_ROLE": "admin", "N3_IDENTITY_TRUST_LEVEL": "guest", "N3_IDENTITY_EMAIL": "j@x"}, ()),
    ({}, ("--identity", '{"role": "admin", "trust_level": "guest", "email": "j@x"}')),
])
def test_identity_from_each_source(tmp_path, env, args):
    result = run(tmp_path, DECLARED, *args, env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "j@x"


def test_identity_file_and_env_precedence(tmp_path):
    who = tmp_path / "who.json"
    who.write_text('{"role": "admin", "trust_level": "guest", "email": "file"}', encoding="utf-8")
    assert run(tmp_path, DECLARED, "--identity", f"@{who}").output.strip() == "file"
    env = {"N3_IDENTITY_JSON": '{"role": "admin", "trust_level": "guest", "email": "json"}',
           "N3_IDENTITY_EMAIL": "field"}
    assert run(tmp_path, DECLARED, "--identity", f"@{who}", env=env).output.strip() == "json"


def test_a_declared_field_not_given_reads_as_null(tmp_path):
    unconstrained = DECLARED.replace(" must be present", "")
    result = run(tmp_path, unconstrained, "--identity", '{"role": "admin", "trust_level": "guest"}')
    assert result.exit_code == 0 and result.output.strip() == "null"


def test_field_constraints_are_checked_as_a_records(tmp_path):
    """namel3ss's words: the identity is validated as record 'identity.<name>'."""
    result = run(tmp_path, DECLARED, "--identity", '{"role": "admin", "trust_level": "guest"}')
    assert result.exit_code == 1
    assert "app.ai:3:1: error: Identity field 'email' failed validation." in result.output
    assert "Why: Field 'email' in record 'identity.User' must be present" in result.output


def test_without_a_declaration_a_missing_field_fails(tmp_path):
    result = run(tmp_path, UNDECLARED)
    assert result.exit_code == 1 and "Identity is missing 'role'." in result.output
    assert run(tmp_path, UNDECLARED, "--identity", '{"role": "r"}').output.strip() == "r"


def test_requires_allowed_and_denied(tmp_path):
    assert run(tmp_path, GUARDED, "--identity", '{"role": "admin"}').output.strip() == "true"
    denied = run(tmp_path, GUARDED, env={"N3_IDENTITY_ROLE": "user"})
    assert denied.exit_code == 1 and 'flow "demo" access is not permitted.' in denied.output


@pytest.mark.parametrize("identity,message", [
    ('{"role": "admin", "age": "5"}', "Identity field 'age' must be number."),
    ('[1]', "The identity in --identity is not a JSON object"),
    ('{"role": ', "is not valid JSON"),
])
def test_bad_identities(tmp_path, identity, message):
    result = run(tmp_path, GUARDED, "--identity", identity)
    assert result.exit_code == 1 and message in result.output


def test_trust_level_missing_or_not_allowed(tmp_path):
    missing = run(tmp_path, DECLARED, "--identity", '{"role": "admin", "email": "e"}')
    assert "Identity is missing trust_level." in missing.output
    bad = run(tmp_path, DECLARED, "--identity", '{"role": "admin", "email": "e", "trust_level": "root"}')
    assert "Identity trust_level 'root' is not allowed." in bad.output


def test_bad_identity_json_env(tmp_path):
    result = run(tmp_path, GUARDED, env={"N3_IDENTITY_JSON": "[1]"})
    assert result.exit_code == 1 and "error: Identity JSON is invalid." in result.output
    assert "Why: Parsing N3_IDENTITY_JSON failed: Expected a JSON object." in result.output
