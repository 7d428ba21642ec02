DROP TABLE organisations;
