DROP TABLE import_results;
DROP TABLE import_chunks;
DROP TABLE imports;
