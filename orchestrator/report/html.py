"""One self-contained HTML page for a run: the verdicts first (fastest valid backend per workload, ratios to the
reference, ranking, the article's claims judged here), then plots embedded as data URIs, tables, environment and
machine metadata, and the article's K80 numbers. No external resources.
"""

from __future__ import annotations

import base64
import datetime as dt
from html import escape
from typing import Any, Iterable, Sequence

from orchestrator.analysis import article
from orchestrator.report import fairness
from orchestrator.report import energy as energy_report
from orchestrator.report import keras_cost
from orchestrator.report.html_table import Cell, html_table
from orchestrator.report.plots import Plot
from orchestrator.report.sections import (
    PHASE_LABEL, STEP_TIMES, article_ordering, claim_where, has_step_times, in_order, k80_ratio, ratio_title,
    tokens_per_s, workloads_text,
)
from orchestrator.analysis.verdicts.phases import MEASURE, UNIT
from orchestrator.analysis.verdicts.assemble import VerdictReport
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.rows import WorkloadVerdict
from orchestrator.results.schema import CellResult
from orchestrator.analysis.stats import Estimate, Group

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #17702a; } .failed, .timeout { color: #b00020; } .unsupported { color: #9a6700; }
.noisy { color: #9a6700; font-weight: bold; } .ref { color: #555; font-style: italic; }
.faster, .reproduced { color: #17702a; font-weight: bold; } .slower, .refuted, .excluded { color: #b00020; }
.tie { color: #0b6e8a; font-weight: bold; } .inconclusive { color: #9a6700; }
section#verdict { border: 2px solid #17702a; border-radius: 6px; padding: 0 1em 0.5em; background: #f7fbf7; }
p.method { font-size: 0.85em; color: #444; max-width: 1000px; }
figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; max-width: 900px; }
img { max-width: 100%; border: 1px solid #eee; } code { font-size: 0.9em; }
"""


def _cell(value: Any, cls: str = "") -> Cell:
    """A cell of the page's tables: None and "" show as '-'."""
    return Cell(None if value == "" else value, cls)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Cell]], table_id: str) -> str:
    return html_table(headers, rows, table_id=table_id)


def _num(value: float | None, fmt: str = "{:.3g}") -> str:
    return fmt.format(value) if value is not None else "-"


def _estimate(e: Estimate | None) -> str:
    if e is None:
        return "-"
    text = e.describe()
    return f"{text} (n={e.n} {e.basis})"


def _data_uri(plot: Plot) -> str:
    return "data:image/png;base64," + base64.b64encode(plot.path.read_bytes()).decode()


def render(run_id: str, results: list[CellResult], groups: list[Group], plots: list[Plot],
           rejected: dict[str, str], targets: dict[str, float], verdicts: VerdictReport | None = None,
           after_verdict: Sequence[str] = ()) -> str:
    """The whole page as a string; `after_verdict`: sections rendered elsewhere (report/choosing.py) shown next."""
    sections = [
        _header(run_id, results, rejected),
        _verdict_section(verdicts) if verdicts else "",
        *after_verdict,
        _summary(groups, targets),
        keras_cost.html_section(groups, verdicts.settings if verdicts else Settings()),
        energy_report.html_section(results),
        _figures(plots),
        _article_table({g.workload for g in groups}),
        _cells(results),
        _environments(results),
        _machines(results),
        _provenance(results),
        fairness.html_section(results),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>orchestrate report: {escape(run_id)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(sections) + "\n</body></html>\n"
    )


def _header(run_id: str, results: list[CellResult], rejected: dict[str, str]) -> str:
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    counts = ", ".join(f'<span class="{escape(s)}">{n} {escape(s)}</span>' for s, n in statuses.items())
    generated = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    parts = [f"<h1>Which Keras backend is fastest? Run <code>{escape(run_id)}</code></h1>",
             f"<p>{len(results)} cell(s): {counts}. Report generated {escape(generated)}.</p>"]
    if rejected:
        items = "".join(f"<li><code>{escape(p)}</code>: {escape(why)}</li>" for p, why in rejected.items())
        parts.append('<p class="failed">Result files ignored (unreadable or not matching the schema):</p>'
                     f"<ul>{items}</ul>")
    return "\n".join(parts)


def _summary(groups: list[Group], targets: dict[str, float]) -> str:
    headers = ["environment", "backend", "workload", "profile", "repeats", "status", "steady s/epoch [CI]",
               "noise", "first epoch s", "samples/s", "test accuracy"]
    if targets:
        headers.append("time to target accuracy")
    on_article = article.covers(g.workload for g in groups)
    if on_article:
        headers += ["K80 2017, same backend: s/epoch (accuracy)", "K80 2017, this workload"]
    rows = []
    for g in groups:
        ref = article.for_cell(g.workload, g.backend)
        noisy = g.steady is not None and g.steady.noisy
        cv = g.steady.cv if g.steady else None
        noise = "-" if cv is None else f"noisy (CV {cv:.1%})" if noisy else f"CV {cv:.1%}"
        row = [_cell(g.environment), _cell(g.backend), _cell(g.workload), _cell(g.profile),
               _cell(f"{len(g.ok)}/{len(g.results)} ok"), _cell(g.status, g.status.split()[0]),
               _cell(_estimate(g.steady), "num"), _cell(noise, "noisy" if noisy else ""),
               _cell(_num(g.first_epoch.median if g.first_epoch else None), "num"),
               _cell(_num(g.samples_per_s, "{:,.0f}"), "num"), _cell(_num(g.test_accuracy, "{:.4f}"), "num")]
        if targets:
            row.append(_cell(_tta(g)))
        if on_article:
            row.append(_cell(f"{ref.s_per_epoch_text} ({_num(ref.test_accuracy, '{:.4f}')})" if ref else None, "ref"))
            row.append(_cell(article.summary_line(g.workload), "ref"))
        rows.append(row)
    note = ("<p>Steady state: the median of the epochs after the first, per cell; across repeats (each a fresh "
            "process and model) the median with an interval for it from the repeats (order statistics: 95% from "
            "6 repeats; below that the range of the repeats, its coverage shown, e.g. 75% for 3). One repeat: no "
            "interval. 'noisy': coefficient of variation above 5%."
            + (f" K80 columns: the 2017 article's numbers ({escape(article.HARDWARE)}), not measured here."
               if on_article else "") + "</p>")
    return "<h2>Summary</h2>\n" + note + _table(headers, rows, "summary")


def _tta(g: Group) -> str:
    if not g.tta:
        return "-"
    target = g.tta[0].target
    reached = [t for t in g.tta if t.epoch is not None]
    if len(reached) < len(g.tta):
        return f">= {target:g}: reached in {len(reached)}/{len(g.tta)} repeats"
    epochs = sorted(t.epoch for t in reached if t.epoch is not None)
    return f">= {target:g}: {g.tta_median_s:.3g} s (epoch {epochs[len(epochs) // 2]})"


def _figures(plots: list[Plot]) -> str:
    if not plots:
        return "<h2>Figures</h2><p>No figures: no cell produced timings.</p>"
    items = []
    for plot in plots:
        items.append(
            f'<figure data-kind="{escape(plot.kind)}"><img src="{_data_uri(plot)}" alt="{escape(plot.title)}">'
            f"<figcaption><b>{escape(plot.title)}.</b> {escape(plot.caption)} "
            f"(<code>{escape(plot.path.name)}</code>)</figcaption></figure>")
    return "<h2>Figures</h2>\n" + "\n".join(items)


def _article_table(workloads: set[str]) -> str:
    numbers = [n for n in article.NUMBERS if n.workload in workloads]
    if not numbers:
        return ""
    rows = [[_cell(n.workload), _cell(article.BACKEND_LABELS[n.backend]), _cell(n.s_per_epoch_text, "num"),
             _cell(_num(n.test_accuracy, "{:.4f}"), "num"), _cell(n.epochs, "num"), _cell(n.source), _cell(n.note)]
            for n in numbers]
    return (f"<h2>The 2017 article on a K80</h2>\n<p class=\"ref\">{escape(article.CITATION)}. "
            "Keras 2.0.8 with TensorFlow 1.3.0, CNTK 2.1, Theano 0.9.0; MXNet on the Keras 1.2.2 fork.</p>\n"
            + _table(["workload", "backend", "s/epoch", "test accuracy", "epochs", "source", "note"], rows,
                     "article"))


def _cells(results: list[CellResult]) -> str:
    rows = []
    for r in results:
        mon = r.monitor or {}
        cpu = mon.get("cpu") or {}
        gpus = mon.get("gpus") or []
        gpu_text = ", ".join(f"gpu{g['index']} {_num(g.get('util_mean_percent'), '{:.0f}')}% mean" for g in gpus) \
            or ("no GPU" if mon.get("gpu_note") else "-")
        epochs = ", ".join(f"{s:.2f}" for s in r.timings.epochs_s)
        rows.append([
            _cell(r.cell_id), _cell(r.status, r.status), _cell(r.workload.repeat, "num"),
            _cell(f"{r.model.params:,}" if r.model.params else None, "num"),
            _cell(epochs), _cell(_num(r.timings.steady_state_s), "num"),
            _cell(_num(r.timings.import_s), "num"), _cell(_num(r.timings.process_s), "num"),
            _cell(_num(r.metrics.test.get("accuracy"), "{:.4f}"), "num"),
            _cell(_num(cpu.get("mean_percent"), "{:.0f}"), "num"), _cell(_num(cpu.get("peak_rss_mb"), "{:.0f}"), "num"),
            _cell(gpu_text), _cell("; ".join(r.model.deviations) or None), _cell(r.reason),
        ])
    headers = ["cell", "status", "repeat", "params", "epoch seconds", "steady s/epoch", "import s", "process s",
               "test accuracy", "CPU % mean", "peak RSS MiB", "GPU", "model deviations", "reason"]
    return "<h2>Cells</h2>\n" + _table(headers, rows, "cells")


def _environments(results: list[CellResult]) -> str:
    seen: dict[str, CellResult] = {}
    for r in results:
        seen.setdefault(r.environment.name, r)
    rows = []
    for name, r in seen.items():
        e = r.environment
        threads = ", ".join(f"{k}={v}" for k, v in sorted(r.threads.env.items()))
        framework = ", ".join(f"{k}={v}" for k, v in sorted(r.threads.framework.items()) if k != "requested")
        rows.append([_cell(name), _cell(e.backend), _cell(e.framework_version), _cell(e.keras_version),
                     _cell(e.python_version), _cell(e.numpy_version), _cell(e.runtime), _cell(e.image),
                     _cell(e.image_data_format), _cell(e.env_hash), _cell(r.threads.requested, "num"),
                     _cell(threads), _cell(framework), _cell(len(e.packages), "num")])
    headers = ["environment", "backend", "framework version", "keras", "python", "numpy", "runtime", "image",
               "data format", "env hash", "threads", "thread variables", "framework threads", "packages"]
    return "<h2>Environments</h2>\n" + _table(headers, rows, "environments")


def _machines(results: list[CellResult]) -> str:
    seen: dict[str, CellResult] = {}
    for r in results:
        seen.setdefault(f"{r.host.hostname}|{r.host.device}", r)
    rows = []
    for r in seen.values():
        h = r.host
        gpus = "; ".join(
            f"{g.get('name')} ({g.get('memory_total_mb')} MiB, CC {g.get('compute_capability')}, driver "
            f"{g.get('driver')}, CUDA {g.get('cuda_driver')})" for g in h.gpus
        ) or next(((x.monitor or {}).get("gpu_note") for x in results if (x.monitor or {}).get("gpu_note")), None) \
            or "none recorded"
        rows.append([_cell(h.hostname), _cell(h.platform), _cell(h.cpu), _cell(h.cpu_count, "num"),
                     _cell(h.memory_gb, "num"), _cell(h.device), _cell(gpus)])
    return "<h2>Machines</h2>\n" + _table(["hostname", "platform", "CPU", "logical cores", "memory GiB", "device",
                                           "GPUs"], rows, "machines")


def _provenance(results: list[CellResult]) -> str:
    rows = []
    seen = set()
    for r in results:
        d = r.data
        key = (d.dataset, d.source, d.subset, tuple(sorted(d.samples.items())))
        if key in seen or not d.dataset:
            continue
        seen.add(key)
        checksums = ", ".join(f"{name} {digest[:12]}" for name, digest in d.sha256.items())
        samples = ", ".join(f"{k} {v:,}" for k, v in d.samples.items())
        rows.append([_cell(d.dataset), _cell(d.source), _cell(d.path), _cell(checksums), _cell(samples),
                     _cell(d.subset), _cell("; ".join(d.notes) or None)])
    return "<h2>Data provenance</h2>\n" + _table(["dataset", "source", "path", "sha256", "samples", "subset",
                                                  "notes"], rows, "data")


def _verdict_section(report: VerdictReport) -> str:
    """The answer first: per workload the fastest valid backend (where prediction and generation were judged: to
    train, to predict and to generate, a row each), its margin with interval, and the article's ordering; then each
    workload's ratios to the reference per phase, the ranking and the article's claims."""
    rows = []
    phased = bool(report.phases)
    for v in in_order(report):
        lead = v.margin
        fastest = v.fastest.estimate if v.fastest else None
        time = None if fastest is None else fastest.describe() + (f" {UNIT[v.phase]}" if phased else "")
        rows.append([_cell(v.workload), _cell(v.profile), *([_cell(PHASE_LABEL[v.phase])] if phased else []),
                     _cell(v.fastest.environment if v.fastest else None, "faster"), _cell(time, "num"),
                     _cell(v.runner_up.environment if v.runner_up else None),
                     _cell(lead.describe() if lead else None, "num"), _cell(lead.describe_p() if lead else None, "num"),
                     _cell(v.statement()), _cell(", ".join(r.environment for r in v.excluded) or None, "excluded"),
                     *([_cell(article_ordering(v.workload) if v.phase == "train" else None, "ref")]
                       if report.on_article else [])])
    k80 = ["K80 2017 ordering (s/epoch)"] if report.on_article else []
    parts = ['<section id="verdict"><h2>Verdict</h2>',
             _table(["workload", "profile", *(["phase"] if phased else []), "fastest valid backend",
                     "its time" if phased else "its s/epoch", "runner-up", "runner-up / fastest [95% CI]", "p",
                     "verdict", "excluded", *k80], rows, "verdict-table")]
    for v in in_order(report):
        parts.append(_ratio_table(v, report.on_article) if v.phase == "train" else _phase_ratio_table(v))
    if report.ranks:
        ranks = [[_cell(i, "num"), _cell(r.environment), _cell(r.backend), _cell(f"{r.geomean:.3f}", "num"),
                  _cell(workloads_text(r), "num"), _cell(r.fastest_on, "num")] for i, r in enumerate(report.ranks, 1)]
        parts.append("<h3>Across workloads</h3>" + _table(
            ["rank", "environment", "backend", "geometric mean ratio to the reference", "workloads", "fastest on"],
            ranks, "ranking"))
    claims = [[_cell(claim_where(j)), _cell(j.claim.text), _cell(j.claim.source),
               _cell(_num(j.claim.article_ratio), "num"), _cell(j.test.describe() if j.test else None, "num"),
               _cell(j.status, j.status.replace(" ", "-")), _cell(j.why), _cell(j.claim.caveat or None, "ref")]
              for j in report.claims]
    if report.on_article:
        parts.append("<h3>The 2017 article's claims on this machine</h3>"
                     "<p>Orderings and ratios between backends, never seconds across different hardware. Ratio: the "
                     "claim's first backend's time over the second's.</p>"
                     + _table(["workload", "claim", "source", "K80 ratio", "here: ratio [95% CI]", "status", "why",
                               "caveat"], claims, "claims"))
    if report.settings.looks:
        parts.append("<h3>Sequential repeats</h3>" + _table(
            ["workload", "pair", "repeats", "verdict", "stopped"],
            [[_cell(c) for c in row] for row in report.stopping()], "stopping"))
    parts.append(f'<p class="method">{escape(report.method)}</p></section>')
    return "\n".join(parts)


def _ratio_table(v: WorkloadVerdict, article: bool = True) -> str:
    rows = []
    steps = has_step_times(v)
    for row in v.rows:
        vs = row.vs_reference
        ms = [_cell(_num(row.group.fit_ms_per_step, "{:.3g}"), "num"),
              _cell(_num(row.group.predict_ms_per_step, "{:.3g}"), "num")] if steps else []
        rows.append([_cell(row.environment), _cell(row.group.backend),
                     _cell(f"{len(row.group.steady_samples)}/{len(row.group.results)}", "num"),
                     _cell(row.group.steady.describe() if row.group.steady else None, "num"), *ms,
                     _cell(vs.describe() if vs else "reference", "num"), _cell(vs.describe_p() if vs else None, "num"),
                     _cell(vs.verdict if vs else None, vs.verdict.replace(" ", "-") if vs else ""),
                     _cell(_num(row.group.test_accuracy, "{:.4f}"), "num"),
                     _cell(row.validity.describe() if row.validity.valid else "excluded: " + row.validity.describe(),
                           "" if row.validity.valid else "excluded"),
                     *([_cell(_num(k80_ratio(v, row.environment)), "ref")] if article else [])])
    return (f"<h3>{escape(v.workload)} ({escape(v.profile)}): time relative to {escape(v.reference)}</h3>"
            + (f"<p>{escape(STEP_TIMES)}.</p>" if steps else "")
            + _table(["environment", "backend", "repeats", "steady s/epoch [CI]",
                      *(["fit ms/step", "predict ms/step"] if steps else []), f"/ {v.reference} [95% CI]", "p",
                      "verdict", "test accuracy", "validity", *(["K80 2017 ratio"] if article else [])], rows,
                     f"ratios-{v.workload}-{v.profile}"))


def _phase_ratio_table(v: WorkloadVerdict) -> str:
    """Prediction or generation on one workload: each backend's median time against the reference."""
    generate = v.phase == "generate"
    rows = []
    for row in v.rows:
        vs = row.vs_reference
        rows.append([_cell(row.environment), _cell(row.group.backend),
                     _cell(f"{len(row.samples)}/{len(row.group.results)}", "num"),
                     _cell(row.estimate.describe() if row.estimate else None, "num"),
                     *([_cell(_num(tokens_per_s(v, row), "{:,.0f}"), "num")] if generate else []),
                     _cell(vs.describe() if vs else "reference", "num"), _cell(vs.describe_p() if vs else None, "num"),
                     _cell(vs.verdict if vs else None, vs.verdict.replace(" ", "-") if vs else ""),
                     _cell(row.validity.describe() if row.validity.valid else "excluded: " + row.validity.describe(),
                           "" if row.validity.valid else "excluded")])
    return (f"<h3>{escape(ratio_title(v))}</h3>"
            + _table(["environment", "backend", "repeats", f"{MEASURE[v.phase]} [CI]",
                      *(["tokens/s"] if generate else []), f"/ {v.reference} [95% CI]", "p", "verdict", "validity"],
                     rows, f"ratios-{v.workload}-{v.profile}-{v.phase}"))
