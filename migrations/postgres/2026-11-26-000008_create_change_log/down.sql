DROP TABLE change_log_pruned;
DROP TABLE changes;
