-- Run by the postgres image's entrypoint when it creates a new data
-- directory, in database $POSTGRES_DB (default postgres).
CREATE EXTENSION IF NOT EXISTS phantomdb;
