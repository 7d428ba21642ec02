ALTER TABLE milestones DROP COLUMN invoiced_on;
