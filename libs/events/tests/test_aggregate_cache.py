"""The aggregate cache in two parts: a stream of short-lived aggregates (a hold per
booking) never pushes out the long-lived ones (the resource days every hold reads),
and the small part stays small, so the garbage collector has little to walk."""

from __future__ import annotations

import uuid

import pytest

from slotline.events.aggregate_cache import TwoPartCache
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.tally import Credit, Tally, TallyApplication


class _Day:
    """Stands for a long-lived kind (a resource day)."""


class _Hold:
    """Stands for a short-lived kind (a hold)."""


def test_short_lived_aggregates_never_push_out_long_lived_ones() -> None:
    cache = TwoPartCache(maxsize=3, long_maxsize=5, long_lived=(_Day,))
    days = {uuid.uuid4(): _Day() for _ in range(5)}
    for day_id, day in days.items():
        cache.put(day_id, day)
    holds = {uuid.uuid4(): _Hold() for _ in range(100)}
    for hold_id, hold in holds.items():
        cache.put(hold_id, hold)

    assert all(cache.get(day_id) is day for day_id, day in days.items())
    assert len(cache.parts.short) == 3
    assert len(cache.parts.long) == 5
    kept = [hold_id for hold_id in holds if hold_id in cache.parts]
    assert kept == list(holds)[-3:]  # the newest holds; older ones were evicted
    with pytest.raises(KeyError):
        cache.get(next(iter(holds)))


def test_each_part_evicts_its_least_recently_used() -> None:
    cache = TwoPartCache(maxsize=2, long_maxsize=2, long_lived=(_Day,))
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cache.put(first, _Day())
    cache.put(second, _Day())
    cache.get(first)  # read again: now the most recent
    cache.put(third, _Day())

    assert set(cache.parts.long) == {first, third}


def test_evicting_removes_from_either_part() -> None:
    cache = TwoPartCache(maxsize=2, long_maxsize=2, long_lived=(_Day,))
    day_id, hold_id = uuid.uuid4(), uuid.uuid4()
    day, hold = _Day(), _Hold()
    cache.put(day_id, day)
    cache.put(hold_id, hold)

    assert set(cache.parts.long) == {day_id}
    assert set(cache.parts.short) == {hold_id}
    assert cache.get(day_id, evict=True) is day
    assert cache.get(hold_id, evict=True) is hold
    assert day_id not in cache.parts
    assert hold_id not in cache.parts
    with pytest.raises(KeyError):
        cache.get(day_id)


def test_a_value_of_the_other_kind_under_the_same_id_moves_part() -> None:
    cache = TwoPartCache(maxsize=2, long_maxsize=2, long_lived=(_Day,))
    key = uuid.uuid4()
    cache.put(key, _Hold())
    day = _Day()
    cache.put(key, day)

    assert key not in cache.parts.short
    assert cache.get(key) is day


class _LongTallies(TallyApplication):
    long_lived = (Tally,)


@pytest.mark.integration
def test_an_application_naming_long_lived_aggregates_caches_them_apart(
    database_url: str,
) -> None:
    ensure_schema(database_url, "tally")
    env = {
        **postgres_env(database_url, "tally"),
        "AGGREGATE_CACHE_MAXSIZE": "2",
        "LONG_LIVED_CACHE_MAXSIZE": "50",
    }
    app = _LongTallies(env=env)
    tallies = [Tally() for _ in range(10)]
    credits = [Credit(f"source-{n}-{uuid.uuid4()}") for n in range(10)]
    app.save(*tallies, *credits)
    for aggregate in (*tallies, *credits):
        app.repository.get(aggregate.id)  # a read puts it in the cache

    cache = app.repository.cache
    assert isinstance(cache, TwoPartCache)
    assert {t.id for t in tallies} <= set(cache.parts.long)
    assert set(cache.parts.short) == {c.id for c in credits[-2:]}
    # a read from the cache is a copy, and a changed copy saved is what is read next
    tally: Tally = app.repository.get(tallies[0].id)
    tally.count(3)
    app.save(tally)
    assert app.repository.get(tallies[0].id).total == 3
    # forgetting every cached aggregate leaves an empty cache of the same two parts
    app.forget_cached()
    emptied = app.repository.cache
    assert isinstance(emptied, TwoPartCache)
    assert not emptied.parts.long
    assert not emptied.parts.short
    assert app.repository.get(tallies[0].id).total == 3  # read from the store again
    assert tallies[0].id in emptied.parts.long
    # the base application keeps one small LRU: the long part stays empty
    plain = TallyApplication(env=postgres_env(database_url, "tally"))
    assert isinstance(plain.repository.cache, TwoPartCache)
    assert plain.repository.cache.parts.short_maxsize == 1000
    plain_tally = Tally()
    plain.save(plain_tally)
    plain.repository.get(plain_tally.id)
    assert set(plain.repository.cache.parts.short) == {plain_tally.id}
    assert not plain.repository.cache.parts.long


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("AGGREGATE_CACHE_MAXSIZE", "0"),
        ("AGGREGATE_CACHE_MAXSIZE", "-5"),
        ("LONG_LIVED_CACHE_MAXSIZE", "0"),
    ],
)
def test_a_cache_size_that_is_not_positive_is_refused(setting: str, value: str) -> None:
    """eventsourcing reads 0 as a cache without bound; Slotline refuses it by name."""
    with pytest.raises(ValueError, match=setting):
        TallyApplication(env={setting: value})


def test_an_empty_cache_size_means_no_cache_and_reads_still_work() -> None:
    app = TallyApplication(env={"AGGREGATE_CACHE_MAXSIZE": ""})
    assert app.repository.cache is None
    tally = Tally()
    tally.count(2)
    app.save(tally)
    assert app.repository.get(tally.id).total == 2


@pytest.mark.integration
def test_a_read_moves_on_a_copy_never_the_cached_instance_a_unit_of_work_may_take(
    database_url: str,
) -> None:
    """eventsourcing moved a cached aggregate on in place, while a unit of work may have
    taken that very instance out of the cache to change it (the slot view once failed
    with ``OriginatorVersionError(2, 4)``)."""
    ensure_schema(database_url, "tally")
    env = postgres_env(database_url, "tally")
    here, there = TallyApplication(env=env), TallyApplication(env=env)  # two replicas
    tally = Tally()
    here.save(tally)
    here.repository.get(tally.id)
    cache = here.repository.cache
    assert isinstance(cache, TwoPartCache)
    cached = cache.parts.find(tally.id)
    assert cached is not None
    theirs: Tally = there.repository.get(tally.id)
    theirs.count(2)
    there.save(theirs)  # the other replica moves it on

    read: Tally = here.repository.get(tally.id)

    assert (read.version, read.total) == (2, 2)
    assert (cached.version, cached.total) == (1, 0)  # the instance cached was not changed
    assert read is not cache.parts.find(tally.id)  # what was read is the caller's own
    assert cache.copy(tally.id).version == 2  # the cache now holds a copy of the newer
