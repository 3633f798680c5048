"""Alert channels: ``LogAlerter`` (always on), ``SlackAlerter`` and ``EmailAlerter``.

Each has a ``name`` (its channel in the alert log) and ``send(alert)``, which returns on
delivery and raises ``TransientError``/``PermanentError`` otherwise. Error messages, reprs and
tracebacks never carry the webhook URL or the SMTP password: SDK errors are translated into a
scrubbed message and deliberately not chained, because a chained SDK traceback (rendered with
frame locals by structlog's default console renderer) would show them.

Modules are imported on demand so a log-only setup needs neither httpx nor an SMTP server.
"""
