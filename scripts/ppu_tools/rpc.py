"""JSON-RPC as Odoo's web client speaks it: a logged-in browser tab whose
calls are timed."""

import time

HTTP_TIMEOUT = 600  # longer than any limit: Odoo's watchdog answers first


class RpcError(Exception):
    pass


class Client:
    """One logged-in browser tab: a session cookie and timed JSON-RPC calls."""

    def __init__(self, base_url, limit):
        import requests

        self.requests = requests
        self.base_url = base_url
        self.limit = limit
        self.session = requests.Session()
        self.context = {}
        self.timings = []  # (label, seconds, error)
        self.sequence = 0

    def post(self, path, params, label=None, echo=True):
        """POST one JSON-RPC call; return (result, seconds). RpcError when
        the server answers an error or drops the connection."""
        label = label or path
        self.sequence += 1
        payload = {"jsonrpc": "2.0", "method": "call", "id": self.sequence}
        payload["params"] = params
        error = None
        started = time.monotonic()
        try:
            response = self.session.post(
                self.base_url + path, json=payload, timeout=HTTP_TIMEOUT
            )
            body = response.json() if response.content else {}
        except (self.requests.RequestException, ValueError) as exc:
            error = f"no answer: {type(exc).__name__}: {exc}"
        else:
            if "error" in body:
                data = body["error"].get("data") or {}
                error = data.get("message") or body["error"].get("message")
                error = f"{data.get('name', 'error')}: {error}"
            elif response.status_code != 200 or "result" not in body:
                error = f"HTTP {response.status_code}"
        seconds = time.monotonic() - started
        self.timings.append((label, seconds, error))
        if echo or error:
            self.echo(label, seconds, error)
        if error:
            raise RpcError(error)
        return body["result"], seconds

    def echo(self, label, seconds, error=None, note=""):
        flag = "  SLOW" if seconds > self.limit else ""
        print(f"  {seconds:7.2f} s  {label}{flag}{note}", flush=True)
        if error:
            print(f"             ERROR {error[:400]}", flush=True)

    def call(self, model, method, args, context=None, echo=True, button=False, **kw):
        route = "call_button" if button else "call_kw"
        params = {
            "model": model,
            "method": method,
            "args": args,
            "kwargs": dict(kw, context=dict(self.context, **(context or {}))),
        }
        label = f"{route} {model}.{method}"
        return self.post(f"/web/dataset/{route}/{model}/{method}", params, label, echo)

    def authenticate(self, db_name, login, password):
        """Log in as the web client does; its context for the next calls."""
        info, _seconds = self.post(
            "/web/session/authenticate",
            {"db": db_name, "login": login, "password": password},
        )
        if not info.get("uid"):
            raise RpcError(f"{login} could not log in")
        context = dict(info.get("user_context") or {})
        company = (info.get("user_companies") or {}).get("current_company")
        if company:
            context["allowed_company_ids"] = [company]
        self.context = context
