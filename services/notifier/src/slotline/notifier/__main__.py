"""Run the notifier service (``slotline-notifier``)."""

from slotline.events.runtime import serve
from slotline.notifier.wiring import service_spec


def main() -> None:
    serve(service_spec())


if __name__ == "__main__":
    main()
