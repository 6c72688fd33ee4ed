"""The availability domain, pure: no I/O, and time is always passed in.

- :mod:`.values` — intervals, hours, requirements, service definitions
- :mod:`.schedule` — local hours to UTC working intervals, DST-correct
- :mod:`.entries` — calendar entries and the overlap / seats / daily-limit rules
- :mod:`.calendar` — ``ResourceDay``, the aggregate that keeps a resource overlap-free
- :mod:`.hold` — ``Hold``, a booking request's time-limited claim
- :mod:`.rules` — rejection reasons, booking window, candidate starts
- :mod:`.resources` — ``ResourceState``, a resource as slot finding sees it
- :mod:`.assignment` — choosing resources for a slot
- :mod:`.slots` — day views and nearest alternatives
- :mod:`.catalog` / :mod:`.codec` — locations, resources, services and their event data
"""
