"""One naming rule for an instance of a node with several instances (cloudify_shared.naming):
the Kubernetes objects, the Helm release and the Swarm services take the same suffix."""
from __future__ import annotations

import pytest

from cloudify_kubernetes.naming import choose_suffix
from cloudify_shared.naming import instance_suffix


@pytest.mark.parametrize(("instance_id", "count", "suffix"), [
    ("web_x8u01s", 1, ""),         # a node's only instance keeps the descriptors' names
    ("web_x8u01s", 2, "-x8u01s"),  # several: the random part of the instance id
    ("Web_X8U01S", 3, "-x8u01s"),  # lower-case: a valid Kubernetes and Docker name
    ("my_web_a.b", 2, "-ab"),      # only [a-z0-9] of the last part
    ("web_", 2, "-web"),           # no random part: the id's own characters, 8 at most
])
def test_instance_suffix(instance_id: str, count: int, suffix: str) -> None:
    assert instance_suffix(instance_id, count) == suffix


def test_kubernetes_keeps_no_suffix_for_an_instance_that_applied_before_the_rule() -> None:
    assert choose_suffix("web_x8u01s", 2, applied_before=True) == ""
    assert choose_suffix("web_x8u01s", 2, applied_before=False) == instance_suffix("web_x8u01s", 2)
