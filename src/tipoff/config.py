"""Settings: one frozen object built from a mapping (the environment in production, dicts in tests).

Every variable has the prefix ``TIPOFF_``. Adapters never read the environment themselves;
secrets are ``SecretStr`` so they are masked in repr, logs and ``tipoff config show``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from tipoff.errors import ConfigurationError

PREFIX = "TIPOFF_"
DEFAULT_STORE_URL = "sqlite:///./tipoff.db"
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"


class Settings(BaseModel):
    """The effective configuration of one tipoff process."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store_url: str = DEFAULT_STORE_URL
    bus_url: str = "memory://"
    warehouse_url: str | None = None  # bigquery://PROJECT/DATASET[?endpoint=URL]
    model_dir: Path = Path("./models")
    slack_webhook_url: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_to: str | None = None
    smtp_starttls: bool = False
    # Who may call the coordinator (SPEC.md §7; README "Security").
    auth: Literal["token", "oidc"] = "token"
    api_token: SecretStr | None = None
    token_file: Path | None = None
    scheduler_token: SecretStr | None = None
    oidc_audience: str | None = None
    oidc_service_accounts: str = ""
    oidc_scheduler_accounts: str = ""
    oidc_certs_url: str = GOOGLE_CERTS_URL
    metrics_public: bool = False

    def bearer_token(self) -> SecretStr | None:
        """The API token: ``TIPOFF_API_TOKEN``, else the first line of ``TIPOFF_TOKEN_FILE``."""
        if self.api_token is not None or self.token_file is None:
            return self.api_token
        try:
            text = self.token_file.read_text().strip()
        except OSError as exc:
            raise ConfigurationError(f"cannot read the token file {self.token_file}: {exc}") from exc
        if not text:
            raise ConfigurationError(f"the token file {self.token_file} is empty")
        return SecretStr(text)

    def has_credential(self) -> bool:
        """Whether callers must present a credential (a token or OIDC is configured)."""
        if self.auth == "oidc":
            return bool(self.oidc_audience)
        return self.bearer_token() is not None

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
            elif name.endswith("_url") and isinstance(value, str):
                value = mask_url_password(value)
            shown[PREFIX + name.upper()] = "" if value is None else str(value)
        return shown


def mask_url_password(url: str) -> str:
    """``scheme://user:***@host/…``: the password inside a URL masked, the rest kept."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
