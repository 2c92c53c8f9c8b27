"""Merge requests through GitHub's REST API (pull requests), with httpx.

Only two calls, both idempotent in effect: list the pull requests whose head is the branch
(``GET /repos/{owner}/{repo}/pulls?head=owner:branch&state=all``), and create one only when
there is none (``POST /repos/{owner}/{repo}/pulls``). A kill between the two makes the next
run find the request it opened. The token is sent as ``Authorization: Bearer`` and never
appears in a message, a log line or the state database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from mamori.errors import ResourceUnavailable
from mamori.watch._redact import redact


@dataclass(frozen=True, slots=True)
class PullRequest:
    """A merge request as the forge reports it."""

    number: int
    url: str
    state: str
    merged_at: str = ""


class GitHub:
    """A small client of GitHub's pull request API at ``api`` (``https://api.github.com``)."""

    def __init__(self, http: httpx.Client, api: str, token: str) -> None:
        self._http = http
        self._api = api.rstrip("/")
        self._headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self._api}{path}"
        shown = redact(url)
        try:
            response = self._http.request(method, url, headers=self._headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ResourceUnavailable(f"{method} {shown}: {type(exc).__name__}; retried later") from exc
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", ""))[:300]
            except ValueError:
                message = ""
            raise ResourceUnavailable(f"{method} {shown}: HTTP {response.status_code} {message}".rstrip())
        try:
            return response.json()
        except ValueError as exc:
            raise ResourceUnavailable(f"{method} {shown}: the answer is not JSON") from exc

    @staticmethod
    def _pull(data: Any) -> PullRequest:
        if not isinstance(data, dict) or not isinstance(data.get("number"), int):
            raise ResourceUnavailable("the forge's answer is not a pull request")
        return PullRequest(
            number=int(data["number"]),
            url=str(data.get("html_url", "")),
            state=str(data.get("state", "")),
            merged_at=str(data.get("merged_at") or ""),
        )

    def find(self, repo: str, branch: str) -> PullRequest | None:
        """The pull request (open or closed) whose head is ``branch`` of ``repo``, if any."""
        owner = repo.split("/", 1)[0]
        data = self._call("GET", f"/repos/{repo}/pulls", params={"head": f"{owner}:{branch}", "state": "all"})
        if not isinstance(data, list):
            raise ResourceUnavailable("the forge's answer is not a list of pull requests")
        for item in data:
            pull = self._pull(item)
            head = item.get("head", {}) if isinstance(item, dict) else {}
            if not isinstance(head, dict) or head.get("ref") in (None, branch):
                return pull
        return None

    def get(self, repo: str, number: int) -> PullRequest:
        """One pull request by number (its state and, once merged, ``merged_at``)."""
        return self._pull(self._call("GET", f"/repos/{repo}/pulls/{int(number)}"))

    def open(self, repo: str, branch: str, base: str, title: str, body: str) -> PullRequest:
        """Open a pull request of ``branch`` into ``base``."""
        data = self._call(
            "POST",
            f"/repos/{repo}/pulls",
            json={"title": title, "head": branch, "base": base, "body": body, "maintainer_can_modify": True},
        )
        return self._pull(data)
