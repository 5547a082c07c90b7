"""The HTML training report: one self-contained page (inline CSS and SVG, no external assets)
rendered from the metrics and explain documents that reports.py builds.

``render_html(metrics_doc, explain_doc)`` is the entry point; everything else here is a
section or a chart of that page.
"""

from __future__ import annotations

import html
import math
from typing import Any, Mapping

MAX_HTML_CONFUSION = 30
MAX_HTML_PER_CLASS = 40

_CSS = """
:root { --ink: #1d2433; --muted: #5b6478; --line: #d9dee8; --accent: #2f6fdf; --warm: #d9622b; }
* { box-sizing: border-box; }
body { margin: 0; padding: 2rem 1rem 4rem; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #f6f7fb; }
main { max-width: 1040px; margin: 0 auto; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; word-break: break-all; }
h2 { font-size: 1.15rem; margin: 2rem 0 .75rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.sub { color: var(--muted); margin: 0 0 1.5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: .75rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .7rem .9rem; }
.card .k { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
.card .v { font-size: 1.4rem; font-weight: 600; font-variant-numeric: tabular-nums; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .5rem 1.2rem 1.2rem; margin-top: 1.2rem; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
td.n, th.n { text-align: right; }
svg { max-width: 100%; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
.note { color: var(--muted); font-size: .85rem; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fill, minmax(370px, 1fr)); gap: 1rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
.pos { color: #1f7a3a; } .neg { color: #b3261e; }
.warn { background: #fff4e5; border: 1px solid #f0b76b; border-radius: 8px; padding: .6rem .9rem; margin: 0 0 1rem; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _f(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    return f"{value:.{digits}f}"


def _pct(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    return f"{100 * value:.1f}%"


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_html(metrics_doc: Mapping, explain_doc: Mapping) -> str:
    """The HTML page for one trained model (deterministic: the same documents, the same bytes)."""
    m, x = metrics_doc, explain_doc
    title = f"{m.get('name', '')} {m.get('version', '')}"
    sub = " · ".join(
        _e(part) for part in (
            m.get("mode"), m.get("base_model") and f"base {m.get('base_model')}",
            m.get("model_kind"), m.get("created_at"),
        ) if part
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Training report: {_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{sub}</p>',
        _warnings(m.get("warnings") or []),
        _cards(m),
        _history_section(m.get("history") or []),
        _confusion_section(m.get("confusion_matrix") or {}),
        _calibration_section(m.get("calibration") or {}),
        _per_class_section(m.get("per_class") or {}),
        _features_section(x),
        _examples_section(x.get("examples") or []),
        _saliency_section(x.get("saliency") or {}),
        _audio_section(x),
        _notes_section(x),
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


_VERDICTS = {"learned": "yes", "not-learned": "not clearly", "inconclusive": "too few rows", "not-run": "not checked"}


def _warnings(warnings: list) -> str:
    """What people must know before trusting the numbers below (first thing on the page)."""
    return "".join(f'<p class="warn"><strong>Warning:</strong> {_e(w)}</p>' for w in warnings if isinstance(w, str))


def _cards(m: Mapping) -> str:
    baseline = m.get("majority_baseline") or {}
    items = [
        ("Accuracy", _pct(m.get("accuracy"))),
        ("Macro-F1", _f(m.get("macro_f1"))),
        ("Majority baseline", _pct(baseline.get("accuracy"))),
    ]
    for key, label, fmt in (
        ("ece", "Calibration error (ECE)", _f), ("bleu", "BLEU", _f), ("token_f1", "Token F1", _f),
        ("wer", "WER", _f), ("transcript_accuracy", "Transcript accuracy", _pct),
    ):
        if key in m:
            items.append((label, fmt(m[key])))
    for key, label in (("n_train", "Training rows"), ("n_validation", "Validation rows")):
        if key in m:
            items.append((label, str(m[key])))
    check = m.get("learning_check")
    if isinstance(check, Mapping) and check.get("verdict") in _VERDICTS:
        items.append(("Learned?", _VERDICTS[check["verdict"]]))
    cards = "".join(
        f'<div class="card"><div class="k">{_e(k)}</div><div class="v">{_e(v)}</div></div>' for k, v in items
    )
    note = ""
    if baseline.get("label") is not None and "accuracy" in baseline:
        note = (f'<p class="note">The majority baseline always answers '
                f'<code>{_e(_short(baseline.get("label", ""), 60))}</code>.</p>')
    config = m.get("config")
    if isinstance(config, Mapping) and config.get("refit") is True and isinstance(config.get("chosen"), Mapping):
        chosen = ", ".join(f"{k} {v}" for k, v in sorted(config["chosen"].items()))
        note += (f'<p class="note">Chosen on the validation rows: {_e(chosen)}. The metrics are those of the '
                 'held-out fit with these settings; the stored model was then refit on every row '
                 '(training and validation).</p>')
    return f'<div class="cards">{cards}</div>{note}'


def _history_section(history: list) -> str:
    losses = [(h.get("epoch", i + 1), h.get("loss")) for i, h in enumerate(history)]
    losses = [(e, v) for e, v in losses if isinstance(v, (int, float)) and not isinstance(v, bool)]
    accs = [(h.get("epoch", i + 1), h.get("val_accuracy")) for i, h in enumerate(history)]
    accs = [(e, v) for e, v in accs if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(losses) < 2 and len(accs) < 2:
        return ""  # one point is not a curve (e.g. a retrieval model, built in one pass)
    return ("<section><h2>Training curve</h2>" + _line_chart(losses, accs)
            + '<p class="note">Training loss per epoch (left axis, blue) and validation accuracy '
              "(right axis, orange).</p></section>")


def _line_chart(losses: list[tuple], accs: list[tuple]) -> str:
    w, h, left, right, top, bottom = 640, 260, 56, 56, 16, 36
    pw, ph = w - left - right, h - top - bottom
    epochs = [e for e, _ in losses] + [e for e, _ in accs]
    e0, e1 = min(epochs), max(epochs)
    span = (e1 - e0) or 1
    lmax = _nice_ceiling(max((v for _, v in losses), default=1.0))

    def sx(e: float) -> float:
        return left + (pw * (e - e0) / span if e1 != e0 else pw / 2)

    def sy(frac: float) -> float:
        return top + ph * (1 - frac)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
           f'role="img" aria-label="training loss and validation accuracy per epoch">']
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fbfcfe" stroke="#d9dee8"/>')
    for i in range(5):
        frac = i / 4
        y = sy(frac)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#eceff5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{lmax * frac:g}</text>')
        out.append(f'<text x="{left + pw + 6}" y="{y + 4:.1f}">{frac:.2f}</text>')
    ticks = sorted(set(epochs))
    step = max(1, math.ceil(len(ticks) / 12))
    for e in ticks[::step]:
        out.append(f'<text x="{sx(e):.1f}" y="{top + ph + 16}" text-anchor="middle">{_e(e)}</text>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{h - 4}" text-anchor="middle">epoch</text>')
    for series, color, scale in ((losses, "#2f6fdf", lmax), (accs, "#d9622b", 1.0)):
        if not series:
            continue
        pts = " ".join(f"{sx(e):.1f},{sy(v / scale):.1f}" for e, v in series)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        for e, v in series:
            out.append(f'<circle cx="{sx(e):.1f}" cy="{sy(v / scale):.1f}" r="3" fill="{color}">'
                       f"<title>epoch {_e(e)}: {v:.4f}</title></circle>")
    out.append("</svg>")
    return "".join(out)


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is at least ``value``."""
    if not value or value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-12:
            return step * power
    return 10 * power  # pragma: no cover


