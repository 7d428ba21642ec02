DROP TABLE awards;
DROP TABLE applications;
