"""The HTML report: every executed notebook exported by nbconvert, and an index page with the
headline numbers, the run's metadata and every registered figure and table."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from poselab import paths
from poselab.findings import DOES_NOT, PARTLY, SUPPORTS, UNRESOLVED
from poselab.io import now
from poselab.profiles import PROFILES
from poselab.references import Reference, in_order, sentence
from poselab.report import machine
from poselab.report.plan import discover
from poselab.report.registry import load_index

_CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3552;color:#fff;padding:24px 40px}header h1{margin:0 0 6px;font-size:26px}
header p{margin:2px 0;opacity:.85}main{padding:20px 40px;max-width:1300px}
h2{border-bottom:2px solid #1f3552;padding-bottom:4px;margin-top:36px}
table{border-collapse:collapse;margin:10px 0;font-size:14px}
th,td{padding:5px 10px;border-bottom:1px solid #ddd;text-align:left}
th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta td:first-child{font-weight:600;color:#555}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:18px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}
.card img{width:100%;height:auto}.card p{font-size:13px;margin:6px 0 0}.id{font-weight:700;color:#1f3552}
.tbl{overflow-x:auto;background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;margin:10px 0}
.tbl table{font-size:12px}.ok{color:#2e7d32;font-weight:600}.cached{color:#555}.missing{color:#b71c1c}
a{color:#1f5fa8}
"""


# Code is folded in the exported notebooks: they read as prose, figures and tables; a button shows the code.
_FOLD = """<style>.jp-CodeCell .jp-Cell-inputWrapper{display:none}body.poselab-code .jp-CodeCell .jp-Cell-inputWrapper
{display:block}#poselab-code-toggle{position:fixed;top:8px;right:16px;z-index:10;padding:4px 10px;background:#fff;
border:1px solid #1f3552;border-radius:4px;color:#1f3552;cursor:pointer}</style>
<button id="poselab-code-toggle" onclick="document.body.classList.toggle('poselab-code');
this.textContent=document.body.classList.contains('poselab-code')?'hide code':'show code'">show code</button>"""

_ABSOLUTE = re.compile(r"""(["'])(/[^"']*)\1""")


def without_machine_paths(source: str, root: Path) -> str:
    """The injected parameters cell's source with absolute paths written relative to the repository (``data``),
    or as ``<outside the repository>/name``: the exported report does not show the machine's folders."""

    def relative(m: re.Match) -> str:
        path = Path(m[2])
        try:
            shown = path.resolve().relative_to(Path(root).resolve()).as_posix() or "."
        except ValueError:
            shown = f"<outside the repository>/{path.name}"
        return f"{m[1]}{shown}{m[1]}"

    return _ABSOLUTE.sub(relative, source)


def knobs_note(run: dict) -> str:
    """The knobs a notebook ran with that differ from the report's defaults, as HTML ("" when none)."""
    knobs = run.get("knobs") or {}
    if not knobs:
        return ""
    shown = ", ".join(f"{html.escape(k)} = {html.escape(repr(v))}" for k, v in knobs.items())
    return f"<span class='missing'>knobs differ from the report's defaults: {shown}</span>"


