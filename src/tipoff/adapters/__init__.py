"""Adapters: the only code that talks to databases, brokers, clocks and alert channels."""
