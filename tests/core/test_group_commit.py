"""Group commit (core/group_commit.py): concurrent calls of one process share a batch, each
gets its own result, a failing batch fails only its own calls, a batch is bounded, nobody
waits forever."""

import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from core.group_commit import MAX_BATCH, GroupCommit


class Recorder:
    """A batch runner that records its batches and answers each item with itself."""

    def __init__(self, delay: float = 0.0, fail_on: str | None = None):
        self.batches: list[list[str]] = []
        self.delay, self.fail_on = delay, fail_on
        self.lock = threading.Lock()

    def __call__(self, items):
        with self.lock:
            self.batches.append(list(items))
        time.sleep(self.delay)  # a round trip: others queue meanwhile
        if self.fail_on in items:
            raise RuntimeError("the batch failed")
        return [f"answer to {item}" for item in items]


def run_threads(group: GroupCommit, items: list[str]) -> tuple[dict, dict]:
    results, errors = {}, {}

    def one(item):
        try:
            results[item] = group.submit(item)
        except Exception as exc:  # collected, asserted on below
            errors[item] = exc

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads), "a call waited forever"
    return results, errors


def test_every_call_gets_its_own_result_and_calls_share_batches():
    recorder = Recorder(delay=0.005)
    items = [f"o-{n}" for n in range(40)]
    results, errors = run_threads(GroupCommit(recorder, lambda: 0), items)
    assert errors == {}
    assert results == {item: f"answer to {item}" for item in items}
    assert sorted(i for batch in recorder.batches for i in batch) == sorted(items)  # each once
    assert max(len(batch) for batch in recorder.batches) > 1  # grouped while one was out


def test_a_window_gathers_calls_that_arrive_within_it():
    recorder = Recorder()
    results, errors = run_threads(
        GroupCommit(recorder, lambda: 200_000), [f"w-{n}" for n in range(8)]
    )
    assert errors == {} and len(results) == 8
    assert len(recorder.batches[0]) > 1


def test_a_batch_that_fails_fails_its_own_calls_only_and_the_lead_moves_on():
    recorder = Recorder(delay=0.002, fail_on="o-0")
    group = GroupCommit(recorder, lambda: 0)
    results, errors = run_threads(group, [f"o-{n}" for n in range(20)])
    failed = next(batch for batch in recorder.batches if "o-0" in batch)
    assert set(errors) == set(failed)
    assert all(isinstance(exc, RuntimeError) for exc in errors.values())
    assert set(results) == {f"o-{n}" for n in range(20)} - set(failed)
    assert group.submit("later") == "answer to later"  # nobody holds the lead now


def test_a_batch_holds_at_most_max_batch_calls():
    recorder = Recorder(delay=0.02)
    results, errors = run_threads(
        GroupCommit(recorder, lambda: 0), [f"m-{n}" for n in range(MAX_BATCH + 60)]
    )
    assert errors == {} and len(results) == MAX_BATCH + 60
    assert max(len(batch) for batch in recorder.batches) <= MAX_BATCH


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=3),
)
def test_calls_of_one_thread_are_batched_in_the_order_it_made_them(accounts, delay_ms):
    """Each thread submits its items one after another (as one connection does); in the
    batches, every thread's items appear in its own order, each exactly once."""
    recorder = Recorder(delay=delay_ms / 1000)
    group = GroupCommit(recorder, lambda: 0)
    sequences = {account: [f"{account}-{n}" for n in range(accounts.count(account))]
                 for account in set(accounts)}  # fmt: skip

    def submit_all(items):
        for item in items:
            assert group.submit(item) == f"answer to {item}"

    threads = [threading.Thread(target=submit_all, args=(items,)) for items in sequences.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    flat = [item for batch in recorder.batches for item in batch]
    assert sorted(flat) == sorted(item for items in sequences.values() for item in items)
    for items in sequences.values():
        assert [item for item in flat if item in items] == items
