-- PostgreSQL's change positions gain an offset (see migrations/postgres). SQLite orders changes by
-- their sequence alone, so there is nothing to change here; the folder keeps both backends' lists
-- of migrations the same.
SELECT 1;
