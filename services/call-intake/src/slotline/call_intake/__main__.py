"""Run the call-intake service (``slotline-call-intake``)."""

from slotline.call_intake.wiring import service_spec
from slotline.events.runtime import serve


def main() -> None:
    serve(service_spec())


if __name__ == "__main__":
    main()
