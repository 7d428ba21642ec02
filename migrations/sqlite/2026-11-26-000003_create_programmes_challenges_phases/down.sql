DROP TABLE phases;
DROP TABLE challenges;
DROP TABLE programmes;
