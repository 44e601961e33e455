/** A SQL deployment's script before the step, as the flow and end-to-end tests seed it. */
export const PREVIOUS_SCRIPT = [
  "CREATE TEMPORARY TABLE src (s VARCHAR) WITH ('connector' = 'datagen');",
  "CREATE TEMPORARY TABLE snk (s VARCHAR) WITH ('connector' = 'print');",
  'INSERT INTO snk SELECT s FROM src;',
  '',
].join('\n');
