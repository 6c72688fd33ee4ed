"""Run the payments service (``slotline-payments``)."""

from slotline.events.runtime import serve
from slotline.payments.wiring import service_spec


def main() -> None:
    serve(service_spec())


if __name__ == "__main__":
    main()
