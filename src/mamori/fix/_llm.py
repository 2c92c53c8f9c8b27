"""Optional drafts from a language model for code findings with no rule-based rewrite.

Why optional and why nothing unverified: a model's patch is a guess. It is asked for through an
OpenAI-compatible ``/v1/chat/completions`` endpoint the user configures (``MAMORI_LLM_URL``,
``MAMORI_LLM_MODEL``, ``MAMORI_LLM_API_KEY``), off unless all of URL and model are set, and the
draft goes through exactly the same verification as a rule-based rewrite: tests, re-scan, no
new finding. It is never applied otherwise, even under ``--no-verify``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import httpx

from mamori.errors import ResourceUnavailable
from mamori.model import Finding

TIMEOUT = 120.0
MAX_FILE_CHARS = 60_000


@dataclass(frozen=True, slots=True)
class LlmConfig:
    """Where to ask: base URL (``…/v1`` or the server root), model name and optional API key."""

    url: str
    model: str
    api_key: str = ""

    @classmethod
    def from_env(cls) -> LlmConfig | None:
        """The configuration from ``MAMORI_LLM_URL``/``_MODEL``/``_API_KEY``; None when not configured."""
        url = os.environ.get("MAMORI_LLM_URL", "").strip()
        model = os.environ.get("MAMORI_LLM_MODEL", "").strip()
        if not url or not model:
            return None
        return cls(url=url, model=model, api_key=os.environ.get("MAMORI_LLM_API_KEY", ""))

    @property
    def endpoint(self) -> str:
        """The chat completions URL."""
        base = self.url.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        if not base.endswith("/v1"):
            base += "/v1"
        return base + "/chat/completions"


_PROMPT = """You fix one security weakness in a Python file.
Weakness: {title} ({cwe}) reported at line {line}.
{description}
Return the complete corrected file in one ```python fenced block and nothing else. Change as little as
possible, keep formatting and comments, keep every function's behaviour for benign input.

File {path}:
```python
{source}
```"""


def draft_fix(
    config: LlmConfig, finding: Finding, source: str, client: httpx.Client | None = None
) -> str | None:
    """The model's corrected file, or None when it answered with no usable code block.

    Raises :class:`ResourceUnavailable` when the endpoint cannot be reached or refuses.
    """
    if len(source) > MAX_FILE_CHARS:
        return None
    prompt = _PROMPT.format(
        title=finding.title,
        cwe=", ".join(finding.cwe) or finding.rule_id,
        line=finding.location.line,
        description=finding.description[:1000],
        path=finding.location.path,
        source=source,
    )
    headers = {"Content-Type": "application/json"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    body = {
        "model": config.model,
        "temperature": 0,
        "messages": [
            {"role": "system", "content": "You are a careful application security engineer."},
            {"role": "user", "content": prompt},
        ],
    }
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT)
    try:
        resp = http.post(config.endpoint, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise ResourceUnavailable(
            f"the language model endpoint is unreachable: {exc}", path=config.endpoint
        ) from exc
    finally:
        if own:
            http.close()
    if resp.status_code != 200:
        raise ResourceUnavailable(
            f"the language model endpoint answered HTTP {resp.status_code}", path=config.endpoint
        )
    try:
        content = resp.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if not isinstance(content, str):
        return None
    m = re.search(r"```(?:python|py)?\s*\n(.*?)```", content, re.DOTALL)
    code = m.group(1) if m else None
    if not code or not code.strip():
        return None
    if source.endswith("\n") and not code.endswith("\n"):
        code += "\n"
    try:
        compile(code, finding.location.path, "exec")
    except SyntaxError:
        return None
    return code
