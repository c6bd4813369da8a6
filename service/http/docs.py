"""The interactive API docs, which load nothing from any other host.

Swagger UI renders at `/docs` and `/docs/swagger`; its JavaScript, CSS and icon are the files of
the pinned swagger-ui-py package, served under ASSETS_PATH, so the page works with no internet.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from litestar import Router
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"


def docs_plugin() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        # Litestar's default favicon is an image on a CDN.
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )


def docs_assets() -> Router:
    # swagger-ui-py's copy of Swagger UI's dist files; its Python side serves other frameworks and is not used.
    # An installed package is a directory, so its Traversable is a real path.
    dist = Path(str(files("swagger_ui") / "static"))
    return create_static_files_router(path=ASSETS_PATH, directories=[dist], name="docs-assets")
