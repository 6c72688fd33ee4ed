"""Run the availability service (``slotline-availability``)."""

from slotline.availability.wiring import service_spec
from slotline.events.runtime import serve


def main() -> None:
    serve(service_spec())


if __name__ == "__main__":
    main()
