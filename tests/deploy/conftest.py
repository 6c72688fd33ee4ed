"""The Kubernetes manifests as ``kubectl kustomize`` renders each overlay."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Every object of each overlay, as ``kubectl kustomize`` renders it."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:  # a check that cannot run is a failure, never a pass
        pytest.fail(
            "kubectl renders deploy/k8s for these tests and is not installed: install it"
            " (https://kubernetes.io/docs/tasks/tools/), as README's test command says"
        )
    overlays = {}
    for overlay in OVERLAYS:
        done = subprocess.run(
            [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{overlay} does not render: {done.stderr}"
        overlays[overlay] = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    return overlays