def _heat(frac: float) -> str:
    """White to blue, for confusion-matrix cells."""
    frac = min(max(frac, 0.0), 1.0)
    r = round(255 - frac * (255 - 47))
    g = round(255 - frac * (255 - 111))
    b = round(255 - frac * (255 - 223))
    return f"rgb({r},{g},{b})"


def _confusion_section(cm: Mapping) -> str:
    labels = list(cm.get("labels") or [])
    matrix = cm.get("matrix") or []
    if not labels or not matrix:
        return ""
    n = len(labels)
    if n > MAX_HTML_CONFUSION:
        return ("<section><h2>Confusion matrix</h2><p class=\"note\">"
                f"{n}{'+' if cm.get('truncated') else ''} distinct targets: too many for a readable matrix "
                "(the metrics JSON holds it). For free-text answers, BLEU and token F1 above say how close "
                "the answers are.</p></section>")
    cell = 36 if n <= 12 else max(12, 432 // n)
    names = [_short(lb, 22) for lb in labels]
    margin = 8 + 7 * max(len(s) for s in names)
    size = n * cell
    w, h = margin + size + 12, margin + size + 12
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
           f'role="img" aria-label="confusion matrix: rows are true labels, columns predictions">']
    for i, name in enumerate(names):
        y = margin + i * cell + cell / 2 + 4
        out.append(f'<text x="{margin - 6}" y="{y:.1f}" text-anchor="end">{_e(name)}</text>')
        x = margin + i * cell + cell / 2 + 4
        out.append(f'<text x="{x:.1f}" y="{margin - 6}" transform="rotate(-60 {x:.1f} {margin - 6})">{_e(name)}</text>')
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        for j, v in enumerate(row):
            frac = v / total
            x, y = margin + j * cell, margin + i * cell
            stroke = ' stroke="#1d2433" stroke-width="1.5"' if i == j else ' stroke="#ffffff"'
            out.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{_heat(frac)}"{stroke}>'
                       f"<title>true {_e(labels[i])} → predicted {_e(labels[j])}: {v}</title></rect>")
            if cell >= 24 and v:
                color = "#ffffff" if frac > 0.55 else "#1d2433"
                out.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle" '
                           f'style="fill:{color}">{v}</text>')
    out.append("</svg>")
    note = "Rows are the true labels, columns the predictions; shading is the share of each row."
    if cm.get("truncated"):
        note += f" Only the {n} most frequent labels are shown."
    return f'<section><h2>Confusion matrix</h2>{"".join(out)}<p class="note">{_e(note)}</p></section>'


