"""Run the analytics service (``slotline-analytics``)."""

from slotline.analytics.wiring import service_spec
from slotline.events.runtime import serve


def main() -> None:
    serve(service_spec())


if __name__ == "__main__":
    main()
