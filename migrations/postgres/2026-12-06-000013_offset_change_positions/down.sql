ALTER TABLE changes ALTER COLUMN txid SET DEFAULT txid_current();
DROP FUNCTION change_position_horizon();
DROP FUNCTION change_position_txid();
DROP TABLE change_position_offset;
