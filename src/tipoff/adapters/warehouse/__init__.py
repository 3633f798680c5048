"""Analytics warehouses: BigQuery (``bigquery.py``), read for stage 4 inputs, written with outputs."""
