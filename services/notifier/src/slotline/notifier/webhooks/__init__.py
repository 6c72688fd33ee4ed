"""Outbound webhooks' adapters: where a URL may lead (:mod:`.addresses`), the signed HTTP
request (:mod:`.sender`) and the background job that sends what is due
(:mod:`.dispatcher`). The rules are in ``domain/webhooks.py``, the use cases in
``application/webhooks.py``, the rows in ``persistence/webhooks.py``."""
