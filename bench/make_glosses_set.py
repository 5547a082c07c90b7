"""The dictionary-gloss benchmark set: one-line WordNet 3.0 definitions by lexicographer file.

Each synset line of WordNet's data.noun / data.verb / data.adj / data.adv gives one row:
input = its gloss's definition (the text after " | ", cut before its quoted usage examples),
target = the name of its lexicographer file (noun.artifact, verb.motion, adj.all, ...; the
two-digit lex_filenum indexes LEXNAMES below, the list of WordNet's lexnames(5WN) page, since
Debian's package ships no lexnames file). Rows whose definition is the same but whose file
differs are dropped, a definition seen twice with one file is kept once, and files with fewer
than MIN_PER_CLASS rows left (noun.Tops, noun.motive, verb.weather, adj.ppl) are dropped. The
split and the files written are the shared generators' own (benchdata_common.write_splits).

WordNet 3.0 as Debian ships it (package wordnet-base; licence: the WordNet 3.0 licence,
free to use, copy and redistribute with its copyright notice):

    cd /tmp && apt-get download wordnet-base
    python bench/make_glosses_set.py /tmp/wordnet-base_*.deb /tmp/benchdata/glosses

The source may also be a folder holding data.noun etc. (/usr/share/wordnet once the package
is installed, or the same path under a `dpkg-deb -x` folder).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

SHARED = Path("/work/shared/bench")
PARTS = ("noun", "verb", "adj", "adv")  # read in this order; dedupe keeps the first copy
MIN_PER_CLASS = 100

# lexnames(5WN), WordNet 3.0: lex_filenum -> lexicographer file name.
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
    "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food "
    "noun.group noun.location noun.motive noun.object noun.person noun.phenomenon "
    "noun.plant noun.possession noun.process noun.quantity noun.relation noun.shape "
    "noun.state noun.substance noun.time verb.body verb.change verb.cognition "
    "verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative "
    "verb.weather adj.ppl"
).split()


def definition(gloss: str) -> str:
    """The gloss up to its first usage example: a double quote outside parentheses that
    follows a ';' or ':'. Quotes inside parentheses or mid-phrase (`as in "on the job"`)
    belong to the definition and are kept."""
    depth = 0
    for i, ch in enumerate(gloss):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch == '"' and depth == 0 and gloss[:i].rstrip()[-1:] in (";", ":"):
            gloss = gloss[:i]
            break
    return " ".join(gloss.split()).rstrip(";:, ")


def read_synsets(folder: Path, keep_examples: bool) -> list[dict]:
    """One {"input", "target"} row per synset line, in file order."""
    rows = []
    for part in PARTS:
        with open(folder / f"data.{part}", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("  "):  # the licence header
                    continue
                head, _, gloss = line.partition(" | ")
                text = " ".join(gloss.split()) if keep_examples else definition(gloss)
                if text:
                    rows.append({"input": text, "target": LEXNAMES[int(head.split(" ", 2)[1])]})
    return rows


def build(folder: Path, out: str, shared: str, keep_examples: bool) -> dict:
    sys.path.insert(0, shared)
    from benchdata_common import dedupe, write_splits

    rows, conflicts = dedupe(read_synsets(folder, keep_examples))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["target"]] = counts.get(r["target"], 0) + 1
    small = sorted(t for t, n in counts.items() if n < MIN_PER_CLASS)
    rows = [r for r in rows if counts[r["target"]] >= MIN_PER_CLASS]
    sources = {f"data.{p}": hashlib.sha256((folder / f"data.{p}").read_bytes()).hexdigest()
               for p in PARTS}
    return write_splits(out, rows, lambda r: r["input"], {
        "name": "wordnet-glosses" + ("-with-examples" if keep_examples else ""), "task": "text",
        "source": "WordNet 3.0 (Debian package wordnet-base) data.{noun,verb,adj,adv}: gloss "
                  + ("with its usage examples" if keep_examples else "definition, usage examples cut")
                  + ", label = lexicographer file (lexnames)",
        "source_sha256": sources,
        "licence": "WordNet 3.0 licence (Princeton University): use, copy, modify and "
                   "distribute with the copyright notice",
        "min_per_class": MIN_PER_CLASS, "dropped_small_classes": small,
        "dropped_conflicting_inputs": conflicts})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="wordnet-base .deb, or a folder holding data.noun etc.")
    parser.add_argument("out", help="folder for train.jsonl / test.jsonl of the glosses set")
    parser.add_argument("--keep-examples", action="store_true",
                        help="keep the glosses' quoted usage examples (longer texts; not the bench set)")
    parser.add_argument("--shared", default=str(SHARED), help="folder of benchdata_common.py (default %(default)s)")
    args = parser.parse_args(argv)
    source = Path(args.source)
    if source.is_dir():
        build(source, args.out, args.shared, args.keep_examples)
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(source), tmp], check=True)
        build(Path(tmp) / "usr/share/wordnet", args.out, args.shared, args.keep_examples)


if __name__ == "__main__":
    main()
