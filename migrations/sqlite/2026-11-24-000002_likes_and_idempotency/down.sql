DROP TABLE idempotency_keys;
DROP TABLE image_likes;
