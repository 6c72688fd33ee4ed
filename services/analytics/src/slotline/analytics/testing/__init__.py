"""For tests: the fact book in memory (``facts``) and one clinic's month as the public
topics tell it, with the KPIs it must give (``story``)."""