def _calibration_section(cal: Mapping) -> str:
    """The reliability diagram: per confidence bin, the accuracy (bar) against the mean
    confidence (tick); a calibrated model's bars reach the diagonal."""
    table = [b for b in cal.get("reliability") or [] if isinstance(b, Mapping)]
    if not table or not cal.get("rows"):
        return ""
    size, left, top, bottom = 240, 48, 12, 40
    w, h = left + size + 16, top + size + bottom

    def sx(v: float) -> float:
        return left + size * v

    def sy(v: float) -> float:
        return top + size * (1 - v)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
           f'role="img" aria-label="reliability diagram: accuracy against confidence per bin">',
           f'<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="#fbfcfe" stroke="#d9dee8"/>']
    for i in range(6):
        v = i / 5
        out.append(f'<line x1="{left}" y1="{sy(v):.1f}" x2="{left + size}" y2="{sy(v):.1f}" stroke="#eceff5"/>')
        out.append(f'<text x="{left - 6}" y="{sy(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>')
        out.append(f'<text x="{sx(v):.1f}" y="{top + size + 16}" text-anchor="middle">{v:.1f}</text>')
    out.append(f'<text x="{left + size / 2:.1f}" y="{h - 4}" text-anchor="middle">confidence</text>')
    out.append(f'<text x="12" y="{top + size / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 12 {top + size / 2:.1f})">accuracy</text>')
    out.append(f'<line x1="{sx(0):.1f}" y1="{sy(0):.1f}" x2="{sx(1):.1f}" y2="{sy(1):.1f}" stroke="#5b6478" '
               'stroke-dasharray="4 3"/>')
    for b in table:
        acc, conf, count = b.get("accuracy"), b.get("confidence"), b.get("count")
        if not count or not isinstance(acc, (int, float)) or not isinstance(conf, (int, float)):
            continue
        lo, hi = float(b.get("lower", 0)), float(b.get("upper", 0))
        tip = (f"confidence {lo:.3f}–{hi:.3f}: {count} row{'' if count == 1 else 's'}, accuracy {acc:.3f}, "
               f"mean confidence {conf:.3f}")
        out.append(f'<rect x="{sx(lo) + 1:.1f}" y="{sy(acc):.1f}" width="{max(sx(hi) - sx(lo) - 2, 1):.1f}" '
                   f'height="{sy(0) - sy(acc):.1f}" fill="#2f6fdf" fill-opacity="0.8"><title>{_e(tip)}</title></rect>')
        out.append(f'<line x1="{sx(lo) + 1:.1f}" y1="{sy(conf):.1f}" x2="{sx(hi) - 1:.1f}" y2="{sy(conf):.1f}" '
                   'stroke="#d9622b" stroke-width="2"/>')
    out.append("</svg>")
    note = (f"Validation rows grouped by confidence (the probability of the predicted class) into "
            f"{cal.get('bins')} equal bins: the bar is the share predicted right, the orange tick the mean "
            "confidence, the dashed line a perfectly calibrated model. A bar below its tick: the model is "
            f"over-confident there. Expected calibration error (ECE), the rows' average gap: {_f(cal.get('ece'))}.")
    return f'<section><h2>Calibration</h2>{"".join(out)}<p class="note">{_e(note)}</p></section>'


