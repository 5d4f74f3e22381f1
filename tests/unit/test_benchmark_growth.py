"""The scale benchmark's pure parts (issue 15): the mixed blueprint (half on each platform, it
parses offline), the growth table and the growth plot from tagged figures. Measuring itself
needs the clusters (tests/integration/test_benchmarks_smoke.py)."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml
from cloudify.workflows import local

from benchmarks.common import (
    FLOOR_LABEL,
    Figure,
    growth_rows,
    plot_growth,
    plot_growth_panel,
    render_growth_table,
    write_results,
)
from benchmarks.scale import (
    Plan,
    Runs,
    Sample,
    figures_for,
    floor_figures,
    platform_figures,
    raw_figures,
)
from benchmarks.scale_blueprints import mixed_blueprint, mixed_split, noop_mixed_blueprint
from benchmarks.scale_merge import header, merge, rebuild
from tests.helpers.local_workflows import offline_resolver


def test_the_mixed_blueprint_puts_half_on_each_platform_and_parses(tmp_path: Path) -> None:
    assert [mixed_split(n) for n in (1, 10, 25, 50)] == [(0, 1), (5, 5), (12, 13), (25, 25)]
    nodes = yaml.safe_load(mixed_blueprint(5, "p"))["node_templates"]
    types = [n["type"] for n in nodes.values()]
    assert types.count("cloudify.kubernetes.Microservice") == 2
    assert (types.count("cloudify.swarm.Microservice") == types.count("cloudify.swarm.Container")
            == 3)
    blueprint = tmp_path / "blueprint.yaml"
    blueprint.write_text(mixed_blueprint(5, "p"))
    env = local.init_env(str(blueprint), name="mixed", resolver=offline_resolver())
    assert len(env.storage.get_nodes()) == 2 + 2 + 3 * 2


def test_the_mixed_floor_keeps_the_graph_and_tells_the_two_microservices_apart() -> None:
    plugin = yaml.safe_load((Path(__file__).resolve().parents[2] / "plugin_1_5.yaml").read_text())
    real = yaml.safe_load(mixed_blueprint(5, "p"))["node_templates"]
    floor = yaml.safe_load(noop_mixed_blueprint(5, plugin))
    assert list(floor["node_templates"]) == list(real)
    assert {floor["node_templates"][n]["type"] for n in ("svc0", "svc2")} == {
        "floor.kubernetes.Microservice", "floor.swarm.Microservice"}
    assert set(floor["relationships"]) == {"floor.connected_to_master",
                                           "floor.contained_in_microservice"}


def samples(*values: float) -> dict[int, Sample]:
    return {size: Sample([v], [v / 2], [100 + v]) for size, v in zip((1, 10), values, strict=True)}


def test_growth_rows_pair_ours_with_the_raw_tool_per_size(tmp_path: Path) -> None:
    ours = samples(4.0, 12.0)
    figures = figures_for("swarm", "offline", ours) + figures_for("swarm", "manager",
                                                                  samples(6.0, 30.0))
    for size in (1, 10):
        figures += raw_figures("swarm", "offline", size, ours[size],
                               Sample([2.0 * size], [1.0], []))
    table = render_growth_table(figures)
    lines = table.splitlines()
    assert lines[2] == "| swarm | offline | 1 | 4.00 (4.00-4.00) | 2.00 (2.00-2.00) | 2.00x | " \
                       "2.00 (2.00-2.00) | 1.00 (1.00-1.00) | 2.00x | 104.00 (104.00-104.00) |"
    assert lines[3].startswith("| swarm | offline | 10 | 12.00 (12.00-12.00) | 20.00 (20.00-20.00) "
                               "| 0.60x |")
    # no raw run for the manager here: its rows show the peak RSS only
    assert lines[4] == "| swarm | manager | 1 | - | - | - | - | - | - | 106.00 (106.00-106.00) |"
    assert plot_growth(figures, tmp_path / "growth.png")
    assert (tmp_path / "growth.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    write_results(figures, "scale", tmp_path, "# header\n")
    assert "## Scale growth" in (tmp_path / "scale.md").read_text()
    assert (tmp_path / "scale_growth.png").exists()


def test_the_floor_pairs_ours_on_the_manager_in_the_table_the_growth_table_and_the_plot(
        tmp_path: Path) -> None:
    """Issue 28 item 3: per size, ours on the manager against the no-op floor of the same graph
    (ratio ours/floor), its own growth columns and its own line, only where it ran."""
    plan = Plan(1, (1, 10), ("k8s",), ("offline", "manager"), floor=True)
    runs = Runs.of("k8s", plan)
    for where in plan.where:
        runs.ours[where][1].add((6.0, 3.0, 200.0))
    runs.raw[(10, 1)].add((2.0, 1.0))
    runs.floor[1].add((3.0, 2.0, 150.0))
    figures = platform_figures("k8s", plan, runs)  # size 10 not measured yet: left out
    floors = {f.metric: f for f in figures if f.metric.startswith("floor_")}
    assert {metric: f.ratio for metric, f in floors.items()} == {
        "floor_install": 2.0, "floor_uninstall": 1.5, "floor_rss_mb": 200.0 / 150.0}
    assert {(f.where, f.size) for f in floors.values()} == {("manager", 1)}
    assert floors["floor_install"].name == ("scale k8s install on the manager, 1 microservice, "
                                            "vs the no-op floor")
    assert floor_figures("k8s", 1, runs.ours["manager"][1], runs.floor[1]) == list(floors.values())
    lines = render_growth_table(figures).splitlines()
    assert lines[0].endswith("| peak RSS [MB] | floor install [s] | ours/floor | "
                             "floor uninstall [s] | ours/floor |")
    assert lines[1].count("---") == 14
    assert lines[2].startswith("| k8s | offline | 1 |") and lines[2].endswith("| - | - | - | - |")
    assert lines[3].endswith("| 200.00 (200.00-200.00) | 3.00 (3.00-3.00) | 2.00x | "
                             "2.00 (2.00-2.00) | 1.50x |")

    class Axes:
        lines: list[dict[str, Any]] = []

        def plot(self, xs: list[int], ys: list[float], style: str, **how: Any) -> None:
            self.lines.append({"xs": xs, "ys": ys, "style": style, **how})

        def __getattr__(self, name: str) -> Any:
            return lambda *args, **kwargs: None

    for what, floor in (("install", 3.0), ("rss_mb", 150.0)):
        Axes.lines = []
        plot_growth_panel(Axes(), growth_rows(figures), "k8s", what)
        drawn = {line["label"]: (line["ys"], line["style"]) for line in Axes.lines}
        assert drawn[f"{FLOOR_LABEL}, manager"] == ([floor], "-.")
    assert plot_growth(figures, tmp_path / "growth.png")


def test_no_growth_figures_no_growth_table_or_plot(tmp_path: Path) -> None:
    plain = [Figure("k8s install->ready", "s", ours=[1.0], raw=[1.0])]
    assert render_growth_table(plain) == ""
    assert not plot_growth(plain, tmp_path / "growth.png")


def run_json(ours: dict[int, Sample], raw: float, where: str = "offline") -> dict[str, object]:
    figures = figures_for("swarm", where, ours)
    for size, sample in ours.items():
        figures += raw_figures("swarm", where, size, sample, Sample([raw * size], [raw], []))
    return {"figures": [asdict(f) for f in figures], "runs": 1,
            "machine_before": {"when": "t0", "cpus": 2, "loadavg": [1, 1, 1]}, "machine_after": {}}


def test_merging_steps_keeps_the_newest_sample_per_size_and_rebuilds_the_growth() -> None:
    old = run_json(samples(4.0, 12.0), raw=2.0)
    new = run_json({10: Sample([8.0], [3.0], [150.0])}, raw=1.0)
    merged = merge([("old", old), ("new", new)])
    assert {key: m.step for key, m in merged.items()} == {
        ("swarm", "offline", 1): "old", ("swarm", "offline", 10): "new"}
    figures = {f.name: f for f in rebuild(merged)}
    growth = figures["scale swarm install, 10 microservices"]
    assert (growth.ours, growth.raw) == ([8.0], [4.0])  # the new 10 against the old 1
    versus = figures["scale swarm install, 10 microservices, vs the raw tool"]
    assert (versus.ours, versus.raw) == ([8.0], [10.0])
    assert figures["scale swarm peak RSS of cfy, 10 microservices"].ours == [150.0]
    text = header([("old", old), ("new", new)], merged, "notes here")
    assert "counts for: swarm offline 1" in text and "counts for: swarm offline 10" in text
    assert text.rstrip().endswith("notes here")


def test_a_merged_file_merges_again_keeping_each_samples_step_and_load(tmp_path: Path) -> None:
    old = run_json(samples(4.0, 12.0), raw=2.0)
    first = {"figures": [asdict(f) for f in rebuild(merge([("old", old)]))],
             "steps": [{"step": "old", "machine_before": old["machine_before"],
                        "machine_after": {}, "runs": 1}]}
    new = run_json({10: Sample([8.0], [3.0], [150.0])}, raw=1.0)
    merged = merge([("results", first), ("new", new)])
    assert {key: m.step for key, m in merged.items()} == {
        ("swarm", "offline", 1): "old", ("swarm", "offline", 10): "new"}
    assert {f.step for f in rebuild(merged) if f.size == 1} == {"old"}
    text = header([("results", first), ("new", new)], merged, "")
    assert "`old` (" in text and "`new` (" in text and "`results`" not in text
