"""The operator's read-only views: ``GET /report?days=N`` and the web dashboard.

Routes (a router the coordinator app includes):

- ``GET /`` redirects to ``/dashboard``.
- ``GET /report?days=N&to=YYYY-MM-DD``: the trend report (``pipeline/trend_report.py``).
- ``GET /dashboard``: the page; ``/dashboard/static/*`` its script and style (shipped in the
  package: the page needs no network beyond the coordinator).
- ``GET /dashboard/api/overview?days=30``, ``GET /dashboard/api/predictions?game_date=``: the
  JSON the page draws.
- ``GET /dashboard/login``, ``POST /dashboard/login`` (form field ``token``),
  ``POST /dashboard/logout``.

With a credential configured, these views accept the bearer token or the session cookie that
``POST /dashboard/login`` sets once the token checks out: ``HttpOnly`` (scripts cannot read
it), ``SameSite=Strict`` (other sites cannot send it), ``Secure`` behind HTTPS. The cookie
holds the credential itself and is honoured on these read-only GET routes only — never on
``/start``, ``/retry`` or the other routes that change anything.
"""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tipoff.pipeline.dashboard_view import DashboardView
from tipoff.pipeline.trend_report import MAX_DAYS, TrendReport
from tipoff.services.auth import AuthError, Authenticator, Caller
from tipoff.services.http_docs import documented_responses
from tipoff.services.runtime import Services, today_game_date

COOKIE = "tipoff_session"
COOKIE_MAX_AGE = 12 * 3600
STATIC = files("tipoff.services") / "dashboard_static"
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
MAX_FORM = 16 * 1024


class ViewerAccess:
    """The dependency of the read-only views: a bearer token or the session cookie."""

    def __init__(self, auth: Authenticator) -> None:
        self._auth = auth

    async def __call__(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        token = token or request.cookies.get(COOKIE)
        caller = await run_in_threadpool(self._auth.authenticate, token, False)
        request.state.caller = caller
        return caller


def dashboard_router(services: Services, auth: Authenticator) -> APIRouter:
    """The routes of this module over one coordinator's ``services``."""
    report = TrendReport(services.store, services.watch, services.clock)
    view = DashboardView(services.store, report, services.clock,
                         dead_letters=getattr(services.bus, "dead_letters", None),
                         breakers=services.store.load_breakers)
    viewer = [Depends(ViewerAccess(auth))]
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/dashboard", status_code=307)

    @router.get("/report", dependencies=viewer,
                responses=documented_responses("/report", guarded=True))
    async def trend_report(days: int = Query(7, ge=1, le=MAX_DAYS),
                           to: str | None = Query(None, max_length=32)) -> Response:
        """The last ``days`` nights up to ``to`` (default today, ET) and their trend."""
        last = _date(to)
        try:
            return JSONResponse(await run_in_threadpool(report.report, days, last))
        except OverflowError as exc:  # a window reaching past year 1 or 9999
            raise _bad_date(f"to: a {days}-night window up to {last} is out of range") from exc

    @router.get("/dashboard", include_in_schema=False)
    async def page(request: Request) -> Response:
        if auth.required and not await _signed_in(auth, request):
            return RedirectResponse("/dashboard/login", status_code=303)
        return HTMLResponse(_page("index.html"), headers=_NO_STORE)

    @router.get("/dashboard/static/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in ASSETS:
            return JSONResponse({"error": f"no asset {name}"}, status_code=404)
        return FileResponse(str(STATIC / name), media_type=ASSETS[name])

    @router.get("/dashboard/api/overview", dependencies=viewer, include_in_schema=False)
    async def overview(days: int = Query(30, ge=1, le=MAX_DAYS)) -> Response:
        return JSONResponse(await run_in_threadpool(view.overview, days), headers=_NO_STORE)

    @router.get("/dashboard/api/predictions", dependencies=viewer, include_in_schema=False)
    async def predictions(game_date: str | None = Query(None, max_length=32)) -> Response:
        day = _date(game_date) or _today(services)
        return JSONResponse(await run_in_threadpool(view.predictions, day), headers=_NO_STORE)

    @router.get("/dashboard/login", include_in_schema=False)
    async def login_page() -> Response:
        if not auth.required:
            return RedirectResponse("/dashboard", status_code=303)
        return HTMLResponse(_page("login.html").replace("{error}", ""))

    @router.post("/dashboard/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        token = _form_token(await request.body())
        try:
            await run_in_threadpool(auth.authenticate, token, False)
        except AuthError:
            body = _page("login.html").replace("{error}", "That token was not accepted.")
            return HTMLResponse(body, status_code=401)
        response = RedirectResponse("/dashboard", status_code=303)
        if token:
            response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, httponly=True,
                                samesite="strict", secure=request.url.scheme == "https",
                                path="/")
        return response

    @router.post("/dashboard/logout", include_in_schema=False)
    async def logout() -> Response:
        response = RedirectResponse("/dashboard/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return router


_NO_STORE = {"Cache-Control": "no-store"}


async def _signed_in(auth: Authenticator, request: Request) -> bool:
    try:
        await ViewerAccess(auth)(request)
    except AuthError:
        return False
    return True


def _page(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _form_token(body: bytes) -> str | None:
    if len(body) > MAX_FORM:
        return None
    values = parse_qs(body.decode("utf-8", errors="replace")).get("token") or [""]
    return values[0].strip() or None


def _date(text: str | None) -> date | None:
    from tipoff.services.http import query_date  # http includes this router

    return query_date(text)


def _bad_date(message: str) -> Exception:
    from tipoff.services.http import RequestError  # http includes this router

    return RequestError(422, message, "game_date")


def _today(services: Services) -> date:
    return today_game_date(services.clock)