def _per_class_section(per_class: Mapping) -> str:
    if not per_class:
        return ""
    rows = []
    shown = sorted(per_class)
    note = ""
    if len(shown) > MAX_HTML_PER_CLASS:
        shown = sorted(sorted(per_class, key=lambda k: (-per_class[k].get("support", 0), k))[:MAX_HTML_PER_CLASS])
        note = (f'<p class="note">The {MAX_HTML_PER_CLASS} most frequent of {len(per_class)} targets; '
                "the metrics JSON lists all.</p>")
    for label in shown:
        s = per_class[label]
        rows.append(
            f"<tr><td>{_e(_short(label, 80))}</td><td class=\"n\">{_f(s.get('precision'))}</td>"
            f"<td class=\"n\">{_f(s.get('recall'))}</td><td class=\"n\">{_f(s.get('f1'))}</td>"
            f"<td class=\"n\">{_e(s.get('support', ''))}</td></tr>"
        )
    head = ('<tr><th>label</th><th class="n">precision</th><th class="n">recall</th>'
            '<th class="n">F1</th><th class="n">support</th></tr>')
    return f"<section><h2>Per class</h2><table>{head}{''.join(rows)}</table>{note}</section>"


def _bar_chart(items: list[Mapping], label_key: str = "feature", value_key: str = "weight") -> str:
    items = [it for it in items if isinstance(it.get(value_key), (int, float))]
    if not items:
        return ""
    bar_h, gap, label_w, bar_w = 18, 4, 150, 80
    w = label_w + 2 * bar_w + 50
    h = len(items) * (bar_h + gap) + 8
    vmax = max(abs(it[value_key]) for it in items) or 1.0
    mid = label_w + bar_w
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-label="feature weights">',
           f'<line x1="{mid}" y1="0" x2="{mid}" y2="{h}" stroke="#d9dee8"/>']
    for i, it in enumerate(items):
        y = 4 + i * (bar_h + gap)
        v = it[value_key]
        length = bar_w * abs(v) / vmax
        x = mid if v >= 0 else mid - length
        color = "#2f6fdf" if v >= 0 else "#d9622b"
        name = _short(it.get(label_key, ""), 26)
        shared = it.get("ngrams_in_bucket")
        flag = " *" if isinstance(shared, int) and shared > 1 else ""
        out.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" class="mono">{_e(name)}{flag}</text>')
        tip = f"{it.get(label_key, '')}: {v:.4f}"
        if flag:
            tip += f" (bucket shared by {shared} n-grams)"
        out.append(f'<rect x="{x:.1f}" y="{y}" width="{max(length, 1):.1f}" height="{bar_h}" fill="{color}" rx="2">'
                   f"<title>{_e(tip)}</title></rect>")
        tx = mid + length + 4 if v >= 0 else mid + 4
        out.append(f'<text x="{tx:.1f}" y="{y + 13}">{v:.3f}</text>')
    out.append("</svg>")
    return "".join(out)


def _features_section(x: Mapping) -> str:
    top = x.get("top_features") or {}
    if not top:
        return ""
    blocks = []
    for label in sorted(top):
        feats = list(top[label])[:12]
        blocks.append(f"<div><h3>{_e(_short(label, 60))}</h3>{_bar_chart(feats)}</div>")
    hashing = x.get("hashing") or {}
    note = ("Weights of the strongest features for each class. A feature marked * shares its hash "
            "bucket with other n-grams, so its weight is theirs too.")
    if hashing.get("buckets"):
        note += f" Hash buckets: {hashing['buckets']}."
    return (f'<section><h2>Top features</h2><div class="grid2">{"".join(blocks)}</div>'
            f'<p class="note">{_e(note)}</p></section>')


