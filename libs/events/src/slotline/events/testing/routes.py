"""Walking a FastAPI app's routes, for tests that check every route declares something."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every route, those of included routers too (FastAPI includes them lazily)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from api_routes(included.routes)


def dependency_names(dependant: object) -> Iterator[str]:
    """The qualified names of every dependency a route resolves, nested ones too."""
    call = getattr(dependant, "call", None)
    if call is not None:
        yield getattr(call, "__qualname__", "")
    for inner in getattr(dependant, "dependencies", []):
        yield from dependency_names(inner)
