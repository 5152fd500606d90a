DROP TABLE server_secrets;
DROP TABLE live_instances;
DROP TABLE live_streams;
DROP TRIGGER credit_accounts_live_update;
DROP TRIGGER credit_accounts_live_insert;
DROP TRIGGER image_generations_live_status;
DROP TRIGGER image_generations_live_insert;
DROP TABLE live_events;
