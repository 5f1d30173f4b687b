"""Small real projects for the projects tests: a CSV, a cleaning step, a chart, a test, a SQL query."""

from __future__ import annotations

from pathlib import Path

from core import charts, cleaning, datasets, projects, sql, stats


def sales_csv(path: Path, *, units: str = "units", rows: int = 40) -> Path:
    """Two regions whose units differ; one missing value (so a fill step has work)."""
    lines = [f"region,{units},price"]
    for i in range(rows):
        region = "north" if i % 2 else "south"
        value = "" if i == 3 else f"{10 + (i % 7) + (3 if region == 'north' else 0)}"
        lines.append(f"{region},{value},{1 + (i % 5) * 0.5}")
    path.write_text("\n".join(lines) + "\n")
    return path


def build_project(csv: Path, name: str = "Sales study") -> tuple[projects.Project, dict[str, object]]:
    """A project made the way an analyst makes one: everything inside `projects.use`."""
    p = projects.create(name, tags=["sales"])
    with projects.use(p.id):
        ds = datasets.ingest_file(csv, name="sales")
        ds = cleaning.apply_step(ds.id, {"op": "fill", "column": "units", "method": "median"})
        chart = charts.save_chart(charts.make_chart("bar", ds.id, x="region", y="units"))
        res = stats.run_test("ttest_ind", datasets.load_frame(ds.id), value="units", group="region")
        test = stats.save_result(res, dataset_id=ds.id)
        sql.query("select region, avg(units) as mean_units from sales group by 1")
    return p, {"dataset": ds, "chart": chart, "test": test}


def targets_csv(path: Path, *, goal: str = "goal") -> Path:
    """A second table keyed by region: one goal per region (joined to the sales by a SQL query)."""
    path.write_text(f"region,{goal}\nnorth,15\nsouth,12\n")
    return path


def build_two_dataset_project(tmp_path: Path, name: str = "Sales vs goals") -> projects.Project:
    """A project whose methodology uses two datasets: cleaning and a test on the sales, a chart of the goals,
    and a SQL query joining both (a template made from it has two roles)."""
    p = projects.create(name)
    with projects.use(p.id):
        sales = datasets.ingest_file(sales_csv(tmp_path / "sales.csv"), name="sales")
        goals = datasets.ingest_file(targets_csv(tmp_path / "goals.csv"), name="goals")
        sales = cleaning.apply_step(sales.id, {"op": "fill", "column": "units", "method": "median"})
        charts.save_chart(charts.make_chart("bar", goals.id, x="region", y="goal"))
        stats.save_result(stats.run_test("ttest_ind", datasets.load_frame(sales.id), value="units", group="region"),
                          dataset_id=sales.id)
        sql.query("select s.region, avg(s.units) as mean_units, max(g.goal) as goal "
                  "from sales s join goals g on s.region = g.region group by 1 order by 1")
    return p
