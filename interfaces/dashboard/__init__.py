"""The dashboard: server-rendered pages (Jinja templates, htmx) in the API's Litestar app.

`dashboard_router(secret)` gives the `/dashboard` routes with their own middleware (a
server-side session and Litestar's CSRF check on every form) and `template_config()` the
templates in `interfaces/dashboard/templates/`; `interfaces/dashboard/static/htmx.min.js`
is htmx 2.0.11 (0BSD licence, from the npm package `htmx.org`), served locally.
"""

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from interfaces.dashboard.auth import SignInRequired
from interfaces.dashboard.conversations import ConversationPages
from interfaces.dashboard.pages import DashboardController
from interfaces.dashboard.progress_events import ProgressEvents

HERE = Path(__file__).parent
CSRF_COOKIE = "herald_csrf"
SESSION_COOKIE = "herald_session"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)


def _sign_in_required(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    if request.headers.get("hx-request"):
        return Response(content="", status_code=401, headers={"HX-Redirect": "/dashboard/signin"})
    return Redirect("/dashboard/signin")


def _not_found(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    return Template("error.html", context={"message": "Not found."}, status_code=404)


def _refused(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    message = "The form has expired or lacks its security token: reload the page and try again."
    return Template("error.html", context={"message": message}, status_code=403)


@get("/", include_in_schema=False, exclude_from_auth=True, sync_to_thread=False)
def root() -> Redirect:
    """The service's URL opens the dashboard."""
    return Redirect("/dashboard/")


def dashboard_router(secret: str) -> Router:
    session = ServerSideSessionConfig(key=SESSION_COOKIE, httponly=True, samesite="lax")
    csrf = CSRFConfig(secret=secret, cookie_name=CSRF_COOKIE, cookie_httponly=True)
    static = create_static_files_router(
        path="/static", directories=[HERE / "static"], include_in_schema=False
    )
    return Router(
        path="/",
        route_handlers=[
            DashboardController,
            ProgressEvents,
            ConversationPages,
            Router("/dashboard", route_handlers=[static]),
        ],
        middleware=[session.middleware, DefineMiddleware(CSRFMiddleware, config=csrf)],
        exception_handlers={
            SignInRequired: _sign_in_required,
            NotFoundException: _not_found,
            PermissionDeniedException: _refused,
        },
        include_in_schema=False,
    )
