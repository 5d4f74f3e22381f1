"""The scale benchmark's pure parts (issue 15): the mixed blueprint (half on each platform, it
parses offline), the growth table and the growth plot from tagged figures. Measuring itself
needs the clusters (tests/integration/test_benchmarks_smoke.py)."""
from __future__ import annotations

from pathlib import Path

import yaml
from cloudify.workflows import local

from benchmarks.common import Figure, plot_growth, render_growth_table, write_results
from benchmarks.scale import Sample, figures_for, raw_figures
from benchmarks.scale_blueprints import mixed_blueprint, mixed_split
from tests.helpers.local_workflows import offline_resolver


def test_the_mixed_blueprint_puts_half_on_each_platform_and_parses(tmp_path: Path) -> None:
    assert [mixed_split(n) for n in (1, 10, 25, 50)] == [(0, 1), (5, 5), (12, 13), (25, 25)]
    nodes = yaml.safe_load(mixed_blueprint(5, "p"))["node_templates"]
    types = [n["type"] for n in nodes.values()]
    assert types.count("cloudify.kubernetes.Microservice") == 2
    assert types.count("cloudify.swarm.Microservice") == types.count("cloudify.swarm.Container") == 3
    blueprint = tmp_path / "blueprint.yaml"
    blueprint.write_text(mixed_blueprint(5, "p"))
    env = local.init_env(str(blueprint), name="mixed", resolver=offline_resolver())
    assert len(env.storage.get_nodes()) == 2 + 2 + 3 * 2


def samples(*values: float) -> dict[int, Sample]:
    return {size: Sample([v], [v / 2], [100 + v]) for size, v in zip((1, 10), values, strict=True)}


def test_growth_rows_pair_ours_with_the_raw_tool_per_size(tmp_path: Path) -> None:
    ours = samples(4.0, 12.0)
    figures = figures_for("swarm", "offline", ours) + figures_for("swarm", "manager", samples(6.0, 30.0))
    for size in (1, 10):
        figures += raw_figures("swarm", "offline", size, ours[size], Sample([2.0 * size], [1.0], []))
    table = render_growth_table(figures)
    lines = table.splitlines()
    assert lines[2] == "| swarm | offline | 1 | 4.00 (4.00-4.00) | 2.00 (2.00-2.00) | 2.00x | " \
                       "2.00 (2.00-2.00) | 1.00 (1.00-1.00) | 2.00x | 104.00 (104.00-104.00) |"
    assert lines[3].startswith("| swarm | offline | 10 | 12.00 (12.00-12.00) | 20.00 (20.00-20.00) | 0.60x |")
    # no raw run for the manager here: its rows show the peak RSS only
    assert lines[4] == "| swarm | manager | 1 | - | - | - | - | - | - | 106.00 (106.00-106.00) |"
    assert plot_growth(figures, tmp_path / "growth.png")
    assert (tmp_path / "growth.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    write_results(figures, "scale", tmp_path, "# header\n")
    assert "## Scale growth" in (tmp_path / "scale.md").read_text()
    assert (tmp_path / "scale_growth.png").exists()


def test_no_growth_figures_no_growth_table_or_plot(tmp_path: Path) -> None:
    plain = [Figure("k8s install->ready", "s", ours=[1.0], raw=[1.0])]
    assert render_growth_table(plain) == ""
    assert not plot_growth(plain, tmp_path / "growth.png")
