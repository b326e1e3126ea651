"""channels_redis, with a connection pool that waits for a free connection.

redis-py 8's asyncio ``ConnectionPool`` holds at most 100 connections and raises
``MaxConnectionsError`` for the 101st command in flight at once.  Every consumer's
``group_send`` and ``send`` is a command in flight, so a class joining a room at once (300
sockets on one daphne process, room_bench) failed most of its attaches and the presenter's
commands with "Too many connections".  ``BlockingConnectionPool`` makes such a burst wait
its turn for one of the same number of connections instead (up to ``timeout`` seconds).
"""

from __future__ import annotations

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer
from redis.asyncio import BlockingConnectionPool

POOL_SIZE = 100  # redis-py's own default: the limit stays, a burst queues behind it
POOL_WAIT_S = 20


class RedisChannelLayer(_RedisChannelLayer):
    def create_pool(self, index: int) -> BlockingConnectionPool:
        host = dict(self.hosts[index])
        if "address" not in host:  # sentinels and the rest: channels_redis's own pools
            return super().create_pool(index)
        address = host.pop("address")
        host.setdefault("max_connections", POOL_SIZE)
        host.setdefault("timeout", POOL_WAIT_S)
        return BlockingConnectionPool.from_url(address, **host)
