DROP TABLE audit_log;
DROP TABLE auth_throttle;
DROP TABLE refresh_tokens;
DROP TABLE api_clients;
DROP TABLE memberships;
DROP TABLE users;
