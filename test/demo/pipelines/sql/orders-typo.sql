-- Big orders, in cents, into PostgreSQL: a SQL deployment from the repository.
-- The UDF comes from the JAR the pipeline uploads (additionalDependencies).
CREATE TEMPORARY FUNCTION to_cents AS 'com.example.udf.ToCents';

CREATE TEMPORARY TABLE orders (
  order_id BIGINT,
  amount   DOUBLE,
  ts       TIMESTAMP(3)
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '10'
);

CREATE TEMPORARY TABLE big_orders (
  order_id BIGINT,
  cents    BIGINT
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://orders-db:5432/shop',
  'table-name' = 'big_orders',
  'username' = 'flink',
  'password' = 'demo-db-password-5f2a'
);

INSERT INTO big_order
SELECT order_id, to_cents(amount)
FROM orders
WHERE amount > 100;
