"""Chat notifications to the depot channel when a ticket is opened.

Uses ``requests`` when it is installed (production image) and the standard library otherwise.
"""

import json
import urllib.request

try:
    import requests
except ImportError:  # pragma: no cover - the production image has requests
    requests = None


def notify(webhook_url, ticket, timeout=5):
    """Post a short message about ``ticket`` to a chat webhook; returns the HTTP status."""
    message = {"text": f"[{ticket['line']}] {ticket['asset']}: {ticket['title']} (#{ticket['id']})"}
    if requests is not None:
        return requests.post(webhook_url, json=message, timeout=timeout).status_code
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps(message).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status
