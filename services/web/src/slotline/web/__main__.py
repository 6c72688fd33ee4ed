"""Run the web service (``slotline-web``)."""

import uvicorn

from slotline.web.settings import WebSettings
from slotline.web.wiring import build_app


def main() -> None:
    settings = WebSettings()
    settings.check_production()
    uvicorn.Server(
        uvicorn.Config(
            build_app(settings),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=int(settings.graceful_timeout_seconds),
            timeout_keep_alive=settings.http_keep_alive_seconds,
        )
    ).run()


if __name__ == "__main__":
    main()
