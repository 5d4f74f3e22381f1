"""No import circle anywhere in the suite, module by module and across its four packages.
import-linter's acyclic_siblings contract (pyproject.toml, `make lint`) checks the siblings
inside each package; a circle through two packages (shared -> plugin -> shared) it cannot see,
so this walks the whole module graph with grimp, import-linter's own library. Imports inside
functions and under TYPE_CHECKING count: a circle hidden behind either is still a circle."""
from __future__ import annotations

import grimp

PACKAGES = ("cloudify_shared", "cloudify_kubernetes", "cloudify_swarm", "cloudify_proxy")


def circles(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Each direct import importer -> imported where imported leads back to importer."""
    return sorted((importer, imported) for importer in graph.modules
                  for imported in graph.find_modules_directly_imported_by(importer)
                  if graph.chain_exists(importer=imported, imported=importer))


def test_no_module_imports_itself_back() -> None:
    found = circles(grimp.build_graph(*PACKAGES, cache_dir=None))
    assert not found, "import circle(s) through: " + ", ".join(f"{a} -> {b}" for a, b in found)


def test_a_circle_is_found() -> None:
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    assert circles(graph) == []
    graph.add_import(importer="p.c", imported="p.a")  # as a function-local import would
    assert circles(graph) == [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a")]
