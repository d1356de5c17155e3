"""The code samples of the plugin's README run."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_samples_run() -> None:
    samples = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert samples
    for sample in samples:
        exec(compile(sample, str(README), "exec"), {})
