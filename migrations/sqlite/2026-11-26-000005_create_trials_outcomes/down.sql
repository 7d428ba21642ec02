DROP TABLE outcomes;
DROP TABLE trials;
