"""Bus adapters: ``MemoryBus`` (embedded, in-process); broker adapters live beside it.

Only the in-process bus is re-exported here, so importing this package never imports a
broker SDK.
"""

from tipoff.adapters.bus.memory import DeadLetter, MemoryBus

__all__ = ["DeadLetter", "MemoryBus"]
