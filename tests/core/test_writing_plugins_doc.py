"""The service example of docs/writing-plugins.md works: its client and its pool are
made once per runtime and closed with it."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from segur_core.errors import RuntimeClosedError

DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-plugins.md"


def files_of_the_doc() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    return dict(re.findall(r'```python title="([^"]+)"\n(.*?)```', text, flags=re.DOTALL))


@pytest.fixture
def loyalty(tmp_path: Path):
    files = files_of_the_doc()
    assert set(files) == {"loyalty.py"}
    path = tmp_path / "loyalty.py"
    path.write_text(files["loyalty.py"], encoding="utf-8")
    spec = importlib.util.spec_from_file_location("loyalty", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_services_of_the_guide_live_and_die_with_the_runtime(loyalty, make_segur_runtime):
    first, second = make_segur_runtime(), make_segur_runtime()
    client, pool = loyalty.client(first), loyalty.pool(first)
    assert loyalty.client(first) is client and loyalty.pool(first) is pool
    assert loyalty.client(second) is not client
    assert pool.submit(sum, [1, 2, 3]).result(timeout=10) == 6
    first.close()
    assert client.is_closed
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(sum, [1])
    assert not loyalty.client(second).is_closed
    with pytest.raises(RuntimeClosedError):
        loyalty.client(first)
