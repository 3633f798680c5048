"""Store adapters (SQLAlchemy Core): SQLite embedded, PostgreSQL for scale-out."""
