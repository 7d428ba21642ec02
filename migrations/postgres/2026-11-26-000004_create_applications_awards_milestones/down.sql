DROP TABLE milestones;
DROP TABLE awards;
DROP TABLE applications;
