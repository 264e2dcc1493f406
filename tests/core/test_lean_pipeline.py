"""LeanPipeline (core/redis_client.py) answers exactly as redis-py's pipeline does, over the
real test Redis: the same raw replies in order, an error reply raised only after every reply
was read (the connection stays usable), and a dropped connection reported, not resent."""

import select

import pytest
import redis

from core import redis_client
from core.redis_client import LeanPipeline
from tests.reply_cutter import ReplyCutter

SCRIPT = "redis.call('SET', KEYS[1], ARGV[1]); return {ARGV[1], tonumber(ARGV[2]) + 1}"


def queue(pipe, sha: str) -> None:
    pipe.execute_command("EVALSHA", sha, 1, "lean:a", "é-unicode", 41)
    pipe.get("lean:a")
    pipe.get("lean:missing")
    pipe.execute_command("EVALSHA", sha, 1, "lean:b", b"\x00bytes", -3)
    pipe.execute_command("WAIT", 0, 0)


def test_the_same_replies_as_redis_py(redis_conn):
    sha = redis_conn.script_load(SCRIPT)
    lean = LeanPipeline(redis_conn)
    queue(lean, sha)
    mine = lean.execute()
    standard = redis_conn.pipeline(transaction=False)
    queue(standard, sha)
    assert mine == standard.execute()
    assert mine[0] == [b"\xc3\xa9-unicode", 42] and mine[2] is None


def test_an_error_reply_is_raised_after_every_reply_was_read(redis_conn):
    lean = LeanPipeline(redis_conn)
    lean.execute_command("SET", "lean:c", "1")
    lean.execute_command("EVALSHA", "0" * 40, 0)
    lean.execute_command("SET", "lean:d", "2")
    with pytest.raises(redis.exceptions.NoScriptError):
        lean.execute()
    assert redis_conn.mget("lean:c", "lean:d") == [b"1", b"2"]  # both ran
    again = LeanPipeline(redis_conn)
    again.get("lean:c")
    assert again.execute() == [b"1"]  # the pooled connection is in step


def test_arguments_hiredis_refuses_are_a_data_error(redis_conn):
    lean = LeanPipeline(redis_conn)
    lean.execute_command("SET", "lean:e", object())
    with pytest.raises(redis.exceptions.DataError):
        lean.execute()


def test_a_lost_reply_is_an_error_and_the_command_is_not_resent(settings, redis_conn):
    cutter = ReplyCutter(settings.REDIS_URL)
    try:
        settings.REDIS_URL = cutter.url
        client = redis_client.get_hot_redis()
        cutter.arm(b"lean:counter")
        lean = LeanPipeline(client)
        lean.execute_command("INCR", "lean:counter")
        with pytest.raises(redis.exceptions.ConnectionError):
            lean.execute()
        cutter.disarm()
        assert redis_conn.get("lean:counter") == b"1"  # applied once, never again
    finally:
        cutter.close()


def test_a_kept_connection_the_server_closed_while_idle_is_replaced_before_sending(
    redis_conn,
):
    """A Redis restart (or CLIENT KILL, a timeout) closes the connection a worker keeps for
    the hot path. Before, the next pipeline was sent on it and answered by a reset: a check
    failed closed although Redis was back, and nobody could tell whether it was applied
    (the flaky end of test_redis_down_fails_closed_and_the_service_recovers)."""
    client = redis_client.get_hot_redis()
    first = LeanPipeline(client)
    first.execute_command("CLIENT", "ID")
    (connection_id,) = first.execute()
    redis_conn.execute_command("CLIENT", "KILL", "ID", connection_id)
    kept = redis_client._own_connection(client.connection_pool)._sock
    assert select.select([kept], [], [], 5)[0]  # the server's close has reached this side
    again = LeanPipeline(client)
    again.execute_command("INCR", "lean:after-kill")
    again.execute_command("CLIENT", "ID")
    count, new_id = again.execute()
    assert count == 1 and new_id != connection_id