def _examples_section(examples: list) -> str:
    if not examples:
        return ""
    rows = []
    for ex in examples:
        contribs = ex.get("contributions") or []
        cells = ", ".join(
            f'<span class="{"pos" if c.get("weight", 0) >= 0 else "neg"}">{_e(_short(c.get("feature", ""), 30))}'
            f' {_f(c.get("weight"), 2)}</span>'
            for c in contribs[:6]
        )
        if not cells and isinstance(ex.get("similarity"), (int, float)):
            cells = f"nearest training input, similarity {_f(ex.get('similarity'), 2)}"
        ok = ex.get("target") == ex.get("predicted")
        mark = "✓" if ok else "✗"
        rows.append(
            f"<tr><td>{_e(_short(ex.get('input', ''), 120))}</td><td>{_e(_short(ex.get('target', ''), 40))}</td>"
            f"<td>{mark} {_e(_short(ex.get('predicted', ''), 40))}</td><td class=\"n\">{_f(ex.get('confidence'), 2)}</td>"
            f"<td>{cells}</td></tr>"
        )
    head = ('<tr><th>input</th><th>target</th><th>predicted</th><th class="n">confidence</th>'
            "<th>why</th></tr>")
    return f"<section><h2>Validation examples</h2><table>{head}{''.join(rows)}</table></section>"


def _grid_svg(grid: list) -> str:
    rows = [r for r in grid if isinstance(r, list)]
    if not rows or not rows[0]:
        return ""
    vals = [v for r in rows for v in r if isinstance(v, (int, float))]
    vmax = max((abs(v) for v in vals), default=1.0) or 1.0
    cell = max(4, 96 // max(len(rows), len(rows[0])))
    w, h = cell * len(rows[0]), cell * len(rows)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-label="saliency map">']
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if isinstance(v, (int, float)):
                out.append(f'<rect x="{j * cell}" y="{i * cell}" width="{cell}" height="{cell}" '
                           f'fill="{_heat(abs(v) / vmax)}"/>')
    out.append("</svg>")
    return "".join(out)


def _saliency_section(saliency: Mapping) -> str:
    if not saliency:
        return ""
    blocks = []
    for label in sorted(saliency):
        s = saliency[label]
        body = ""
        if isinstance(s, Mapping):
            if isinstance(s.get("grid"), list):
                body = _grid_svg(s["grid"])
            facts = ", ".join(f"{_e(k)}: {_e(v)}" for k, v in sorted(s.items()) if k != "grid")
            body += f'<p class="note">{facts}</p>' if facts else ""
        blocks.append(f"<div><h3>{_e(_short(label, 60))}</h3>{body}</div>")
    return f'<section><h2>Saliency per class</h2><div class="grid2">{"".join(blocks)}</div></section>'


def _audio_section(x: Mapping) -> str:
    blocks = []
    for key, title in (("time_importance", "Importance over time"),
                       ("frequency_importance", "Importance over frequency")):
        vals = x.get(key)
        if isinstance(vals, list) and vals:
            blocks.append(f"<div><h3>{title}</h3>{_profile_svg(vals)}</div>")
    if not blocks:
        return ""
    return f'<section><h2>What the model listens to</h2><div class="grid2">{"".join(blocks)}</div></section>'


def _profile_svg(vals: list) -> str:
    nums = [float(v) if isinstance(v, (int, float)) else 0.0 for v in vals]
    vmax = max((abs(v) for v in nums), default=1.0) or 1.0
    w, h = 320, 120
    bw = w / len(nums)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-label="importance profile">']
    for i, v in enumerate(nums):
        bh = (h - 4) * abs(v) / vmax
        out.append(f'<rect x="{i * bw:.1f}" y="{h - bh:.1f}" width="{max(bw - 1, 1):.1f}" height="{bh:.1f}" '
                   f'fill="#2f6fdf"/>')
    out.append("</svg>")
    return "".join(out)


def _notes_section(x: Mapping) -> str:
    items = []
    if x.get("method"):
        items.append(str(x["method"]))
    items.extend(str(n) for n in x.get("notes") or [])
    if not items:
        return ""
    lis = "".join(f"<li>{_e(i)}</li>" for i in items)
    return f"<section><h2>How to read this</h2><ul>{lis}</ul></section>"
