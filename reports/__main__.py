"""`make tables`: the paper's tables from MLflow (csv, md, tex), the fusion diagnostics and the
KD teacher check, their figures, and report.md.

``python -m reports`` renders all three in order; ``--table NAME`` renders one table only
(``make table1`` ...).
"""

from __future__ import annotations

from configs import cli, registry
from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import SuiteConfig
from reports.card import write_card
from reports.diagnostics import NAME as DIAGNOSTICS
from reports.diagnostics import write_diagnostics
from reports.figures import diagnostics_figure, read_built, table_figure, training_curves
from reports.intervals import ItemReader
from reports.paper import PAPER_TABLES
from reports.render import write_table
from reports.summary import report, stage_times
from reports.tables import build, check_store, require_eval_runs, writing
from reports.teacher import write_teacher_check


def render_tables(cfg: SuiteConfig, layout: Layout, names: list[str]) -> None:
    """Each named table beside the paper's numbers, from the eval runs in MLflow."""
    runs, reader = require_eval_runs(layout), ItemReader(layout.tracking_uri)
    with writing(layout.tables):
        for name in names:
            built = build(cfg, layout, name, runs, reader)
            paths = write_table(built, layout)
            print(f"{name}: {', '.join(str(p) for p in paths)}")
            if name == "kd":
                print(f"{name}: {write_teacher_check(built, layout)}")
            if built.unplaced:  # never dropped silently: listed under the table too
                print(f"{name}: evaluated but without a row: {', '.join(built.unplaced)}")


def draw_figures(layout: Layout) -> None:
    """Every rendered table beside the paper, and the training curves (PNG)."""
    check_store(layout)  # an unreadable store fails before anything is drawn
    csvs = [layout.tables / f"{name}.csv" for name in PAPER_TABLES]
    if not any(csv.is_file() for csv in csvs):
        raise SuiteError(f"no tables under {layout.tables}: run `make tables`")
    with writing(layout.tables):
        for csv in csvs:
            if csv.is_file():
                print(table_figure(read_built(csv), csv.with_suffix(".png")))
            else:
                print(f"{csv.stem}.png: {csv.name} not rendered yet (run `make tables`)")
        diagnostics = layout.tables / f"{DIAGNOSTICS}.csv"
        if diagnostics.is_file():
            drawn = diagnostics_figure(layout.cfg, diagnostics, diagnostics.with_suffix(".png"))
            print(drawn or f"{DIAGNOSTICS}.png: no fuse diagnostics to draw (run `make fuse`)")
        curves = training_curves(layout, layout.tables / "training_curves.png")
    print(curves or "training_curves.png: no train runs yet (run `make train`)")


def write_report(cfg: SuiteConfig, layout: Layout) -> None:
    """``RUNS/<name>/report.md``, and the time per stage printed."""
    times = stage_times(layout)
    path = layout.root / "report.md"
    with writing(layout.root):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(report(cfg, layout, times))
        tmp.rename(path)
    print(path)
    print(f"time per stage ({cfg.name}):")
    print(times.to_string(index=False) if not times.empty else "no stage stamped yet")


def main() -> None:
    p = cli.parser("Render the paper's tables from MLflow, their figures and report.md.")
    p.add_argument("--table", default=None, help="one table only (default: all, figures, report)")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    if args.table:
        render_tables(cfg, layout, [registry.check(args.table, PAPER_TABLES, "table")])
        return
    render_tables(cfg, layout, list(PAPER_TABLES))
    with writing(layout.tables):
        print(f"{DIAGNOSTICS}: {', '.join(map(str, write_diagnostics(cfg, layout)))}")
        card = write_card(cfg, layout, ItemReader(layout.tracking_uri))
        print(f"world card: {', '.join(map(str, card))}")
    draw_figures(layout)
    write_report(cfg, layout)


if __name__ == "__main__":
    cli.run(main)
