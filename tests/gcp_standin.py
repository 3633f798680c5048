"""A local stand-in for the Google APIs that have no emulator: Cloud Scheduler v1 and Cloud Run
v2 over REST (one HTTP server), IAM admin v1 over gRPC (the IAM library has no REST transport).

It is stateful and follows the documented resource paths and JSON shapes closely enough for the
official client libraries to talk to it: create / get / patch / list, 404 ``NOT_FOUND`` for a
missing resource, long-running ``Operation`` objects (already done) where Cloud Run returns them,
``getIamPolicy`` / ``setIamPolicy`` on services with etags. It checks nothing Google checks
(permissions, quotas, image existence); ``deny(fragment)`` makes matching requests answer
403 ``PERMISSION_DENIED`` so the caller's error path can be tested. Every request is recorded.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest

_JOB = re.compile(r"^/v1/(projects/[^/]+/locations/[^/]+)/jobs(?:/([^/:]+))?$")
_SERVICE = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+)/services(?:/([^/:]+))?(?::(\w+))?$")
_OPERATION = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+/operations/[^/]+)$")


def _camel(path: str) -> str:
    head, *rest = path.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass
class Request:
    """One request the stand-in received."""

    method: str
    path: str
    update_mask: list[str]
    body: dict[str, Any]


@dataclass
class State:
    """Everything the stand-in holds, as the JSON (camelCase) Google would return."""

    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, Any] = field(default_factory=dict)  # email -> iam_admin_v1.ServiceAccount
    requests: list[Request] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def writes(self) -> list[Request]:
        """The requests that changed something (everything but reads)."""
        return [r for r in self.requests
                if r.method in ("POST", "PATCH") and not r.path.endswith(":getIamPolicy")]


def _error(code: int, status: str, message: str) -> tuple[int, dict[str, Any]]:
    return code, {"error": {"code": code, "status": status, "message": message}}


def _patch(stored: dict[str, Any], body: dict[str, Any], mask: list[str]) -> None:
    for path in mask:
        *parents, leaf = [_camel(p) for p in path.split(".")]
        source, target = body, stored
        for part in parents:
            source, target = source.get(part, {}), target.setdefault(part, {})
        if leaf in source:
            target[leaf] = source[leaf]
        else:
            target.pop(leaf, None)


class _Rest:
    """The REST routes of Cloud Scheduler v1 and Cloud Run v2 over one ``State``."""

    def __init__(self, state: State) -> None:
        self.state = state

    def handle(self, method: str, path: str, query: dict[str, str],
               body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if any(fragment in path for fragment in self.state.denied):
            return _error(403, "PERMISSION_DENIED", f"The caller does not have permission ({path})")
        if match := _JOB.match(path):
            return self._job(method, match.group(1), match.group(2), query, body)
        if match := _SERVICE.match(path):
            return self._service(method, match.group(1), match.group(2), match.group(3), query,
                                 body)
        if (match := _OPERATION.match(path)) and match.group(1) in self.state.operations:
            return 200, self.state.operations[match.group(1)]
        return _error(404, "NOT_FOUND", f"no route {method} {path}")

    def _job(self, method: str, parent: str, job_id: str | None, query: dict[str, str],
             body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        jobs = self.state.jobs
        if job_id is None and method == "GET":
            return 200, {"jobs": [j for n, j in sorted(jobs.items()) if n.startswith(parent)]}
        if job_id is None and method == "POST":
            name = body.get("name", "")
            if not name.startswith(f"{parent}/jobs/"):
                return _error(400, "INVALID_ARGUMENT", f"job name {name!r} not under {parent}")
            if name in jobs:
                return _error(409, "ALREADY_EXISTS", f"Job {name} already exists")
            jobs[name] = {**body, "state": 1, "userUpdateTime": "2026-01-15T08:30:00Z"}
            return 200, jobs[name]
        name = f"{parent}/jobs/{job_id}"
        if name not in jobs:
            return _error(404, "NOT_FOUND", f"Job not found: {name}")
        if method == "PATCH":
            _patch(jobs[name], body, query.get("updateMask", "").split(","))
        return 200, jobs[name]

    def _service(self, method: str, parent: str, service_id: str | None, verb: str | None,
                 query: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        services = self.state.services
        if service_id is None and method == "GET":
            return 200, {"services": [s for n, s in sorted(services.items())
                                      if n.startswith(parent)]}
        if service_id is None and method == "POST":
            service_id = query.get("serviceId", "")
            name = f"{parent}/services/{service_id}"
            if name in services:
                return _error(409, "ALREADY_EXISTS", f"Service {name} already exists")
            services[name] = {**body, "name": name, "generation": "1",
                              "uri": f"https://{service_id}-standin.a.run.app"}
            return 200, self._operation(parent, services[name])
        name = f"{parent}/services/{service_id}"
        if name not in services:
            return _error(404, "NOT_FOUND", f"Service not found: {name}")
        if verb == "getIamPolicy":
            return 200, self.state.policies.get(name, {"etag": "AA=="})
        if verb == "setIamPolicy":
            etag = base64.b64encode(str(next(self.state.counter)).encode()).decode()
            self.state.policies[name] = {**body.get("policy", {}), "etag": etag}
            return 200, self.state.policies[name]
        if method == "PATCH":
            stored = services[name]
            _patch(stored, body, query.get("updateMask", "").split(","))
            stored["generation"] = str(int(stored["generation"]) + 1)
            return 200, self._operation(parent, stored)
        return 200, services[name]

    def _operation(self, parent: str, service: dict[str, Any]) -> dict[str, Any]:
        name = f"{parent}/operations/op-{next(self.state.counter)}"
        self.state.operations[name] = {
            "name": name, "done": True,
            "response": {"@type": "type.googleapis.com/google.cloud.run.v2.Service", **service}}
        return self.state.operations[name]


def _http_server(state: State) -> ThreadingHTTPServer:
    rest = _Rest(state)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            body = json.loads(raw) if raw else {}
            with state.lock:
                state.requests.append(Request(self.command, url.path,
                                              [m for m in query.get("updateMask", "").split(",")
                                               if m], body))
                code, answer = rest.handle(self.command, url.path, query, body)
            data = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def _iam_server(state: State) -> tuple[grpc.Server, int]:
    from google.cloud import iam_admin_v1 as iam

    def guarded(method: str, fn: Any) -> Any:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            with state.lock:
                state.requests.append(Request("GRPC", method, [], {}))
                if any(fragment in method for fragment in state.denied):
                    context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                  f"Permission denied on {method}")
                return fn(request, context)
        return call

    def get(request: Any, context: grpc.ServicerContext) -> Any:
        email = request.name.rsplit("/", 1)[-1]
        if email not in state.accounts:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Unknown service account {email}")
        return state.accounts[email]

    def create(request: Any, context: grpc.ServicerContext) -> Any:
        project = request.name.split("/", 1)[1]
        email = f"{request.account_id}@{project}.iam.gserviceaccount.com"
        if email in state.accounts:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, f"{email} already exists")
        state.accounts[email] = iam.ServiceAccount(
            name=f"projects/{project}/serviceAccounts/{email}", project_id=project, email=email,
            unique_id=str(100000 + next(state.counter)),
            display_name=request.service_account.display_name)
        return state.accounts[email]

    def patch(request: Any, context: grpc.ServicerContext) -> Any:
        account = get(iam.GetServiceAccountRequest(name=request.service_account.name), context)
        for path in request.update_mask.paths:
            setattr(account, path, getattr(request.service_account, path))
        return account

    methods = {"GetServiceAccount": (get, iam.GetServiceAccountRequest),
               "CreateServiceAccount": (create, iam.CreateServiceAccountRequest),
               "PatchServiceAccount": (patch, iam.PatchServiceAccountRequest)}
    handlers = {name: grpc.unary_unary_rpc_method_handler(
        guarded(name, fn), request_deserializer=kind.deserialize,
        response_serializer=iam.ServiceAccount.serialize)
        for name, (fn, kind) in methods.items()}
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "google.iam.admin.v1.IAM", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


@dataclass
class Standin:
    """A running stand-in: ``endpoint`` (REST, http://) and ``iam_endpoint`` (gRPC host:port)."""

    state: State
    endpoint: str
    iam_endpoint: str

    def deny(self, fragment: str) -> None:
        """Answer 403 / PERMISSION_DENIED to every request whose path contains ``fragment``."""
        self.state.denied.append(fragment)


@pytest.fixture
def gcp_standin() -> Iterator[Standin]:
    """A fresh, empty stand-in for one test (both servers stop at the end)."""
    state = State()
    http = _http_server(state)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    grpc_server, grpc_port = _iam_server(state)
    try:
        yield Standin(state, f"http://127.0.0.1:{http.server_port}", f"127.0.0.1:{grpc_port}")
    finally:
        http.shutdown()
        http.server_close()
        grpc_server.stop(None)
        thread.join()