def export_notebooks(reports_dir: Path, root: Path | None = None) -> dict[str, Path]:
    """nbconvert every executed notebook to html/<name>.html, titled by its notebook, with a link back to the index,
    the knobs that differ from the report's defaults, the code folded (a button shows it) and no machine paths in the
    injected parameters; the executed ``.ipynb`` files keep everything."""
    import nbformat
    from nbconvert import HTMLExporter

    root = Path(root) if root is not None else paths.repo_root()
    exporter = HTMLExporter(template_name="lab")
    out_dir = reports_dir / "html"
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = load_index(reports_dir).get("runs", {})
    exported = {}
    for nb_path in sorted((reports_dir / "executed").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        for cell in nb.cells:
            if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                cell.source = without_machine_paths(cell.source, root)
        run = runs.get(nb_path.stem[:2], {})
        title = f"{run.get('title') or nb_path.stem} · poselab"
        nb.metadata["title"] = title  # the page's <title> (nbconvert's default is "Notebook")
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        knobs = knobs_note(run)
        back = ('<div style="padding:8px 16px;background:#1f3552"><a style="color:#fff" '
                'href="index.html">&larr; poselab report index</a>'
                + (f" <span style='background:#fff;padding:2px 6px;margin-left:12px'>{knobs}</span>" if knobs else "")
                + "</div>")
        pos = body.find(">", body.find("<body")) + 1
        target = out_dir / f"{nb_path.stem}.html"
        target.write_text(body[:pos] + back + _FOLD + body[pos:])
        exported[nb_path.stem[:2]] = target
    return exported


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def _table(rows: list[list[str]], header: list[str] | None, cls: str = "") -> str:
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    return f'<table class="{cls}">{head}{body}</table>'


_VERDICT_CLASS = {SUPPORTS: "ok", PARTLY: "cached", DOES_NOT: "missing", UNRESOLVED: "cached"}


def findings_ledger(findings: list[dict], notebooks: dict, exported: dict, runs: dict | None = None) -> str:
    """The report's first section: one row per claim of the source documents across all notebooks (claim, source,
    their number, ours with its interval, verdict and the test deciding it, what would resolve an unresolved one, a
    link to the notebook), from the findings the notebooks recorded; a verdict computed under knobs that differ from
    the report's defaults says so."""
    if not findings:
        return "<h2>Findings</h2><p>No notebook has recorded its findings yet.</p>"
    rows = []
    for f in sorted(findings, key=lambda f: f["notebook"]):
        nb = f["notebook"]
        page = exported.get(nb)
        title = html.escape(notebooks[nb].title if nb in notebooks else nb)
        link = f'<a href="{page.name}">{nb}</a>' if page is not None else nb
        verdict = f'<span class="{_VERDICT_CLASS.get(f["verdict"], "")}">{html.escape(f["verdict"])}</span>'
        if f.get("verdict") == UNRESOLVED and f.get("resolve"):
            verdict += f"<br><small>would resolve it: {html.escape(f['resolve'])}</small>"
        if knobs := knobs_note((runs or {}).get(nb, {})):
            verdict += f"<br><small>{knobs}</small>"
        rows.append([f"<td title='{title}'>{link}</td>", f"<td>{html.escape(f['claim'])}</td>",
                     f"<td>{html.escape(f['source'])}</td>", f"<td>{html.escape(f['published'])}</td>",
                     f"<td>{html.escape(f['ours'])}</td>", f"<td>{verdict}</td>",
                     f"<td>{html.escape(f['test'])}</td>"])
    counts = pd.Series([f["verdict"] for f in findings]).value_counts()
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    return (f"<h2>Findings</h2><p>Every claim of the source documents (<a href='#references'>References</a>) that "
            f"the notebooks test, with our number on the "
            f"profile that ran: {summary}.</p>" + _table(rows, ["#", "claim", "source", "published", "ours", "verdict",
                                                              "decided by"]))


def references_section() -> str:
    """The works the report reproduces (the five source documents) and quotes, cited in it by author and year."""
    def item(r: Reference) -> str:
        title = (f'<a href="{html.escape(r.link)}">{html.escape(r.title)}</a>' if r.link else html.escape(r.title))
        role = f" <i>{html.escape(r.role)}</i>" if r.role else ""
        return (f"<li><b>{html.escape(r.short)}</b>: {html.escape(sentence(r.authors))} {title}. "
                f"{html.escape(sentence(r.published))}{role}</li>")

    return ("<h2 id='references'>References</h2><p>The five source documents first, then the public works the report "
            "quotes; the notebooks, captions and the findings ledger cite them by the name in bold.</p>"
            "<ul class='refs'>"
            + "".join(item(r) for r in in_order()) + "</ul>")


def _estimated(run: dict) -> str:
    """A notebook's estimated wall time as the runner printed it before the run (``poselab.report.eta``), with its
    source and its error against the actual time."""
    est, actual = run.get("estimated_seconds"), run.get("wall_seconds")
    if est is None:
        return "-" if run else ""
    error = f", {100 * (est - actual) / actual:+.0f} %" if actual else ""
    return f"{est:.1f} s ({html.escape(run.get('estimate_source', '?'))}{error})"


def build_index(reports_dir: Path, notebooks_dir: Path | None = None, exported: dict | None = None) -> Path:
    """Write html/index.html from artifacts.json and the executed notebooks."""

    index = load_index(reports_dir)
    runs = index.get("runs", {})
    notebooks = discover(notebooks_dir) if notebooks_dir else {}
    exported = exported or {}
    last = max(runs.values(), key=lambda r: r.get("finished", ""), default={})
    total = sum(r.get("wall_seconds", 0) for r in runs.values())
    profiles = sorted({r.get("profile", "?") for r in runs.values()}) or ["?"]
    devices = sorted({r.get("device", "?") for r in runs.values()}) or ["?"]

    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>poselab report</title><style>{_CSS}"
             "</style></head><body><header><h1>poselab: how human pose estimation networks work</h1>"
             "<p>A reproducible report: every figure and table below is regenerated from code by "
             "<code>make report</code>.</p></header><main>"]

    checks = [p for p in profiles if p in PROFILES and PROFILES[p].code_check]
    if checks or any(r.get("limit_steps") for r in runs.values()):
        why = (f"profile {', '.join(checks)}: full sizes with capped counts" if checks
               else "a training step limit (LIMIT_STEPS)")
        parts.append(f"<p class='missing'><b>Code check</b> ({html.escape(why)}): the numbers on this page and in "
                     "every notebook exercise the code, they are not results.</p>")
    parts.append(findings_ledger(index.get("findings", []), notebooks, exported, runs))

    meta = [["profile", ", ".join(profiles)], ["device", ", ".join(devices)],
            ["git commit", html.escape(last.get("git_commit", "unknown"))],
            ["last notebook finished", html.escape(last.get("finished", "-"))],
            ["index written", now()], ["wall time of the notebooks", f"{total / 60:.1f} min"]]
    limits = sorted({str(r["limit_steps"]) for r in runs.values() if r.get("limit_steps")})
    if limits:
        meta.append(["training step limit", f"<span class='missing'>{', '.join(limits)} steps per run "
                     "(LIMIT_STEPS): the numbers exercise the code, they are not results</span>"])
    if any(r.get("deterministic") is False for r in runs.values()):
        meta.append(["deterministic kernels", "off on the GPU: the numbers are not bitwise reproducible from run to "
                     "run (<code>python -m poselab.report.run --deterministic</code> turns them on)"])
    hosts = sorted({machine.one_line(r["machine"]) for r in runs.values() if r.get("machine")})
    meta += [["machine" if len(hosts) == 1 else f"machine ({len(hosts)} kinds: notebooks ran on different ones)",
              "<br>".join(html.escape(h) for h in hosts) or "-"]]
    parts.append("<h2>Run</h2>" + _table([[f"<td>{k}</td>", f"<td>{v}</td>"] for k, v in meta], None, "meta"))

    rows = []
    ids = sorted(set(notebooks) | set(runs) | set(exported) | {a["notebook"] for a in index["artifacts"]})
    for nid in ids:
        r = runs.get(nid, {})
        title = html.escape(r.get("title") or (notebooks[nid].title if nid in notebooks else nid))
        name = f'<a href="{exported[nid].name}">{title}</a>' if nid in exported else title
        n_art = sum(1 for a in index["artifacts"] if a["notebook"] == nid)
        state = ('<span class="ok">executed</span>' if r else '<span class="missing">not run</span>')
        if knobs := knobs_note(r):
            state += f"<br><small>{knobs}</small>"
        rows.append([f"<td>{nid}</td>", f"<td>{name}</td>", f"<td>{state}</td>",
                     f"<td class='num'>{r.get('wall_seconds', 0):.1f} s</td>" if r else "<td></td>",
                     f"<td class='num'>{_estimated(r)}</td>",
                     f"<td>{html.escape(r.get('profile', ''))}</td>", f"<td class='num'>{n_art}</td>",
                     f"<td>{html.escape(r.get('finished', ''))}</td>"])
    parts.append("<h2>Notebooks</h2>" + _table(rows, ["#", "notebook", "status", "wall time", "estimated before",
                                                        "profile", "artifacts", "finished"]))

    heads = sorted(index["headlines"], key=lambda h: h["notebook"])
    if heads:
        rows = [[f"<td>{h['notebook']}</td>", f"<td>{html.escape(h['name'])}</td>",
                 f"<td class='num'>{_fmt(h['value'])}</td>", f"<td>{html.escape(h.get('unit', ''))}</td>",
                 f"<td>{html.escape(h.get('note', ''))}</td>", f"<td>{html.escape(h.get('profile', ''))}</td>"]
                for h in heads]
        parts.append("<h2>Headline numbers</h2>" + _table(rows, ["#", "quantity", "value", "unit", "note",
                                                                   "profile"]))

    trainings = sorted(index.get("trainings", []), key=lambda t: (t["notebook"], t["label"]))
    if trainings:
        rows = [[f"<td>{t['notebook']}</td>", f"<td>{html.escape(t['label'])}</td>",
                 f"<td>{html.escape(str(t.get('status', '')))}</td>", f"<td class='num'>{t.get('epochs', '')}</td>",
                 f"<td class='num'>{t.get('seconds', 0) / 60:.1f} min</td>",
                 f"<td>{html.escape(str(t.get('precision', '')))}</td>", f"<td class='num'>{t.get('threads', '')}</td>",
                 f"<td>{html.escape(str(t.get('device', '')))}</td>"] for t in trainings]
        parts.append("<h2>Trained models</h2><p>Training time is the run's own (a loaded run keeps the time it "
                     "took when it was trained).</p>" + _table(rows, ["#", "model", "status", "epochs", "training",
                                                                      "precision", "threads", "device"]))

    for nid in ids:
        arts = [a for a in index["artifacts"] if a["notebook"] == nid]
        if not arts:
            continue
        title = html.escape(runs.get(nid, {}).get("title") or f"notebook {nid}")
        parts.append(f"<h2>{title}</h2>")
        figs = [a for a in arts if a["kind"] == "figure"]
        if figs:
            parts.append('<div class="grid">' + "".join(
                f'<div class="card"><a href="../{a["path"]}"><img src="../{a["path"]}" alt="{a["id"]}"></a>'
                f'<p><span class="id">{a["id"]}</span> {html.escape(a["caption"])}</p></div>' for a in figs
            ) + "</div>")
        for a in (a for a in arts if a["kind"] == "table"):
            try:
                df = pd.read_csv(reports_dir / a["path"])
                if str(df.columns[0]).startswith("Unnamed"):  # a saved index without a name
                    df = df.set_index(df.columns[0]).rename_axis(None)
                shown = df.head(25).to_html(float_format=lambda v: f"{v:.3f}", border=0, na_rep="–",
                                            index=df.index.name is not None or not isinstance(df.index, pd.RangeIndex))
                more = f"<p>first 25 of {len(df)} rows</p>" if len(df) > 25 else ""
            except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
                shown, more = f"<p class='missing'>cannot read: {html.escape(str(e))}</p>", ""
            parts.append(f'<p><span class="id">{a["id"]}</span> {html.escape(a["caption"])} '
                         f'(<a href="../{a["path"]}">CSV</a>)</p><div class="tbl">{shown}{more}</div>')
    parts.append(references_section())
    parts.append("<p style='margin-top:40px;color:#777'>Regenerate with <code>make report PROFILE="
                 f"{html.escape(profiles[0])}</code>; artifacts are listed in "
                 "<code>reports/artifacts.json</code>.</p></main></body></html>")
    out = reports_dir / "html" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(parts))
    return out


def build_report(reports_dir: Path, notebooks_dir: Path | None = None) -> Path:
    """Export every executed notebook and write the index; returns the index path."""
    reports_dir = Path(reports_dir)
    exported = export_notebooks(reports_dir)
    return build_index(reports_dir, notebooks_dir, exported)


def main() -> None:
    import argparse

    from poselab import paths

    ap = argparse.ArgumentParser(prog="python -m poselab.report.html", description=__doc__)
    ap.add_argument("--reports-dir", type=Path)
    a = ap.parse_args()
    print(build_report(paths.reports_dir(a.reports_dir), paths.notebooks_dir()))


if __name__ == "__main__":
    main()
