DROP INDEX applications_challenge;
