"""The analytics read models (one: the fact records, in ``facts``)."""
