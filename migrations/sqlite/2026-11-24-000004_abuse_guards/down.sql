DROP TABLE rate_counters;
DROP TABLE webhook_deliveries;
