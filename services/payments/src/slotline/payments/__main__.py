"""Run the payments service (``slotline-payments``; ``slotline-payments reconcile``)."""

from slotline.payments.cli import app


def main() -> None:
    app()


if __name__ == "__main__":
    main()
