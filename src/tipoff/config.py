"""Settings: one frozen object built from a mapping (the environment in production, dicts in tests).

Every variable has the prefix ``TIPOFF_``. Adapters never read the environment themselves;
secrets are ``SecretStr`` so they are masked in repr, logs and ``tipoff config show``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from tipoff.errors import ConfigurationError

PREFIX = "TIPOFF_"
DEFAULT_STORE_URL = "sqlite:///./tipoff.db"


class Settings(BaseModel):
    """The effective configuration of one tipoff process."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store_url: str = DEFAULT_STORE_URL
    bus_url: str = "memory://"
    model_dir: Path = Path("./models")
    slack_webhook_url: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_to: str | None = None
    smtp_starttls: bool = False

    @classmethod
    def from_mapping(cls, env: Mapping[str, str], **overrides: Any) -> Settings:
        """Build settings from ``TIPOFF_*`` keys of ``env``; explicit overrides win when not None."""
        values: dict[str, Any] = {
            key[len(PREFIX):].lower(): value
            for key, value in env.items()
            if key.startswith(PREFIX) and key[len(PREFIX):].lower() in cls.model_fields
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigurationError(f"invalid configuration: {exc}") from exc

    def masked(self) -> dict[str, str]:
        """Every setting as text, secrets replaced by ``********``."""
        shown = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            shown[PREFIX + name.upper()] = "" if value is None else str(value)
        return shown
