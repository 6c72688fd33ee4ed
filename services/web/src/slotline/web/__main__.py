"""Run the web service (``slotline-web``)."""

import uvicorn

from slotline.events.heap import settle_after_start
from slotline.web.settings import WebSettings
from slotline.web.wiring import build_app


def main() -> None:
    settings = WebSettings()
    settings.check_production()
    app = build_app(settings)
    settle_after_start()  # what start-up made is never walked by a full collection again
    uvicorn.Server(
        uvicorn.Config(
            app,
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
