-- The challenge totals count applications per challenge on every page of challenges: without
-- this index each count reads the whole table.
CREATE INDEX applications_challenge ON applications (challenge_id, id);
