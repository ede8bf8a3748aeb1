"""The app server's torch threads wait passively (OMP_WAIT_POLICY), so a CPU-bound process beside the
server does not stretch a GradCAM from ~0.6 s to ~10 s: the setting is made before torch can load."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO


def test_app_py_sets_the_wait_policy_before_anything_that_could_load_torch():
    tree = ast.parse((REPO / "app.py").read_text())
    first_import_from = next(i for i, node in enumerate(tree.body) if isinstance(node, ast.ImportFrom))
    setting = next(i for i, node in enumerate(tree.body) if "OMP_WAIT_POLICY" in ast.unparse(node))
    assert setting < first_import_from
    # what app.py imports at its top does not load torch (only the pages do, later): the setting counts
    probe = "import sys, streamlit; from cxrviz.app import auth, links, resources, sidebar, state; import cxrviz.logs; " \
            "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
