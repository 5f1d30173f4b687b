"""One `Settings` object, read from the environment and an optional `.env` file."""

from __future__ import annotations

import threading
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting the workbench reads. Each field is documented in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: str = Field(
        "production",
        description="'development' shows full error details in the UI; anything else hides them.",
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the metadata database. Empty: a SQLite file under DATA_DIR. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    data_dir: Path = Field(
        Path("data"), description="Folder for datasets (Parquet), models, documents and the SQLite file; or an "
        "S3-compatible bucket URL (s3://bucket/prefix) that the app and workers on several machines share: datasets, "
        "models and documents then live in the bucket and DATA_CACHE_DIR holds the local working copies."
    )
    data_store: str = Field(
        "", description="Set from DATA_DIR when it is an s3:// URL (leave empty; an s3:// URL here works too)."
    )
    data_cache_dir: Path = Field(
        Path("data"), description="Local folder used when DATA_DIR is an s3:// URL: cached copies of stored files, "
        "temporary files, the embedded SQLite file and Chroma store."
    )
    s3_endpoint_url: str = Field(
        "", description="Endpoint of the S3-compatible store (e.g. http://minio:9000). Empty: AWS S3."
    )
    s3_region: str = Field("us-east-1", description="Region of the S3 bucket.")
    s3_access_key_id: str = Field("", description="Access key id for the S3 bucket. Empty: the AWS default chain.")
    s3_secret_access_key: SecretStr | None = Field(None, description="Secret access key for the S3 bucket.")
    redis_url: str = Field(
        "",
        description="Redis URL for the Dramatiq broker. Empty: an in-process worker (embedded mode).",
    )
    chroma_host: str = Field(
        "", description="Chroma server host. Empty: an embedded Chroma store under DATA_DIR/chroma."
    )
    chroma_port: int = Field(8000, description="Chroma server port, used when CHROMA_HOST is set.")
    openai_api_key: SecretStr | None = Field(
        None, description="API key for an OpenAI-compatible endpoint. Empty: the offline planner answers."
    )
    openai_base_url: str = Field(
        "", description="Base URL of an OpenAI-compatible API (Ollama, vLLM). Empty: api.openai.com."
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model name used by the agents.")
    llm_timeout_s: float = Field(60.0, description="Seconds to wait for one LLM response.")
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Embedding model: the bundled local 'all-MiniLM-L6-v2', or an OpenAI model "
        "such as 'text-embedding-3-large'.",
    )
    embedding_batch_size: int = Field(64, description="Texts embedded per batch when indexing documents.")
    rag_chunk_size: int = Field(1000, description="Characters per document chunk for retrieval.")
    rag_chunk_overlap: int = Field(150, description="Characters shared by neighbouring chunks.")
    llm_max_tool_rounds: int = Field(8, description="Most tool-call rounds the agents make for one message.")
    llm_context_tokens: int = Field(12000, description="Token budget of the conversation memory sent to the LLM.")
    llm_max_handoffs: int = Field(2, description="Most hand-offs between specialists in one answer.")
    api_tokens: SecretStr | None = Field(
        None, description="Comma-separated bearer tokens (each at least 16 characters) that MCP and A2A over HTTP "
        "accept. Required for a bind other than loopback and in deployed mode; only their SHA-256 digests are kept."
    )
    mcp_token: SecretStr | None = Field(
        None, description="Older name for one more API token (kept working: it is accepted by MCP and A2A alike)."
    )
    mcp_allowed_hosts: str = Field(
        "", description="Extra Host header values the MCP HTTP server accepts (comma-separated, e.g. "
        "'mcp.example.org,10.0.0.5:8765'); loopback names are always accepted."
    )
    a2a_allowed_hosts: str = Field(
        "", description="Extra Host header values the A2A server accepts (comma-separated, e.g. "
        "'agents.example.org,10.0.0.5:8766'); loopback names and the bound address are always accepted."
    )
    a2a_public_url: str = Field(
        "", description="Base URL written in the A2A agent cards (e.g. https://agents.example.org). Empty: "
        "http://<host>:<port> of the server."
    )
    a2a_max_request_kb: int = Field(
        1024, description="Largest A2A request body, in kilobytes; a bigger one is refused before it is read."
    )
    kaggle_username: str = Field("", description="Kaggle user name for dataset imports.")
    kaggle_key: SecretStr | None = Field(None, description="Kaggle API key for dataset imports.")
    kaggle_api_url: str = Field(
        "", description="Kaggle API base URL. Empty: the public Kaggle API (tests point it at a local server)."
    )
    serpapi_url: str = Field("https://serpapi.com/search", description="SerpAPI search endpoint.")
    serpapi_api_key: SecretStr | None = Field(
        None, description="SerpAPI key. When set, the agents get a web_search tool."
    )
    max_upload_mb: int = Field(200, description="Largest file, in megabytes, that may be imported.")
    url_timeout_s: float = Field(30.0, description="Seconds to wait for a URL import before giving up.")
    url_max_redirects: int = Field(5, description="Most redirects a URL import follows.")
    url_allow_private: bool = Field(
        False, description="Let URL imports reach loopback, private, link-local and other internal addresses "
        "(only for deployments that import from their own network)."
    )
    url_allowed_hosts: str = Field(
        "", description="Comma-separated host names or IP addresses that URL imports may reach even when "
        "they resolve to internal addresses (e.g. 'files.intranet,10.0.0.5')."
    )
    import_max_cells: int = Field(
        10_000_000, description="Most cells (rows x columns) read from a spreadsheet sheet, or made by JSON "
        "records whose keys differ (a mostly empty table); a file declaring or holding more is refused before "
        "it fills the memory."
    )
    import_max_json_depth: int = Field(64, description="Deepest nesting of objects and arrays accepted in JSON.")
    import_max_memory_mb: int = Field(
        4096, description="Most memory, in megabytes, a Parquet or Feather/Arrow file may declare or take once "
        "read (their size on disk says little: compressed columns can expand a thousandfold)."
    )
    sql_timeout_s: float = Field(30.0, description="Seconds a SQL query may run before it is stopped.")
    sql_max_rows: int = Field(10000, description="Default row limit of SQL query results.")
    db_import_timeout_s: float = Field(
        600.0, description="Seconds one statement of a database import may run on the source database."
    )
    duckdb_memory_limit: str = Field(
        "2GB", description="Memory limit of every DuckDB database the workbench opens (SQL, filters, cleaning)."
    )
    duckdb_threads: int = Field(2, description="Threads each DuckDB database may use.")
    duckdb_timeout_s: float = Field(
        300.0, description="Seconds a DuckDB cursor for previews, filters, cleaning or export may work before it is "
        "interrupted (SQL queries use SQL_TIMEOUT_S)."
    )
    duckdb_max_temp_size: str = Field("4GB", description="Most disk DuckDB may spill to under DATA_DIR/tmp.")
    sql_max_generated: int = Field(
        1_000_000, description="Most values or characters one generating function call (range, repeat, lpad, "
        "printf widths ...) may produce in SQL, filters and derived columns."
    )
    sql_max_result_mb: int = Field(
        256, description="Most megabytes of values one SQL query result may hold (DuckDB and external databases); "
        "a larger result stops with a clear error while it is fetched."
    )
    job_heartbeat_timeout_s: int = Field(
        120, description="A running job whose heartbeat is older than this is marked failed ('worker lost')."
    )
    job_requeue_grace_s: int = Field(
        30, description="A queued job whose queue message has been missing this long is queued again (lost message)."
    )
    sign_in: bool = Field(
        False, description="Require sign-in with OpenID Connect (Streamlit's `st.login`; the provider goes in "
        "`.streamlit/secrets.toml` under [auth]). Every item then has an owner and is private until shared. "
        "Off: one local user, no sign-in (the embedded default).",
    )
    admins: str = Field(
        "", description="Comma-separated e-mail addresses or subjects of administrators (sign-in mode). "
        "The first user to sign in is one as well.",
    )
    job_max_requeues: int = Field(
        3, description="How often a job whose queue message was lost is queued again before it is marked failed."
    )
    worker_threads: int = Field(2, description="Threads of the in-process worker in embedded mode.")
    scheduler_in_app: bool = Field(
        True, description="Embedded mode (no REDIS_URL): run the schedules inside the app process. "
        "Deployed mode ignores it: the `scheduler` service runs them."
    )
    scheduler_tick_s: float = Field(
        15.0, gt=0, le=600,
        description="Seconds between scheduler rounds (each enqueues the scheduled runs that are due)."
    )
    log_level: str = Field("INFO", description="Logging level: DEBUG, INFO, WARNING or ERROR.")
    model_signing_key: SecretStr | None = Field(
        None,
        description="Secret (at least 32 characters) that signs model files with an HMAC; the same value on "
        "the app and every worker. Empty: a key file (MODEL_KEY_FILE) is created on first use.",
    )
    model_key_file: Path | None = Field(
        None,
        description="Key file used when MODEL_SIGNING_KEY is empty; must lie outside DATA_DIR. "
        "Empty: $XDG_CONFIG_HOME/workbench/model-signing.key (~/.config/workbench/model-signing.key).",
    )

    @model_validator(mode="before")
    @classmethod
    def _bucket_data_dir(cls, values: object) -> object:
        """DATA_DIR=s3://bucket/prefix moves the URL to `data_store`; `data_dir` becomes the local cache folder."""
        if not isinstance(values, dict):
            return values
        raw = str(values.get("data_dir") or "")
        if raw.lower().startswith("s3://"):
            values = {**values, "data_store": raw, "data_dir": values.get("data_cache_dir") or "data"}
        return values

    @field_validator("data_store")
    @classmethod
    def _bucket_url(cls, value: str) -> str:
        """An s3:// URL naming a bucket, or empty."""
        value = value.strip()
        if value and (not value.lower().startswith("s3://") or not value[5:].strip("/")):
            raise ValueError(f"DATA_DIR {value!r} is not a bucket URL: use s3://bucket or s3://bucket/prefix.")
        return value

    @field_validator("openai_api_key", "kaggle_key", "serpapi_api_key", "mcp_token", "api_tokens", "s3_secret_access_key",
                     mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        """An empty variable (KEY=) means 'not set', not an empty key."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("model_signing_key", "model_key_file", mode="before")
    @classmethod
    def _empty_model_key_is_unset(cls, value: object) -> object:
        """MODEL_SIGNING_KEY= or MODEL_KEY_FILE= (empty) means 'not set'."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def resolved_database_url(self) -> str:
        """The database URL in use: DATABASE_URL, else a SQLite file under DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'workbench.db').resolve()}"

    @property
    def embedded(self) -> bool:
        """True when jobs run in-process (no Redis configured)."""
        return not self.redis_url


_settings: Settings | None = None
_settings_lock = threading.Lock()  # read and replaced under it: a thread that read the environment before a
# reload can never store its stale settings over the reloaded ones (lru_cache let it)


def _load() -> Settings:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def get_settings() -> Settings:
    """The settings of this process (read once; see `reload_settings`)."""
    global _settings
    settings = _settings
    if settings is None:
        with _settings_lock:
            if _settings is None:
                _settings = _load()
            settings = _settings
    return settings


def reload_settings() -> Settings:
    """Re-read the environment (tests and the Settings page use this)."""
    global _settings
    with _settings_lock:
        _settings = _load()
        return _settings


def forget_settings() -> None:
    """Drop the settings read so far; the next `get_settings` reads the environment (a forked child's)."""
    global _settings
    with _settings_lock:
        _settings = None
