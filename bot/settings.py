"""Settings from the environment (and `.env`), with the Bot Framework's own names."""

from __future__ import annotations

import ipaddress
import secrets
from enum import StrEnum
from types import SimpleNamespace
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/waypoint.db"
# AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER (public cloud).
CHANNEL_TOKEN_ISSUER = "https://api.botframework.com"
# The Teams connectors Microsoft documents (public, GCC, GCC High, DoD) and the
# Bot Framework's own.
TEAMS_SERVICE_HOSTS = (
    "smba.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
    "*.botframework.com",
)


# Signs dashboard links in development when WAYPOINT_DASHBOARD_SECRET is unset: one
# process, so links work until it restarts. Never used with credentials (production),
# where several replicas must verify each other's links: there the secret is set, or
# the dashboard is off.
_DEVELOPMENT_DASHBOARD_SECRET = secrets.token_bytes(32)
# Shorter secrets are refused: a guessable key would let anyone sign a link.
DASHBOARD_SECRET_MIN_LENGTH = 32
# Entra ID's signing keys for every tenant (public cloud): Teams SSO tokens are
# signed with one of these.
ENTRA_SIGNING_KEYS_URL = "https://login.microsoftonline.com/common/discovery/v2.0/keys"


class AppType(StrEnum):
    multi_tenant = "MultiTenant"
    single_tenant = "SingleTenant"
    user_assigned_msi = "UserAssignedMSI"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class StartupRefused(RuntimeError):
    """Waypoint will not start with these settings; the message says why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, case_sensitive=True
    )

    app_id: str = Field(default="", validation_alias="MicrosoftAppId")
    app_password: SecretStr = Field(default=SecretStr(""), validation_alias="MicrosoftAppPassword")
    app_type: AppType = Field(default=AppType.multi_tenant, validation_alias="MicrosoftAppType")
    app_tenant_id: str = Field(default="", validation_alias="MicrosoftAppTenantId")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL, validation_alias="WAYPOINT_DATABASE_URL"
    )
    host: str = Field(default="127.0.0.1", validation_alias="WAYPOINT_HOST")
    port: int = Field(default=3978, ge=1, le=65535, validation_alias="WAYPOINT_PORT")
    log_format: LogFormat = Field(default=LogFormat.text, validation_alias="WAYPOINT_LOG_FORMAT")
    log_level: str = Field(default="INFO", validation_alias="WAYPOINT_LOG_LEVEL")
    # Compose each trust's weekly digest at its slot from inside `waypoint serve`.
    # Off when an external scheduler runs `waypoint digest run` instead.
    digest_scheduler: bool = Field(default=True, validation_alias="WAYPOINT_DIGEST_SCHEDULER")
    # Seconds between the scheduler's ticks (each replica's; composing is once per
    # trust and week however many tick). The cluster test ticks every 2 s.
    scheduler_every: float = Field(default=60.0, gt=0, validation_alias="WAYPOINT_SCHEDULER_EVERY")
    # Request bodies above this are refused with 413 before they are parsed.
    max_body_bytes: int = Field(default=256 * 1024, validation_alias="WAYPOINT_MAX_BODY_BYTES")
    # GET /metrics (Prometheus) is served by `waypoint serve` on a port of its own, never
    # on the port Teams posts to; loopback by default (README, Configuration). 0: off.
    metrics_host: str = Field(default="127.0.0.1", validation_alias="WAYPOINT_METRICS_HOST")
    metrics_port: int = Field(
        default=9464, ge=0, le=65535, validation_alias="WAYPOINT_METRICS_PORT"
    )

    # The HMAC key of signed dashboard links (bot/dashboard/links.py): at least 32
    # characters, the same on every replica. Unset in development, a random one per
    # process; unset with credentials, the dashboard is off (README, Configuration).
    dashboard_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias="WAYPOINT_DASHBOARD_SECRET"
    )
    # The address people reach Waypoint at (https://waypoint.example.org), for the
    # dashboard links Waypoint hands out. Unset in development: http://host:port.
    public_url: str = Field(default="", validation_alias="WAYPOINT_PUBLIC_URL")

    # Where channel tokens are checked. Left empty, the SDK's public-cloud defaults
    # apply; tests and sovereign clouds point these elsewhere.
    openid_metadata_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL", "WAYPOINT_OPENID_METADATA_URL"
        ),
    )
    token_issuer: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TO_BOT_FROM_CHANNEL_TOKEN_ISSUER", "WAYPOINT_TOKEN_ISSUER"),
    )
    # Channels whose activities are served (Teams, which the Agents Playground also
    # claims to be). Any other channel lets its client write channelData itself.
    allowed_channels: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset({"msteams"}), validation_alias="WAYPOINT_ALLOWED_CHANNELS"
    )
    # Hosts a process with credentials sends to (and so hands its token to), over
    # https only; "*.example.com" also allows its subdomains. The defaults are the Bot
    # Framework's and Teams' public, GCC, GCC High and DoD connectors.
    service_url_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=TEAMS_SERVICE_HOSTS, validation_alias="WAYPOINT_SERVICE_URL_HOSTS"
    )

    # The dashboard tab's single sign-on (bot/dashboard/sso.py). Where Entra ID's
    # signing keys are read (tests and sovereign clouds point elsewhere), and the
    # application ID URI the app registration exposes (api://<domain>/<app id>);
    # unset, it is made from WAYPOINT_PUBLIC_URL's host and MicrosoftAppId, as the
    # manifest's webApplicationInfo is (README, "Dashboard in Teams (SSO)").
    sso_jwks_url: str = Field(
        default=ENTRA_SIGNING_KEYS_URL, validation_alias="WAYPOINT_SSO_JWKS_URL"
    )
    sso_app_id_uri: str = Field(default="", validation_alias="WAYPOINT_SSO_APP_ID_URI")

    @field_validator("allowed_channels", mode="before")
    @classmethod
    def _channel_list(cls, value: object) -> object:
        return frozenset(_comma_list(value)) if isinstance(value, str) else value

    @field_validator("service_url_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = _comma_list(value)
        if isinstance(value, list | tuple | set | frozenset):
            return tuple(str(host).lower() for host in value)
        return value

    @property
    def channel_token_issuer(self) -> str:
        """The only issuer whose tokens are accepted: the channel's, never the Emulator's."""
        return self.token_issuer or CHANNEL_TOKEN_ISSUER

    @property
    def anonymous(self) -> bool:
        """No Bot Framework credentials: development mode, loopback only."""
        return not self.app_id

    @property
    def dashboard_key(self) -> bytes | None:
        """The key dashboard links are signed with; None: the dashboard is off
        (credentials without WAYPOINT_DASHBOARD_SECRET)."""
        configured = self.dashboard_secret.get_secret_value()
        if configured:
            return configured.encode()
        return _DEVELOPMENT_DASHBOARD_SECRET if self.anonymous else None

    @property
    def dashboard_base_url(self) -> str | None:
        """Where dashboard links point; None when Waypoint does not know its address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        if self.anonymous:
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"http://{host}:{self.port}"
        return None

    @property
    def sso_audiences(self) -> frozenset[str]:
        """The audiences a tab's SSO token may name: the app's id (v2 tokens) and its
        application ID URI (v1 tokens). Empty: single sign-on is off."""
        # Entra writes the app id in lower case; the setting may not be.
        audiences = {self.app_id, self.app_id.lower()} if self.app_id else set()
        uri = self.sso_app_id_uri or app_id_uri(self.public_url, self.app_id)
        if uri:
            audiences.add(uri)
        return frozenset(audiences)

    def check_startup(self) -> None:
        """Refuse to serve anonymously anywhere but loopback, with half the credentials,
        or with a dashboard secret short enough to guess."""
        configured = self.dashboard_secret.get_secret_value()
        if configured and len(configured) < DASHBOARD_SECRET_MIN_LENGTH:
            raise StartupRefused(
                f"WAYPOINT_DASHBOARD_SECRET is shorter than {DASHBOARD_SECRET_MIN_LENGTH} "
                "characters: use a long random value (python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        if self.anonymous:
            if not is_loopback(self.host):
                raise StartupRefused(
                    f"refusing to listen on {self.host} without Bot Framework credentials: "
                    "set MicrosoftAppId and MicrosoftAppPassword (production), or listen on "
                    "127.0.0.1 for local development"
                )
            return
        if (
            self.app_type is not AppType.user_assigned_msi
            and not self.app_password.get_secret_value()
        ):
            raise StartupRefused("MicrosoftAppId is set but MicrosoftAppPassword is empty")
        if self.app_type is not AppType.multi_tenant and not self.app_tenant_id:
            raise StartupRefused(f"MicrosoftAppType {self.app_type} needs MicrosoftAppTenantId")

    def sdk_configuration(self) -> SimpleNamespace:
        """The attribute-style configuration object botbuilder's factories read."""
        config = SimpleNamespace(
            APP_ID=self.app_id,
            APP_PASSWORD=self.app_password.get_secret_value(),
            APP_TYPE=self.app_type.value,
            APP_TENANTID=self.app_tenant_id,
        )
        if self.openid_metadata_url:
            config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = self.openid_metadata_url
        if self.token_issuer:
            config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = self.token_issuer
        return config


def app_id_uri(public_url: str, app_id: str) -> str | None:
    """The application ID URI Teams asks Entra ID for (`api://<domain>/<app id>`, the
    manifest's webApplicationInfo.resource); None without an address or an app id."""
    host = urlsplit(public_url).netloc.lower() if public_url else None
    return f"api://{host}/{app_id.lower()}" if host and app_id else None


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
