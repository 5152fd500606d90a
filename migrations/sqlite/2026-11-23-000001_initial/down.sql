DROP TABLE credit_entries;
DROP TABLE credit_accounts;
DROP TABLE profiles;
DROP TABLE images;
DROP TABLE image_generations;
DROP TABLE models;
