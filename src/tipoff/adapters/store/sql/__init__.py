"""The SQL store (SQLite and PostgreSQL): one schema, queries grouped by role."""
